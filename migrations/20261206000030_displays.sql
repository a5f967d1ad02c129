-- Command-hall walls have their own credential (issue 20 item 15): a display is a read-only
-- principal with a scope like a user's (the city, a district or an enterprise), signed in with
-- a key rather than a password, so a wall stays signed in for months without a person; an
-- action on the wall takes a person's own sign-in. A display is a `users` row of role
-- `display` (its password never verifies) with its key's hash here; revoked at once.
ALTER TABLE users
    DROP CONSTRAINT IF EXISTS users_role_check,
    DROP CONSTRAINT IF EXISTS users_check,
    DROP CONSTRAINT IF EXISTS users_check1;
ALTER TABLE users
    ADD CONSTRAINT users_role_check CHECK (role IN ('admin', 'city_regulator',
        'district_regulator', 'duty_officer', 'enterprise_admin', 'enterprise_staff', 'display')),
    ADD CONSTRAINT users_enterprise_check CHECK (role = 'display'
        OR (role IN ('enterprise_admin', 'enterprise_staff')) = (enterprise_code IS NOT NULL)),
    ADD CONSTRAINT users_district_check CHECK (role = 'display'
        OR (role = 'district_regulator') = (district_code IS NOT NULL)),
    ADD CONSTRAINT users_display_scope CHECK (role <> 'display'
        OR enterprise_code IS NULL OR district_code IS NULL);

CREATE TABLE displays (
    user_id      bigint PRIMARY KEY REFERENCES users (id),
    key_hash     text NOT NULL UNIQUE,
    created_by   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);
