-- What the licence pass has raised (issue 21 item 3): one row per alert kind, licence and end
-- date, for ever (alert sightings are forgotten after `sighting_retention_days`; a licence's
-- notice must not come back then). The row and its alert are written in one transaction; a
-- second instance's pass finds the row and raises nothing. A renewed licence (a new end date)
-- may be noticed again.
CREATE TABLE licence_notices (
    alert_kind   text NOT NULL CHECK (alert_kind IN ('licence_expiring', 'licence_expired')),
    subject_kind text NOT NULL,
    subject_key  text NOT NULL,
    licence_kind text NOT NULL,
    valid_to     date NOT NULL,
    noticed_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (alert_kind, subject_kind, subject_key, licence_kind, valid_to)
);
