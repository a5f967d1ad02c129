-- Status instead of delete (issue 21 item 2): who suspended a record. A record a regulator
-- suspended is reinstated by a regulator only (an enterprise must not lift a regulator's
-- sanction); one its own enterprise suspended, by either. Existing records were suspended by
-- no one (every one is active or, for revoked devices, closed).
ALTER TABLE enterprises ADD COLUMN suspended_by_regulator boolean NOT NULL DEFAULT false;
ALTER TABLE stations    ADD COLUMN suspended_by_regulator boolean NOT NULL DEFAULT false;
ALTER TABLE staff       ADD COLUMN suspended_by_regulator boolean NOT NULL DEFAULT false;
ALTER TABLE vehicles    ADD COLUMN suspended_by_regulator boolean NOT NULL DEFAULT false;
ALTER TABLE devices     ADD COLUMN suspended_by_regulator boolean NOT NULL DEFAULT false;
