-- Dashboard sessions kept on the server, so logout, a password change, a removed user or
-- idleness ends them for good; the browser's cookie only carries a random token whose
-- SHA-256 is the id here.
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    csrf TEXT NOT NULL,
    address TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    last_seen_at REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_username ON sessions (username);

-- Login throttling with growing delays, one row per key: `par:<user>|<address>`,
-- `ip:<address>` and `usuario:<user>` (the last two only for addresses the user never
-- logged in from). Replaces the per-failure rows of 0004.
CREATE TABLE login_throttle (
    key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    last_at REAL NOT NULL,
    blocked_until REAL NOT NULL
) WITHOUT ROWID;
CREATE TABLE login_known_addresses (
    username TEXT NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    address TEXT NOT NULL,
    last_login_at REAL NOT NULL,
    PRIMARY KEY (username, address)
) WITHOUT ROWID;
DROP TABLE login_failures;

-- The poller's progress in monotonic time (comparable between the processes of one boot),
-- so /healthz and a takeover measure ages that no wall-clock jump can bend. The cycle ids
-- tell whether the newest rows of `cycles` are the ones this heartbeat timed.
CREATE TABLE poller_heartbeat (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    boot_id TEXT NOT NULL,
    cycle_started_mono REAL,
    cycle_started_wall REAL,
    cycles_before INTEGER NOT NULL DEFAULT 0,
    running INTEGER NOT NULL DEFAULT 0,
    last_ok_mono REAL,
    last_ok_wall REAL,
    last_ok_cycle INTEGER,
    last_error TEXT,
    last_error_wall REAL
) WITHOUT ROWID;

-- Each lease remembers its term, so a process whose wall clock went back can tell an
-- expiry that lies further ahead than any renewal would set (see outage/lease.py).
ALTER TABLE leases ADD COLUMN ttl REAL NOT NULL DEFAULT 30;
