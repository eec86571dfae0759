-- An incident's cause per part (a widened incident may hold parts with different causes) and
-- why the cause is what it is; the open incident a new outage is related to; when the
-- incident's onset ends (later drops in places it has not taken are a new outage); the
-- narrowest places its logins are in (where it fell, for recurrence); and the active logins
-- of every place.
ALTER TABLE events ADD COLUMN causas TEXT NOT NULL DEFAULT '[]';
ALTER TABLE events ADD COLUMN causa_explicacao TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN relacionado TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN fim_abertura REAL;
ALTER TABLE events ADD COLUMN cobertura TEXT NOT NULL DEFAULT '[]';

CREATE TABLE place_population (
    chave TEXT PRIMARY KEY,
    logins INTEGER NOT NULL
) WITHOUT ROWID;
