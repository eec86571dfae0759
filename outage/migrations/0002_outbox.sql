-- Durable alert outbox: one row per alert per channel, written in the same transaction
-- as the event change that caused it. A sender claims a row with a compare-and-set on
-- status, so no two senders ever take the same row; rows are never deleted.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    channel TEXT NOT NULL,
    kind TEXT NOT NULL,
    event_id TEXT,
    payload TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pendente'
        CHECK (status IN ('pendente', 'enviando', 'enviado', 'falhou')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    claimed_by TEXT,
    claimed_at REAL,
    created_at REAL NOT NULL,
    sent_at REAL,
    provider_message_id TEXT,
    last_error TEXT
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_event ON outbox (event_id, kind);
