-- Issue 23, MQTT: the broker commands that keep each device's MQTT credentials in step with the
-- registry, and the leases of the platform's MQTT sessions.

-- Commands for the broker's dynamic-security plugin, applied in id order and deleted once the
-- broker answered them. A `put` carries the device's key in clear (the broker keeps only its
-- salted hash): the row lives until the broker has it, normally milliseconds; a broker that is
-- down keeps it here until it is back. `disable`, `enable` and `delete` carry no secret.
CREATE TABLE mqtt_commands (
    id          bigserial PRIMARY KEY,
    device_id   text NOT NULL,
    action      text NOT NULL CHECK (action IN ('put', 'disable', 'enable', 'delete')),
    secret      text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    attempts    integer NOT NULL DEFAULT 0,
    last_error  text,
    CHECK ((action = 'put') = (secret IS NOT NULL))
);

-- One row per MQTT session (client id) subscribed to the devices' events: the instance that
-- holds it renews it; a session whose lease lapsed (its instance died) is taken over by a
-- live instance that drains what the broker queued for it, then the row is deleted.
CREATE TABLE mqtt_sessions (
    client_id   text PRIMARY KEY,
    holder      text NOT NULL,
    expires_at  timestamptz NOT NULL
);
