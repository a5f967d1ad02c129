-- Transfers of cylinders between enterprises (issue 21 item 4): offered by the owner, accepted
-- (or declined) by the receiver, cancelled by the offerer while offered. Accepting moves every
-- cylinder's owner and registered station at once and splits its history: each owner sees its
-- own period (`ownership_periods` keeps the periods that ended; `cylinders.owned_since` starts
-- the current one, NULL since the archive was created).

CREATE TABLE transfers (
    id                   bigserial PRIMARY KEY,
    from_enterprise_code text NOT NULL REFERENCES enterprises (code),
    to_enterprise_code   text NOT NULL REFERENCES enterprises (code),
    -- The receiver's station: the cylinders' new registered station.
    station_code         text NOT NULL REFERENCES stations (code),
    status               text NOT NULL DEFAULT 'offered'
                         CHECK (status IN ('offered', 'accepted', 'declined', 'cancelled')),
    offered_at           timestamptz NOT NULL DEFAULT now(),
    offered_by           text NOT NULL,
    decided_at           timestamptz,
    decided_by           text,
    CHECK (from_enterprise_code <> to_enterprise_code),
    CHECK ((status = 'offered') = (decided_at IS NULL))
);
CREATE INDEX transfers_from ON transfers (from_enterprise_code, id);
CREATE INDEX transfers_to ON transfers (to_enterprise_code, id);

CREATE TABLE transfer_cylinders (
    transfer_id bigint NOT NULL REFERENCES transfers (id),
    cylinder_id bigint NOT NULL REFERENCES cylinders (id),
    -- Listed in the offer's order.
    ord         integer NOT NULL,
    -- True while the transfer is offered: a cylinder is in at most one open transfer.
    open        boolean NOT NULL DEFAULT true,
    PRIMARY KEY (transfer_id, cylinder_id)
);
CREATE UNIQUE INDEX transfer_cylinders_one_open ON transfer_cylinders (cylinder_id) WHERE open;
CREATE INDEX transfer_cylinders_cylinder ON transfer_cylinders (cylinder_id);

ALTER TABLE cylinders ADD COLUMN owned_since timestamptz;

-- The owners' periods that ended: `enterprise_code` owned the cylinder from `since` (NULL:
-- since it was archived) until `until`, when `transfer_id` was accepted.
CREATE TABLE ownership_periods (
    cylinder_id     bigint NOT NULL REFERENCES cylinders (id),
    enterprise_code text NOT NULL REFERENCES enterprises (code),
    since           timestamptz,
    until           timestamptz NOT NULL,
    transfer_id     bigint NOT NULL REFERENCES transfers (id),
    PRIMARY KEY (cylinder_id, until)
);
CREATE INDEX ownership_periods_enterprise ON ownership_periods (enterprise_code, cylinder_id);
