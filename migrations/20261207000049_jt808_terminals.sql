-- Issue 23: JT/T 808 vehicle terminals are devices of kind 'jt808', known by the terminal
-- number their message headers carry (12 BCD digits for the 2013 edition, 20 for 2019). The
-- authentication code the platform hands a terminal at registration (0x8100) is kept hashed,
-- like device keys; a terminal registering again gets a new one.
ALTER TABLE devices DROP CONSTRAINT devices_kind_check;
ALTER TABLE devices ADD CONSTRAINT devices_kind_check
    CHECK (kind IN ('gps', 'reader', 'controller', 'phone', 'jt808'));
ALTER TABLE devices ADD COLUMN terminal_no text
    CHECK (terminal_no ~ '^([0-9]{12}|[0-9]{20})$');
ALTER TABLE devices ADD COLUMN jt808_auth_hash text;
ALTER TABLE devices ADD CONSTRAINT devices_terminal_no_kind
    CHECK ((kind = 'jt808') = (terminal_no IS NOT NULL));
CREATE UNIQUE INDEX devices_terminal_no_key ON devices (terminal_no) WHERE terminal_no IS NOT NULL;
