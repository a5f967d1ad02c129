-- Access control: users and their sessions, device keys, who wrote which event, and the
-- append-only audit log (GB/T 22239 level 2).

CREATE TABLE users (
    id              bigserial PRIMARY KEY,
    username        text NOT NULL UNIQUE,
    password_hash   text NOT NULL,
    role            text NOT NULL CHECK (role IN ('admin', 'city_regulator', 'district_regulator',
                                                  'duty_officer', 'enterprise_admin', 'enterprise_staff')),
    enterprise_code text REFERENCES enterprises (code),
    district_code   text,
    failed_logins   integer NOT NULL DEFAULT 0,
    locked_until    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CHECK ((role IN ('enterprise_admin', 'enterprise_staff')) = (enterprise_code IS NOT NULL)),
    CHECK ((role = 'district_regulator') = (district_code IS NOT NULL))
);

-- Bearer tokens are random; only their SHA-256 is stored.
CREATE TABLE sessions (
    token_hash   text PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES users (id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz
);
CREATE INDEX sessions_user ON sessions (user_id);

ALTER TABLE devices ADD COLUMN revoked_at timestamptz;
CREATE UNIQUE INDEX devices_key_hash ON devices (key_hash) WHERE key_hash IS NOT NULL;

-- Which device (and so which enterprise) wrote each event.
ALTER TABLE events ADD COLUMN device_id text, ADD COLUMN enterprise_code text;
ALTER TABLE vehicle_positions ADD COLUMN enterprise_code text, ADD COLUMN district_code text;

-- Why a reference was not applied: unknown, or another enterprise's cylinder.
ALTER TABLE unresolved_refs ADD COLUMN reason text NOT NULL DEFAULT 'unknown',
                            ADD COLUMN enterprise_code text;

CREATE TABLE audit_log (
    id               bigserial PRIMARY KEY,
    at               timestamptz NOT NULL DEFAULT now(),
    actor            text,
    actor_kind       text NOT NULL CHECK (actor_kind IN ('user', 'device', 'anonymous', 'system')),
    actor_enterprise text,
    actor_district   text,
    action           text NOT NULL,
    target           text,
    outcome          text NOT NULL,
    status           integer,
    source_addr      text,
    details          jsonb
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_actor ON audit_log (actor, at);

-- Append-only, twice over: the application's role (the owner, which runs these migrations)
-- loses UPDATE, DELETE and TRUNCATE, and a trigger refuses them for anyone.
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM CURRENT_USER;
