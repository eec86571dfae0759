-- The statuses Meta's webhook reported for our WhatsApp Cloud API messages (sent, delivered,
-- read, failed): what settles a customer notice a crash left uncertain.
CREATE TABLE whatsapp_statuses (
    wamid TEXT PRIMARY KEY,
    recipient TEXT NOT NULL,
    status TEXT NOT NULL,
    at REAL NOT NULL,
    erro TEXT,
    received_at REAL NOT NULL
);
CREATE INDEX whatsapp_statuses_recipient ON whatsapp_statuses (recipient, at);
