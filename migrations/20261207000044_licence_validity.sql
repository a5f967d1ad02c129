-- Licences with a validity (issue 21 item 3), one row per licence, for the daily licence pass
-- (`pipeline::licences`), which reads nothing else. Only active records: a suspended or closed
-- holder's licence is nobody's notice. A licence without an end date is not listed (R01
-- refuses such an enterprise anyway). Other sources (staff certificate lists, vehicle permits,
-- customers' licences) are added here by replacing the view with the same columns:
--   subject_kind    the alert's subject type: enterprise, staff, vehicle, customer
--   subject_key     its id as alerts name it (staff: `enterprise_code/staff_no`, as revisions)
--   enterprise_code the holder's enterprise: whose scope the alert is in
--   licence_kind    filling_licence, gas_licence, staff_certificate, ...
--   number          the licence's number, if known
--   valid_to        the last day it is valid (Beijing date); expired from the day after
CREATE VIEW licence_validity AS
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
    SELECT 'staff', s.enterprise_code || '/' || s.staff_no, s.enterprise_code,
           'staff_certificate', s.certificate_no, s.certificate_expires
    FROM staff s
    WHERE s.status = 'active' AND s.certificate_expires IS NOT NULL;
