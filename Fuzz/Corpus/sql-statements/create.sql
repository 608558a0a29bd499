-- Abuse reports, one row per `report` a user sends about their partner.
-- IP addresses are stored only as salted hashes (IP_HASH_SALT), never raw.
CREATE TABLE IF NOT EXISTS abuse_reports (
    id               BIGSERIAL PRIMARY KEY,
    reported_session TEXT        NOT NULL,
    reporter_session TEXT        NOT NULL,
    reported_ip_hash TEXT        NOT NULL,
    reason           TEXT        NOT NULL DEFAULT '',
    chat_id          TEXT,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- The ban check: reports against one IP hash within the last 24 hours.
CREATE INDEX IF NOT EXISTS abuse_reports_ip_hash_created_at_idx
    ON abuse_reports (reported_ip_hash, created_at DESC);

-- Moderators look at reports by session and by time.
CREATE INDEX IF NOT EXISTS abuse_reports_reported_session_idx ON abuse_reports (reported_session);
CREATE INDEX IF NOT EXISTS abuse_reports_created_at_idx ON abuse_reports (created_at);
