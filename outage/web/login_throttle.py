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
`succeeded()` takes that count back and remembers the address as known. The counters and
the known addresses are stored by `outage.storage.users`.
"""

from __future__ import annotations

from dataclasses import dataclass

from outage.db import Connection, transaction
from outage.storage import users

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


def is_known(conn: Connection, username: str, address: str) -> bool:
    """Whether `username` has logged in from `address` before."""
    return users.is_known_address(conn, username[:MAX_NAME], address)


def _keys(conn: Connection, username: str, address: str, limit: int) -> list[tuple[str, int]]:
    name = username[:MAX_NAME].lower()
    keys = [(f"par:{name}|{address}", limit)]
    if not is_known(conn, username, address):
        keys += [(f"usuario:{name}", limit * USER_FACTOR), (f"ip:{address}", limit * ADDRESS_FACTOR)]
    return keys


def reserve(conn: Connection, username: str, address: str, now: float, limit: int) -> Attempt:
    """Count one login attempt of `username` from `address` as a failure, or refuse it while
    any of its keys is waiting (then nothing is counted)."""
    with transaction(conn):
        # a wall clock that went back must not stretch a delay past MAX_DELAY
        users.pull_back_throttle_times(conn, now, MAX_DELAY)
        keys = _keys(conn, username, address, limit)
        rows = {key: users.throttle_counter(conn, key) for key, _ in keys}
        wait = max((row[2] - now for row in rows.values() if row is not None), default=0.0)
        if wait > 0:
            return Attempt(wait)
        for key, key_limit in keys:
            row = rows[key]
            failures = 1 if row is None or now - row[1] > WINDOW else row[0] + 1
            users.record_failed_login(conn, key, failures, now, now + delay_after(failures, key_limit))
        users.forget_throttle_counters(conn, before=now - WINDOW - MAX_DELAY)
    return Attempt(0.0, tuple(key for key, _ in keys))


def succeeded(
    conn: Connection, attempt: Attempt, username: str, address: str, now: float, limit: int
) -> None:
    """The password was right: clear the pair's failures, take this attempt back from the
    wider counters (their delays stay while others' failures keep them over the limit) and
    remember `address` as known for `username`."""
    with transaction(conn):
        for key in attempt.keys:
            if key.startswith("par:"):
                users.clear_throttle_counter(conn, key)
                continue
            key_limit = limit * (USER_FACTOR if key.startswith("usuario:") else ADDRESS_FACTOR)
            users.take_back_failed_login(conn, key, key_limit)
        users.remember_address(conn, username, address, now)
