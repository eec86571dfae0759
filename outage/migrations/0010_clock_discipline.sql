-- A session's idle time is measured on the monotonic clock of the boot it was last seen in,
-- so a wall clock that jumps ahead does not end it (and one that goes back does not extend it).
ALTER TABLE sessions ADD COLUMN visto_mono REAL;
ALTER TABLE sessions ADD COLUMN boot TEXT NOT NULL DEFAULT '';
