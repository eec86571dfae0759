"""Poll cycles, the poller lease, the poller's heartbeat and the alarm receivers' health.

Functions run inside the caller's transaction unless they say they open their own.

The lease: a row in `leases` names the holder and when its claim expires. A process takes
the lease when it is free or expired, and renews it while alive; when the holder dies,
another takes over after at most `ttl` seconds. A cycle's commit re-checks the lease inside
its transaction (fencing, `check_lease`), so a holder that stalled past its expiry cannot
commit a cycle that a newer holder is also running. Expiry is judged on the wall clock,
shared by every process. When it goes back, a dead holder's expiry can lie further ahead
than any renewal sets (`now + ttl`); such an expiry is counted again from now, so another
process still takes over within one term.

The heartbeat: one row the poller writes when its cycles start and end, with monotonic
readings beside wall times (see `outage.heartbeat`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from outage.db import Connection, transaction

POLLER = "poller"
ALARMS = "alarmes"
INTERRUPTED = "interrompido: o processo que fazia este ciclo parou antes de terminá-lo"


class LeaseLost(Exception):
    """This process no longer holds the poller lease: its cycle must not be committed."""


@dataclass
class CycleCounts:
    offline: int = 0
    novas_quedas: int = 0
    reconectados: int = 0
    abertos: int = 0
    crescidos: int = 0
    resolvidos: int = 0


@dataclass(frozen=True)
class Beat:
    holder: str
    boot_id: str
    cycle_started_mono: float | None
    cycle_started_wall: float | None
    cycles_before: int  # the newest cycle id when the last cycle started
    running: bool
    last_ok_mono: float | None
    last_ok_wall: float | None
    last_ok_cycle: int | None
    last_error: str | None
    last_error_wall: float | None


@dataclass(frozen=True)
class AlarmHealth:
    """The alarm receivers' latest report, when it was written (wall and monotonic) and in which boot."""

    report: dict[str, Any]
    written_wall: float
    written_mono: float
    boot_id: str


# --- cycles ---------------------------------------------------------------------------


def record_cycle(
    conn: Connection,
    holder: str,
    started_at: float,
    finished_at: float,
    counts: CycleCounts,
    duration: float,
    *,
    error: str | None,
) -> int:
    """Record a finished cycle of `holder`: good, or failed with `error`; returns its id."""
    c = counts
    cursor = conn.execute(
        "INSERT INTO cycles (started_at, finished_at, ok, erro, holder, offline, novas_quedas, reconectados,"
        " abertos, crescidos, resolvidos, duracao) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (
            started_at,
            finished_at,
            int(error is None),
            error,
            holder,
            c.offline,
            c.novas_quedas,
            c.reconectados,
            c.abertos,
            c.crescidos,
            c.resolvidos,
            duration,
        ),
    )
    return int(cursor.fetchone()[0])


def set_cycle_duration(conn: Connection, cycle_id: int, duration: float) -> None:
    conn.execute("UPDATE cycles SET duracao = ? WHERE id = ?", (duration, cycle_id))


def close_interrupted_cycles(conn: Connection, holder: str, now: float, dead: Callable[[str], bool]) -> int:
    """Close, with the reason, the cycles another holder started and never finished because its
    process died (`dead`, or started over an hour ago); returns how many (own transaction).

    A cycle writes its row only when it commits, so the one a process died in is known from
    the heartbeat (running, another holder's): it is added as a failed cycle. Older versions
    wrote the row at the start; those rows are closed too."""
    rows = conn.execute("SELECT id, holder, started_at FROM cycles WHERE finished_at IS NULL").fetchall()
    gone = [
        r["id"] for r in rows if r["holder"] != holder and (dead(r["holder"]) or r["started_at"] < now - 3600)
    ]
    beat = read_beat(conn)
    died_in_cycle = (
        beat is not None
        and beat.running
        and beat.holder != holder
        and (dead(beat.holder) or (beat.cycle_started_wall or now) < now - 3600)
    )
    with transaction(conn):
        conn.executemany(
            "UPDATE cycles SET finished_at = started_at, ok = 0, erro = ? WHERE id = ? AND finished_at IS NULL",
            [(INTERRUPTED, cycle_id) for cycle_id in gone],
        )
        if died_in_cycle and beat is not None:
            started = beat.cycle_started_wall or now
            conn.execute(
                "INSERT INTO cycles (started_at, finished_at, ok, erro, holder, duracao) VALUES (?, ?, 0, ?, ?, 0)",
                (started, started, INTERRUPTED, beat.holder),
            )
            conn.execute(
                "UPDATE poller_heartbeat SET running = 0, last_error = ?, last_error_wall = ? WHERE name = ?",
                (INTERRUPTED, now, POLLER),
            )
    return len(gone) + int(died_in_cycle)


def record_failed_cycle(conn: Connection, holder: str, started: float, finished: float, reason: str) -> None:
    """Mark `holder`'s newest cycle failed with `reason` if it never finished, else add a
    failed cycle (the monitor could not even insert its row). Own transaction."""
    with transaction(conn):
        changed = conn.execute(
            "UPDATE cycles SET finished_at = ?, ok = 0, erro = ? WHERE finished_at IS NULL"
            " AND id = (SELECT MAX(id) FROM cycles WHERE holder = ?)",
            (finished, reason, holder),
        ).rowcount
        if not changed:
            conn.execute(
                "INSERT INTO cycles (started_at, finished_at, ok, erro, holder, duracao) VALUES (?, ?, 0, ?, ?, ?)",
                (started, finished, reason, holder, max(0.0, finished - started)),
            )


def newest_cycle_id(conn: Connection) -> int:
    """The id of the newest cycle (0: none yet)."""
    return int(conn.execute("SELECT COALESCE(MAX(id), 0) FROM cycles").fetchone()[0])


def newest_ok_cycle(conn: Connection) -> tuple[int, float] | None:
    """The newest good cycle: (id, when it finished)."""
    row = conn.execute("SELECT id, finished_at FROM cycles WHERE ok = 1 ORDER BY id DESC LIMIT 1").fetchone()
    return None if row is None else (int(row["id"]), float(row["finished_at"]))


def newest_cycle_start(conn: Connection) -> tuple[int, float] | None:
    """The newest cycle: (id, when it started)."""
    row = conn.execute("SELECT id, started_at FROM cycles ORDER BY id DESC LIMIT 1").fetchone()
    return None if row is None else (int(row["id"]), float(row["started_at"]))


def last_ok_finished_at(conn: Connection) -> float | None:
    value = conn.execute("SELECT MAX(finished_at) FROM cycles WHERE ok = 1").fetchone()[0]
    return None if value is None else float(value)


def last_cycle(conn: Connection) -> dict[str, Any] | None:
    """The newest cycle: started_at, finished_at, ok, erro, duracao, offline."""
    row = conn.execute(
        "SELECT started_at, finished_at, ok, erro, duracao, offline FROM cycles ORDER BY id DESC LIMIT 1"
    ).fetchone()
    return None if row is None else dict(row)


def last_good_cycle(conn: Connection) -> tuple[float, float | None, int | None] | None:
    """The newest good cycle: (started_at, duracao, offline)."""
    row = conn.execute(
        "SELECT started_at, duracao, offline FROM cycles WHERE ok = 1 ORDER BY id DESC LIMIT 1"
    ).fetchone()
    return None if row is None else (row[0], row[1], row[2])


def failed_cycles_since(conn: Connection, since: float) -> tuple[int, int]:
    """Cycles started after `since` that failed: (for a reason of their own, interrupted by a
    process that stopped)."""
    failed, interrupted = conn.execute(
        "SELECT COALESCE(SUM(CASE WHEN erro LIKE 'interrompido:%' THEN 0 ELSE 1 END), 0),"
        " COALESCE(SUM(CASE WHEN erro LIKE 'interrompido:%' THEN 1 ELSE 0 END), 0)"
        " FROM cycles WHERE ok = 0 AND finished_at IS NOT NULL AND started_at > ?",
        (since,),
    ).fetchone()
    return int(failed), int(interrupted)


def cycles_since(conn: Connection, since: float, limit: int) -> list[dict[str, Any]]:
    """The newest `limit` cycles started from `since`, oldest first: started_at, offline, ok, duracao."""
    rows = conn.execute(
        "SELECT started_at, offline, ok, duracao FROM cycles WHERE started_at >= ? ORDER BY started_at DESC LIMIT ?",
        (since, limit),
    ).fetchall()
    return [dict(row) for row in reversed(rows)]


# --- the poller lease -----------------------------------------------------------------


def take_lease(conn: Connection, holder: str, now: float, ttl: float, name: str = POLLER) -> bool:
    """Take or renew the lease (own transaction); True when `holder` holds it until `now + ttl`."""
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


def release_lease(conn: Connection, holder: str, name: str = POLLER) -> None:
    """Give the lease up (clean shutdown), so another process can take over at once (own transaction)."""
    with transaction(conn):
        conn.execute("DELETE FROM leases WHERE name = ? AND holder = ?", (name, holder))


def live_lease(conn: Connection, now: float, name: str = POLLER) -> tuple[str, float] | None:
    """The holder of a lease still in its term at `now` and the seconds left (None: nobody
    holds it). An expiry further ahead than its term (the clock went back) counts as ending
    within one term, as `take_lease` counts it."""
    row = conn.execute("SELECT holder, expires_at, ttl FROM leases WHERE name = ?", (name,)).fetchone()
    if row is None or row["expires_at"] <= now:
        return None
    return str(row["holder"]), min(float(row["expires_at"]) - now, float(row["ttl"]))


def read_lease(conn: Connection, name: str = POLLER) -> tuple[str, float] | None:
    """The lease's holder and when its term ends (wall clock); None: nobody holds it."""
    row = conn.execute("SELECT holder, expires_at FROM leases WHERE name = ?", (name,)).fetchone()
    return None if row is None else (str(row["holder"]), float(row["expires_at"]))


def renew_lease(conn: Connection, holder: str, now: float, ttl: float) -> None:
    """Renew `holder`'s lease until `now + ttl` within the caller's transaction (a cycle's
    commit), or raise `LeaseLost` when another process holds it or nobody does. An expiry
    passed with the row still naming `holder` is renewed as `take_lease` would: nobody took over."""
    changed = conn.execute(
        "UPDATE leases SET expires_at = ?, ttl = ? WHERE name = ? AND holder = ?",
        (now + ttl, ttl, POLLER, holder),
    ).rowcount
    if not changed:
        raise LeaseLost("outro processo assumiu o monitoramento")


def check_lease(conn: Connection, holder: str, now: float) -> None:
    """Raise `LeaseLost` unless `holder` holds the poller lease at `now` (fencing at commit)."""
    row = conn.execute("SELECT holder, expires_at FROM leases WHERE name = ?", (POLLER,)).fetchone()
    if row is None or row["holder"] != holder or row["expires_at"] < now:
        raise LeaseLost("outro processo assumiu o monitoramento")


# --- the poller's heartbeat -----------------------------------------------------------


def beat_cycle_start(conn: Connection, holder: str, boot_id: str, mono: float, wall: float) -> None:
    """Record that `holder` starts a cycle now (a good cycle of another boot is forgotten:
    its monotonic time means nothing in this one)."""
    conn.execute(
        "INSERT INTO poller_heartbeat (name, holder, boot_id, cycle_started_mono, cycle_started_wall,"
        " cycles_before, running) VALUES (?, ?, ?, ?, ?, ?, 1) ON CONFLICT (name) DO UPDATE SET"
        " holder = excluded.holder, boot_id = excluded.boot_id,"
        " cycle_started_mono = excluded.cycle_started_mono, cycle_started_wall = excluded.cycle_started_wall,"
        " cycles_before = excluded.cycles_before, running = 1,"
        " last_ok_mono = CASE WHEN poller_heartbeat.boot_id = excluded.boot_id"
        " THEN poller_heartbeat.last_ok_mono END",
        (POLLER, holder, boot_id, mono, wall, newest_cycle_id(conn)),
    )


def beat_long_cycle(conn: Connection, holder: str, boot_id: str, mono: float, wall: float) -> bool:
    """Record that `holder`'s cycle started at `mono` is still running, unless the heartbeat
    already holds that start (the cycle committed meanwhile, or was marked); True when marked."""
    marked = conn.execute(
        "UPDATE poller_heartbeat SET running = 1, cycle_started_mono = ?, cycle_started_wall = ?,"
        " cycles_before = ? WHERE name = ? AND holder = ? AND boot_id = ?"
        " AND (cycle_started_mono IS NULL OR cycle_started_mono < ?)",
        (mono, wall, newest_cycle_id(conn), POLLER, holder, boot_id, mono),
    ).rowcount
    return bool(marked)


def beat_cycle_end(
    conn: Connection, mono: float, wall: float, *, ok_cycle: int | None, error: str | None
) -> None:
    """Record the end of the running cycle: the good cycle `ok_cycle`, or a failure `error`."""
    if ok_cycle is not None:
        conn.execute(
            "UPDATE poller_heartbeat SET running = 0, last_ok_mono = ?, last_ok_wall = ?, last_ok_cycle = ?,"
            " last_error = NULL, last_error_wall = NULL WHERE name = ?",
            (mono, wall, ok_cycle, POLLER),
        )
    else:
        conn.execute(
            "UPDATE poller_heartbeat SET running = 0, last_error = ?, last_error_wall = ? WHERE name = ?",
            (error, wall, POLLER),
        )


def read_beat(conn: Connection) -> Beat | None:
    row = conn.execute(
        "SELECT holder, boot_id, cycle_started_mono, cycle_started_wall, cycles_before, running, last_ok_mono,"
        " last_ok_wall, last_ok_cycle, last_error, last_error_wall FROM poller_heartbeat WHERE name = ?",
        (POLLER,),
    ).fetchone()
    if row is None:
        return None
    return Beat(
        holder=row["holder"],
        boot_id=row["boot_id"],
        cycle_started_mono=row["cycle_started_mono"],
        cycle_started_wall=row["cycle_started_wall"],
        cycles_before=int(row["cycles_before"]),
        running=bool(row["running"]),
        last_ok_mono=row["last_ok_mono"],
        last_ok_wall=row["last_ok_wall"],
        last_ok_cycle=row["last_ok_cycle"],
        last_error=row["last_error"],
        last_error_wall=row["last_error_wall"],
    )


# --- the alarm receivers' health ------------------------------------------------------


def save_alarm_health(
    conn: Connection, report: Mapping[str, Any], wall: float, mono: float, boot_id: str
) -> None:
    """Keep the alarm receivers' latest counts for every process (own transaction)."""
    with transaction(conn):
        conn.execute(
            "INSERT INTO alarm_health (name, relatorio, gravado_em, gravado_mono, boot_id) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (name) DO UPDATE SET relatorio = excluded.relatorio, gravado_em = excluded.gravado_em,"
            " gravado_mono = excluded.gravado_mono, boot_id = excluded.boot_id",
            (ALARMS, json.dumps(report, ensure_ascii=False), wall, mono, boot_id),
        )


def read_alarm_health(conn: Connection) -> AlarmHealth | None:
    """The receivers' latest report (None: no receiver ever ran)."""
    row = conn.execute(
        "SELECT relatorio, gravado_em, gravado_mono, boot_id FROM alarm_health WHERE name = ?", (ALARMS,)
    ).fetchone()
    if row is None:
        return None
    return AlarmHealth(json.loads(row["relatorio"]), row["gravado_em"], row["gravado_mono"], row["boot_id"])
