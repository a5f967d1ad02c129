-- Inspection bodies (检验机构) are granted by a regulator, not self-declared (issue 20, item 1).
-- A station of kind 'inspection' lets its enterprise's devices report inspections only once
-- an administrator or the city regulator has granted it: a station they create is granted at
-- once; one created before this migration (by anyone, an enterprise admin included) starts
-- ungranted, so no enterprise-owned inspection station can inspect until a regulator grants it.
ALTER TABLE stations ADD COLUMN inspection_granted_at timestamptz,
                     ADD COLUMN inspection_granted_by text;
ALTER TABLE stations ADD CONSTRAINT stations_grant_is_for_inspection
    CHECK (inspection_granted_at IS NULL OR kind = 'inspection');
