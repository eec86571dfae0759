-- An incident's cause per part (a widened incident may hold parts with different causes),
-- the open incident a new outage is related to, and the active logins of every place.
ALTER TABLE events ADD COLUMN causas TEXT NOT NULL DEFAULT '[]';
ALTER TABLE events ADD COLUMN relacionado TEXT NOT NULL DEFAULT '';

CREATE TABLE place_population (
    chave TEXT PRIMARY KEY,
    logins INTEGER NOT NULL
) WITHOUT ROWID;
