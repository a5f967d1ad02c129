-- Multi-packet JT/T 808 messages (分包, issue 23): each packet of an authenticated terminal is
-- kept here before it is answered with success, so a packet the terminal was told is received
-- survives a cut connection or a restarted server; the message is put together from these rows
-- when its last packet arrives (on any instance) and they are deleted once its fixes are
-- committed. A message is known by the terminal's device, its id, its total and the serial of
-- its first packet (packets of one message take consecutive serials).
CREATE TABLE IF NOT EXISTS jt808_packets (
    device_id text NOT NULL REFERENCES devices (device_id) ON DELETE CASCADE,
    msg_id integer NOT NULL,
    first_serial integer NOT NULL,
    total integer NOT NULL CHECK (total BETWEEN 1 AND 64),
    seq integer NOT NULL CHECK (seq BETWEEN 1 AND total),
    body bytea NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (device_id, msg_id, first_serial, total, seq)
);
