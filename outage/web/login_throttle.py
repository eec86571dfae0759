"""Login throttling: growing delays per user *and* address, counted atomically.

Failures are counted under these keys:
- `par:<user>|<address>` — always;
- `ip:<address>` and `usuario:<user>` — only when the user has never logged in from
  that address.

So failures made elsewhere never delay a user at an address they have logged in from
before: an attacker cannot lock the NOC out during an outage. From a known address only
that user's own failures there count; from a new address, a guessing campaign against
the user (`usuario:`, 2 x the limit) or from the address against many users (`ip:`,
4 x the limit) slows it down too.

Below its limit a key lets attempts through; from the limit on, each attempt makes the
next one wait a delay that doubles — 30 s, 1 min, 2 min, ... at most 15 min (also when
the wall clock goes back). A key's failures are forgotten `WINDOW` seconds after its last
attempt.

`reserve()` counts the attempt as a failure *before* the password is checked, inside one
write transaction, so parallel attempts can never get more than the limit evaluated;
`succeeded()` takes that count back and remembers the address as known.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from outage.db import transaction

BASE_DELAY = 30.0
MAX_DELAY = 900.0
WINDOW = 900.0
USER_FACTOR = 2
ADDRESS_FACTOR = 4
MAX_NAME = 128


@dataclass(frozen=True)
class Attempt:
    """The outcome of `reserve()`: `wait` > 0 means refused (retry after that many seconds);
    otherwise `keys` are the counters this attempt was counted under."""

    wait: float
    keys: tuple[str, ...] = ()


def delay_after(failures: int, limit: int) -> float:
    """Seconds the next attempt must wait after `failures` failures of a key (0 below `limit`)."""
    if failures < limit:
        return 0.0
    return min(MAX_DELAY, BASE_DELAY * 2 ** min(failures - limit, 16))


def is_known(conn: sqlite3.Connection, username: str, address: str) -> bool:
    """Whether `username` has logged in from `address` before."""
    row = conn.execute(
        "SELECT 1 FROM login_known_addresses WHERE username = ? COLLATE NOCASE AND address = ?",
        (username[:MAX_NAME], address),
    ).fetchone()
    return row is not None


def _keys(conn: sqlite3.Connection, username: str, address: str, limit: int) -> list[tuple[str, int]]:
    name = username[:MAX_NAME].lower()
    keys = [(f"par:{name}|{address}", limit)]
    if not is_known(conn, username, address):
        keys += [(f"usuario:{name}", limit * USER_FACTOR), (f"ip:{address}", limit * ADDRESS_FACTOR)]
    return keys


def reserve(conn: sqlite3.Connection, username: str, address: str, now: float, limit: int) -> Attempt:
    """Count one login attempt of `username` from `address` as a failure, or refuse it while
    any of its keys is waiting (then nothing is counted)."""
    with transaction(conn):
        # a wall clock that went back must not stretch a delay past MAX_DELAY
        conn.execute(
            "UPDATE login_throttle SET last_at = MIN(last_at, ?), blocked_until = MIN(blocked_until, ?)"
            " WHERE last_at > ? OR blocked_until > ?",
            (now, now + MAX_DELAY, now, now + MAX_DELAY),
        )
        keys = _keys(conn, username, address, limit)
        rows = {key: _row(conn, key) for key, _ in keys}
        wait = max((row[2] - now for row in rows.values() if row is not None), default=0.0)
        if wait > 0:
            return Attempt(wait)
        for key, key_limit in keys:
            row = rows[key]
            failures = 1 if row is None or now - row[1] > WINDOW else row[0] + 1
            conn.execute(
                "INSERT INTO login_throttle (key, failures, last_at, blocked_until) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, last_at = excluded.last_at,"
                " blocked_until = excluded.blocked_until",
                (key, failures, now, now + delay_after(failures, key_limit)),
            )
        conn.execute("DELETE FROM login_throttle WHERE last_at < ?", (now - WINDOW - MAX_DELAY,))
    return Attempt(0.0, tuple(key for key, _ in keys))


def _row(conn: sqlite3.Connection, key: str) -> tuple[int, float, float] | None:
    row = conn.execute(
        "SELECT failures, last_at, blocked_until FROM login_throttle WHERE key = ?", (key,)
    ).fetchone()
    return None if row is None else (int(row[0]), float(row[1]), float(row[2]))


def succeeded(
    conn: sqlite3.Connection, attempt: Attempt, username: str, address: str, now: float, limit: int
) -> None:
    """The password was right: clear the pair's failures, take this attempt back from the
    wider counters (their delays stay while others' failures keep them over the limit) and
    remember `address` as known for `username`."""
    with transaction(conn):
        for key in attempt.keys:
            if key.startswith("par:"):
                conn.execute("DELETE FROM login_throttle WHERE key = ?", (key,))
                continue
            key_limit = limit * (USER_FACTOR if key.startswith("usuario:") else ADDRESS_FACTOR)
            conn.execute(
                "UPDATE login_throttle SET failures = MAX(0, failures - 1),"
                " blocked_until = CASE WHEN failures - 1 < ? THEN 0 ELSE blocked_until END WHERE key = ?",
                (key_limit, key),
            )
        conn.execute(
            "INSERT INTO login_known_addresses (username, address, last_login_at) VALUES (?, ?, ?)"
            " ON CONFLICT (username, address) DO UPDATE SET last_login_at = excluded.last_login_at",
            (username, address, now),
        )
