-- The licence pass's view (migration 0044) sees the licences issue 21 item 3 added: staff
-- certificate lists (`staff_certificates`), vehicles' road transport permits (道路运输证) and
-- customers' controlled-medium licences. Same columns, same meaning.
--
-- A staff member's certificates: per kind, the one that ends last (an old certificate kept in
-- the list beside its renewal is not "expired": the member has a valid one of that kind). The
-- licence kind stays `staff_certificate` (settings and alerts already name it). A member whose
-- list is empty keeps the old columns (a role that needs no certificate keeps what was
-- written there).
CREATE OR REPLACE VIEW licence_validity AS
    SELECT 'enterprise'::text AS subject_kind, e.code AS subject_key,
           e.code AS enterprise_code, 'filling_licence'::text AS licence_kind,
           e.filling_licence_no AS number, e.filling_licence_expires AS valid_to
    FROM enterprises e
    WHERE e.status = 'active' AND e.filling_licence_expires IS NOT NULL
    UNION ALL
    SELECT 'enterprise', e.code, e.code, 'gas_licence', e.gas_licence_no, e.gas_licence_expires
    FROM enterprises e
    WHERE e.status = 'active' AND e.gas_licence_expires IS NOT NULL
    UNION ALL
    SELECT 'staff', c.enterprise_code || '/' || c.staff_no, c.enterprise_code,
           'staff_certificate', c.number, c.valid_to
    FROM (SELECT DISTINCT ON (enterprise_code, staff_no, kind) *
          FROM staff_certificates
          ORDER BY enterprise_code, staff_no, kind, valid_to DESC, number) c
    JOIN staff s ON s.enterprise_code = c.enterprise_code AND s.staff_no = c.staff_no
    WHERE s.status = 'active'
    UNION ALL
    SELECT 'staff', s.enterprise_code || '/' || s.staff_no, s.enterprise_code,
           'staff_certificate', s.certificate_no, s.certificate_expires
    FROM staff s
    WHERE s.status = 'active' AND s.certificate_expires IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM staff_certificates c
                      WHERE c.enterprise_code = s.enterprise_code AND c.staff_no = s.staff_no)
    UNION ALL
    SELECT 'vehicle', v.plate, v.enterprise_code, 'transport_permit', v.transport_permit_no,
           v.transport_permit_expires
    FROM vehicles v
    WHERE v.status = 'active' AND v.transport_permit_expires IS NOT NULL
    UNION ALL
    SELECT 'customer', u.code, u.enterprise_code, 'consignee_licence', u.licence_no,
           u.licence_expires
    FROM customers u
    WHERE u.status = 'active' AND u.licence_expires IS NOT NULL;
