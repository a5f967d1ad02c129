-- The registry lives (issue 21): every record carries a version (a PATCH names the one it
-- read: `If-Match`, 412 when stale) and a status instead of a delete (`active`, `suspended`
-- — refused at the gun, R13, until reinstated — or `closed` for ever), the same model as the
-- users' (migration 0028). Every change is kept as a revision (who, when, before → after).
-- Existing records start at version 1, active; a revoked device is closed.

ALTER TABLE enterprises
    ADD COLUMN version           bigint NOT NULL DEFAULT 1,
    ADD COLUMN status            text NOT NULL DEFAULT 'active'
                                 CHECK (status IN ('active', 'suspended', 'closed')),
    ADD COLUMN status_reason     text,
    ADD COLUMN status_changed_at timestamptz;
ALTER TABLE stations
    ADD COLUMN version           bigint NOT NULL DEFAULT 1,
    ADD COLUMN status            text NOT NULL DEFAULT 'active'
                                 CHECK (status IN ('active', 'suspended', 'closed')),
    ADD COLUMN status_reason     text,
    ADD COLUMN status_changed_at timestamptz;
ALTER TABLE customers
    ADD COLUMN version           bigint NOT NULL DEFAULT 1,
    ADD COLUMN status            text NOT NULL DEFAULT 'active'
                                 CHECK (status IN ('active', 'suspended', 'closed')),
    ADD COLUMN status_reason     text,
    ADD COLUMN status_changed_at timestamptz;
ALTER TABLE staff
    ADD COLUMN version           bigint NOT NULL DEFAULT 1,
    ADD COLUMN status            text NOT NULL DEFAULT 'active'
                                 CHECK (status IN ('active', 'suspended', 'closed')),
    ADD COLUMN status_reason     text,
    ADD COLUMN status_changed_at timestamptz;
ALTER TABLE vehicles
    ADD COLUMN version           bigint NOT NULL DEFAULT 1,
    ADD COLUMN status            text NOT NULL DEFAULT 'active'
                                 CHECK (status IN ('active', 'suspended', 'closed')),
    ADD COLUMN status_reason     text,
    ADD COLUMN status_changed_at timestamptz;
ALTER TABLE devices
    ADD COLUMN version           bigint NOT NULL DEFAULT 1,
    ADD COLUMN status            text NOT NULL DEFAULT 'active'
                                 CHECK (status IN ('active', 'suspended', 'closed')),
    ADD COLUMN status_reason     text,
    ADD COLUMN status_changed_at timestamptz;
UPDATE devices SET status = 'closed', status_changed_at = revoked_at WHERE revoked_at IS NOT NULL;
ALTER TABLE geofences
    ADD COLUMN version           bigint NOT NULL DEFAULT 1,
    ADD COLUMN status            text NOT NULL DEFAULT 'active'
                                 CHECK (status IN ('active', 'suspended', 'closed')),
    ADD COLUMN status_reason     text,
    ADD COLUMN status_changed_at timestamptz;
ALTER TABLE cylinders
    ADD COLUMN version           bigint NOT NULL DEFAULT 1;
ALTER TABLE users
    ADD COLUMN version           bigint NOT NULL DEFAULT 1;

-- What changed, by whom, when: one row per new version of a record. `record_kind` is the
-- collection (`enterprises`, `stations`, `staff`, `vehicles`, `customers`, `geofences`,
-- `cylinders`, `devices`, `users`), `record_key` its code (staff: `enterprise_code/staff_no`;
-- geofences: the id), `changes` {field: [before, after]}. Append-only, as the audit log.
CREATE TABLE revisions (
    id          bigserial PRIMARY KEY,
    record_kind text NOT NULL,
    record_key  text NOT NULL,
    version     bigint NOT NULL,
    at          timestamptz NOT NULL DEFAULT now(),
    by_actor    text NOT NULL,
    reason      text,
    changes     jsonb NOT NULL,
    UNIQUE (record_kind, record_key, version)
);
CREATE FUNCTION revisions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'revisions are append-only';
END
$$;
CREATE TRIGGER revisions_no_update BEFORE UPDATE OR DELETE ON revisions
    FOR EACH ROW EXECUTE FUNCTION revisions_append_only();
CREATE TRIGGER revisions_no_truncate BEFORE TRUNCATE ON revisions
    FOR EACH STATEMENT EXECUTE FUNCTION revisions_append_only();
REVOKE UPDATE, DELETE, TRUNCATE ON revisions FROM CURRENT_USER;
