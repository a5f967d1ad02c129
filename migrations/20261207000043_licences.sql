-- Licences and certificates with validity (issue 21 item 3).
--
-- An enterprise's filling licence gains its first valid day (R01 refuses before it too); the
-- licence's media are the enterprise's `media` (R15). Staff certificates become a list per
-- person (`staff_certificates`): 充装作业人员证 (`filling_operator`) for fillers,
-- 危险货物运输从业资格证 (`hazmat_transport`) for drivers and escorts (the table of which role
-- needs which kind is `shared::certificate::required_certificate`). The staff row's
-- `certificate_no|expires` stay, kept by the server as the summary of the list: the
-- certificate of the role's kind with the latest end (for a role that needs none, what was
-- written). Vehicles gain their road transport permit (道路运输证), customers the end of their
-- controlled-medium (N2O) licence.

ALTER TABLE enterprises
    ADD COLUMN filling_licence_valid_from date,
    ADD CONSTRAINT enterprises_filling_licence_period
        CHECK (filling_licence_valid_from IS NULL OR filling_licence_expires IS NULL
               OR filling_licence_valid_from <= filling_licence_expires);

ALTER TABLE staff DROP CONSTRAINT IF EXISTS staff_role_check;
ALTER TABLE staff ADD CONSTRAINT staff_role_check
    CHECK (role IN ('filler', 'driver', 'escort', 'warehouse', 'inspector', 'repair'));

CREATE TABLE staff_certificates (
    enterprise_code text NOT NULL,
    staff_no        text NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('filling_operator', 'hazmat_transport')),
    number          text NOT NULL,
    valid_from      date,
    valid_to        date NOT NULL,
    PRIMARY KEY (enterprise_code, staff_no, kind, number),
    FOREIGN KEY (enterprise_code, staff_no) REFERENCES staff (enterprise_code, staff_no),
    CHECK (valid_from IS NULL OR valid_from <= valid_to)
);
-- The gun's station row reads an enterprise's fillers' certificates.
CREATE INDEX staff_certificates_kind ON staff_certificates (enterprise_code, kind);

-- Existing certificates: one of the role's kind (a role that needs none keeps its columns only).
INSERT INTO staff_certificates (enterprise_code, staff_no, kind, number, valid_to)
SELECT enterprise_code, staff_no,
       CASE role WHEN 'filler' THEN 'filling_operator' ELSE 'hazmat_transport' END,
       certificate_no, certificate_expires
FROM staff
WHERE role IN ('filler', 'driver') AND certificate_no IS NOT NULL
  AND btrim(certificate_no) <> '' AND certificate_expires IS NOT NULL;

ALTER TABLE vehicles
    ADD COLUMN transport_permit_no      text,
    ADD COLUMN transport_permit_expires date;

ALTER TABLE customers
    ADD COLUMN licence_expires date;
