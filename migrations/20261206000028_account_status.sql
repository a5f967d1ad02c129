-- Accounts can be managed (issue 20 item 14): a user is `active`, `suspended` (signs in no
-- more, its sessions ended; an administrator may reinstate it) or `closed` (for ever); nothing
-- is deleted. The same status model as the registry's suspend / reinstate / close (issue 21).
-- Existing users stay active.
ALTER TABLE users
    ADD COLUMN status            text NOT NULL DEFAULT 'active'
                                 CHECK (status IN ('active', 'suspended', 'closed')),
    ADD COLUMN status_reason     text,
    ADD COLUMN status_changed_at timestamptz;

-- Sessions get a non-secret id (the token's hash is never shown) and the address they were
-- started from. Existing sessions are numbered as they are; their address is unknown.
ALTER TABLE sessions
    ADD COLUMN id          bigserial,
    ADD COLUMN source_addr text;
CREATE UNIQUE INDEX sessions_id ON sessions (id);
