"""The poller lease: under gunicorn with several workers, exactly one process polls.

A row in `leases` names the holder and when its claim expires. A process takes the lease
when it is free or expired, and renews it while alive; when the holder dies, another
takes over after at most `ttl` seconds. The cycle's commit re-checks the lease inside its
transaction (fencing), so a holder that stalled past its expiry cannot commit a cycle
that a newer holder is also running.

Expiry is judged on the wall clock, shared by every process. When it goes back, a dead
holder's expiry can lie further ahead than any renewal sets (`now + ttl`); such an expiry
is counted again from now, so another process still takes over within one term.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import uuid

from outage.db import transaction

POLLER = "poller"


def new_holder_id() -> str:
    """A holder id that names the process for operators: host:pid:random."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def is_dead_here(holder: str) -> bool:
    """True when `holder` (a `new_holder_id`) names a process of this host that no longer
    exists: its claims can be recovered at once, without waiting for them to expire."""
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def acquire(conn: sqlite3.Connection, holder: str, now: float, ttl: float, name: str = POLLER) -> bool:
    """Take or renew the lease; True when `holder` holds it until `now + ttl`."""
    with transaction(conn):
        row = conn.execute("SELECT holder, expires_at, ttl FROM leases WHERE name = ?", (name,)).fetchone()
        if row is not None and row["holder"] != holder and row["expires_at"] > now:
            if row["expires_at"] > now + row["ttl"]:
                conn.execute("UPDATE leases SET expires_at = ? WHERE name = ?", (now + row["ttl"], name))
            return False
        conn.execute(
            "INSERT INTO leases (name, holder, expires_at, acquired_at, ttl) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at,"
            " ttl = excluded.ttl, acquired_at = CASE WHEN leases.holder = excluded.holder"
            " THEN leases.acquired_at ELSE excluded.acquired_at END",
            (name, holder, now + ttl, now, ttl),
        )
        return True


def release(conn: sqlite3.Connection, holder: str, name: str = POLLER) -> None:
    """Give the lease up (clean shutdown), so another process can take over at once."""
    with transaction(conn):
        conn.execute("DELETE FROM leases WHERE name = ? AND holder = ?", (name, holder))


def current(conn: sqlite3.Connection, name: str = POLLER) -> sqlite3.Row | None:
    row: sqlite3.Row | None = conn.execute(
        "SELECT holder, expires_at, acquired_at FROM leases WHERE name = ?", (name,)
    ).fetchone()
    return row
