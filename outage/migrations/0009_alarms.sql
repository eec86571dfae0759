-- The network's alarms: logins an OLT or concentrator reported down that no ERP poll has
-- confirmed yet (with the alarm's time and cause), and how each incident was learned.
CREATE TABLE alarm_drops (
    login TEXT PRIMARY KEY,
    caiu_em REAL NOT NULL,
    causa TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;

ALTER TABLE events ADD COLUMN origem TEXT NOT NULL DEFAULT 'erp';
