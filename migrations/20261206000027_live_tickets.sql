-- Single-use, 30-second tickets for the live feed's WebSocket (issue 20 item 5): a bearer
-- token never travels in a URL. Kept hashed, like tokens; redeemed by deleting the row, so a
-- ticket opens one session on whichever instance it reaches.
CREATE TABLE live_tickets (
    ticket_hash text PRIMARY KEY,
    token_hash  text NOT NULL REFERENCES sessions (token_hash),
    expires_at  timestamptz NOT NULL
);
CREATE INDEX live_tickets_expiry ON live_tickets (expires_at);
