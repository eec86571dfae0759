-- One delivery engine for NOC alerts and customer notices.
--
-- outbox gains:
-- * status `incerto`: a customer notice whose send was under way when its process died, so
--   the provider may have accepted it; it is never sent again by itself, only when an
--   operator asks (see `outage.alerts.outbox.resend_uncertain`);
-- * `repete`: a NOC alert sent again after such a crash (or after an answer that never
--   came); its text says it may be a repeat.
-- SQLite cannot change a CHECK constraint in place, so the table is rebuilt with every row
-- and id kept (ids are referenced by hsm_recipients.outbox_id).
CREATE TABLE outbox_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    channel TEXT NOT NULL,
    kind TEXT NOT NULL,
    event_id TEXT,
    payload TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pendente'
        CHECK (status IN ('pendente', 'enviando', 'enviado', 'falhou', 'incerto')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    claimed_by TEXT,
    claimed_at REAL,
    created_at REAL NOT NULL,
    sent_at REAL,
    provider_message_id TEXT,
    last_error TEXT,
    repete INTEGER NOT NULL DEFAULT 0
);
INSERT INTO outbox_new (id, channel, kind, event_id, payload, status, attempts, next_attempt_at, claimed_by,
    claimed_at, created_at, sent_at, provider_message_id, last_error)
    SELECT id, channel, kind, event_id, payload, status, attempts, next_attempt_at, claimed_by, claimed_at,
    created_at, sent_at, provider_message_id, last_error FROM outbox ORDER BY id;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_event ON outbox (event_id, kind);
-- The rows still to deliver, per destination in order (the sender's head-of-queue lookup).
CREATE INDEX outbox_live ON outbox (channel, id) WHERE status IN ('pendente', 'enviando');

-- The number of each monitor event in the HSM console, where ids are numbers as in the
-- original dispatch console. OLT management system alerts keep their own positive ids; a monitor
-- event is shown as the negative of its number here, so the two never collide. Numbers
-- are given once (on first sight) and never reused.
CREATE TABLE incident_numbers (
    numero INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE
);
INSERT INTO incident_numbers (event_id) SELECT id FROM events ORDER BY timestamp, id;
