"""Dashboard accounts (`users`), their server-side sessions (`sessions`) and the login
throttle (`login_throttle`, `login_known_addresses`): every SQL statement on them lives here.

Functions run inside the caller's transaction unless they say they open their own. The rules
-- password hashing, roles, session idleness, CSRF, the throttling policy -- live in
`outage.web.auth` and `outage.web.login_throttle`; this module only stores what they decide.
A session is stored under the id its caller derives from the cookie token, never the token.
"""

from __future__ import annotations

from dataclasses import dataclass

from outage.db import Connection, IntegrityError, transaction


@dataclass(frozen=True)
class User:
    username: str
    role: str
    password_hash: str
    created_at: float
    last_login_at: float | None


@dataclass(frozen=True)
class StoredSession:
    """A session row with its user: when it was last seen on the wall clock and, when known,
    on the monotonic clock of the boot it was seen in."""

    user: User
    csrf: str
    last_seen_at: float
    seen_mono: float | None
    boot: str


# --- users ----------------------------------------------------------------------------


def find_user(conn: Connection, username: str) -> User | None:
    row = conn.execute(
        "SELECT username, role, password_hash, created_at, last_login_at FROM users WHERE username = ?",
        (username,),
    ).fetchone()
    return User(*row) if row is not None else None


def all_users(conn: Connection) -> list[User]:
    """Every user, by name."""
    rows = conn.execute(
        "SELECT username, role, password_hash, created_at, last_login_at FROM users ORDER BY username"
    ).fetchall()
    return [User(*row) for row in rows]


def any_user(conn: Connection) -> bool:
    """Whether at least one user exists."""
    return conn.execute("SELECT 1 FROM users LIMIT 1").fetchone() is not None


def add_user(conn: Connection, username: str, password_hash: str, role: str, now: float) -> bool:
    """Add a user in its own transaction; False when the name is taken."""
    try:
        with transaction(conn):
            conn.execute(
                "INSERT INTO users (username, password_hash, role, created_at) VALUES (?, ?, ?, ?)",
                (username, password_hash, role, now),
            )
    except IntegrityError:
        return False
    return True


def replace_password(conn: Connection, username: str, password_hash: str) -> bool:
    """Store the user's new password hash and delete every session of the user, in one
    transaction of its own; False when there is no such user."""
    with transaction(conn):
        changed = conn.execute(
            "UPDATE users SET password_hash = ? WHERE username = ?", (password_hash, username)
        ).rowcount
        conn.execute("DELETE FROM sessions WHERE username = ?", (username,))
    return bool(changed)


def delete_user(conn: Connection, username: str) -> bool:
    """Delete the user in its own transaction (its sessions and known addresses go with it,
    by the foreign keys); False when there is no such user."""
    with transaction(conn):
        return bool(conn.execute("DELETE FROM users WHERE username = ?", (username,)).rowcount)


def record_login(conn: Connection, username: str, now: float) -> None:
    """Note when the user last logged in, in its own transaction."""
    with transaction(conn):
        conn.execute("UPDATE users SET last_login_at = ? WHERE username = ?", (now, username))


# --- sessions -------------------------------------------------------------------------


def add_session(
    conn: Connection,
    session_id: str,
    username: str,
    csrf: str,
    address: str,
    now: float,
    idle: float,
) -> None:
    """Store a new session seen `now`, in its own transaction, deleting on the way the
    sessions last seen more than `idle` seconds before `now`."""
    with transaction(conn):
        conn.execute("DELETE FROM sessions WHERE last_seen_at < ?", (now - idle,))
        conn.execute(
            "INSERT INTO sessions (id, username, csrf, address, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?)",
            (session_id, username, csrf, address, now, now),
        )


def find_session(conn: Connection, session_id: str) -> StoredSession | None:
    row = conn.execute(
        "SELECT u.username, u.role, u.password_hash, u.created_at, u.last_login_at, s.csrf, s.last_seen_at,"
        " s.visto_mono, s.boot FROM sessions s JOIN users u ON u.username = s.username WHERE s.id = ?",
        (session_id,),
    ).fetchone()
    if row is None:
        return None
    seen_mono = None if row["visto_mono"] is None else float(row["visto_mono"])
    return StoredSession(
        User(*tuple(row)[:5]), str(row["csrf"]), float(row["last_seen_at"]), seen_mono, row["boot"]
    )


def touch_session(conn: Connection, session_id: str, now: float, mono: float | None, boot: str) -> None:
    """Record that the session was seen `now` (and at `mono` of boot `boot`), in its own transaction."""
    with transaction(conn):
        conn.execute(
            "UPDATE sessions SET last_seen_at = ?, visto_mono = ?, boot = ? WHERE id = ?",
            (now, mono, boot, session_id),
        )


def delete_session(conn: Connection, session_id: str) -> None:
    """Delete the session, in its own transaction (nothing when it is already gone)."""
    with transaction(conn):
        conn.execute("DELETE FROM sessions WHERE id = ?", (session_id,))


# --- the login throttle ---------------------------------------------------------------


def is_known_address(conn: Connection, username: str, address: str) -> bool:
    """Whether `username` (in any case) has logged in from `address` before."""
    row = conn.execute(
        "SELECT 1 FROM login_known_addresses WHERE LOWER(username) = LOWER(?) AND address = ?",
        (username, address),
    ).fetchone()
    return row is not None


def remember_address(conn: Connection, username: str, address: str, now: float) -> None:
    """Note that `username` logged in from `address` at `now`."""
    conn.execute(
        "INSERT INTO login_known_addresses (username, address, last_login_at) VALUES (?, ?, ?)"
        " ON CONFLICT (username, address) DO UPDATE SET last_login_at = excluded.last_login_at",
        (username, address, now),
    )


def pull_back_throttle_times(conn: Connection, now: float, longest_delay: float) -> None:
    """Bring every counter's last attempt back to at most `now` and its wait to at most
    `longest_delay` from `now` (after the wall clock went back)."""
    conn.execute(
        "UPDATE login_throttle SET last_at = CASE WHEN last_at > :now THEN :now ELSE last_at END,"
        " blocked_until = CASE WHEN blocked_until > :until THEN :until ELSE blocked_until END"
        " WHERE last_at > :now OR blocked_until > :until",
        {"now": now, "until": now + longest_delay},
    )


def throttle_counter(conn: Connection, key: str) -> tuple[int, float, float] | None:
    """The failures, last attempt and end of the wait of the counter `key`, or None."""
    row = conn.execute(
        "SELECT failures, last_at, blocked_until FROM login_throttle WHERE key = ?", (key,)
    ).fetchone()
    return None if row is None else (int(row[0]), float(row[1]), float(row[2]))


def record_failed_login(conn: Connection, key: str, failures: int, now: float, blocked_until: float) -> None:
    """Set the counter `key` to `failures` failures, the last at `now`, waiting until `blocked_until`."""
    conn.execute(
        "INSERT INTO login_throttle (key, failures, last_at, blocked_until) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, last_at = excluded.last_at,"
        " blocked_until = excluded.blocked_until",
        (key, failures, now, blocked_until),
    )


def take_back_failed_login(conn: Connection, key: str, limit: int) -> None:
    """One failure less on the counter `key` (never below 0); its wait ends when that leaves
    it below `limit`."""
    conn.execute(
        "UPDATE login_throttle SET failures = CASE WHEN failures > 0 THEN failures - 1 ELSE 0 END,"
        " blocked_until = CASE WHEN failures - 1 < ? THEN 0 ELSE blocked_until END WHERE key = ?",
        (limit, key),
    )


def clear_throttle_counter(conn: Connection, key: str) -> None:
    conn.execute("DELETE FROM login_throttle WHERE key = ?", (key,))


def forget_throttle_counters(conn: Connection, before: float) -> None:
    """Delete the counters whose last attempt was before `before`."""
    conn.execute("DELETE FROM login_throttle WHERE last_at < ?", (before,))
