-- Failed sign-ins are counted per (submitted user name, source address), whether or not the
-- name exists, and slow that pair down instead of locking the account for everyone: the
-- per-account lock (users.failed_logins, users.locked_until) is no longer used. Existing locks
-- are lifted so that no account stays locked under the old rule.

CREATE TABLE login_throttle (
    username       text NOT NULL,
    source_addr    text NOT NULL,
    attempts       integer NOT NULL,
    window_started timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (username, source_addr)
);
CREATE INDEX login_throttle_window ON login_throttle (window_started);

UPDATE users SET failed_logins = 0, locked_until = NULL
WHERE failed_logins <> 0 OR locked_until IS NOT NULL;
