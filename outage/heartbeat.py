"""The poller's heartbeat: when its cycles start and end, on the monotonic clock.

The poller writes one row at the start and at the end of every cycle. `/healthz` (in any
process) and a process taking the lease over read it to tell how long ago the last good
cycle ended, whether one is running and since when — ages no wall-clock jump can bend
(see `outage.clock`). The wall times beside them are for people to read. `assess()` is
the pure verdict `/healthz` gives.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from outage.clock import Clock
from outage.db import transaction

NAME = "poller"


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
class Ages:
    """Seconds since the last good cycle ended, since the last cycle started, and for how
    long the running one has run (None: unknown or nothing running)."""

    since_ok: float | None = None
    since_start: float | None = None
    running_for: float | None = None


@dataclass(frozen=True)
class Verdict:
    status: str  # "ok", "iniciando" or "erro"
    problems: list[str]


def cycle_started(conn: sqlite3.Connection, holder: str, clock: Clock) -> None:
    """Record that `holder` starts a cycle now (a good cycle of another boot is forgotten:
    its monotonic time means nothing in this one)."""
    with transaction(conn):
        newest = conn.execute("SELECT COALESCE(MAX(id), 0) FROM cycles").fetchone()[0]
        conn.execute(
            "INSERT INTO poller_heartbeat (name, holder, boot_id, cycle_started_mono, cycle_started_wall,"
            " cycles_before, running) VALUES (?, ?, ?, ?, ?, ?, 1) ON CONFLICT (name) DO UPDATE SET"
            " holder = excluded.holder, boot_id = excluded.boot_id,"
            " cycle_started_mono = excluded.cycle_started_mono, cycle_started_wall = excluded.cycle_started_wall,"
            " cycles_before = excluded.cycles_before, running = 1,"
            " last_ok_mono = CASE WHEN poller_heartbeat.boot_id = excluded.boot_id"
            " THEN poller_heartbeat.last_ok_mono END",
            (NAME, holder, clock.boot_id, clock.monotonic(), clock.wall(), newest),
        )


def cycle_finished(
    conn: sqlite3.Connection, clock: Clock, *, ok_cycle: int | None, error: str | None
) -> None:
    """Record the end of the running cycle: the good cycle `ok_cycle`, or a failure `error`."""
    with transaction(conn):
        if ok_cycle is not None:
            conn.execute(
                "UPDATE poller_heartbeat SET running = 0, last_ok_mono = ?, last_ok_wall = ?, last_ok_cycle = ?,"
                " last_error = NULL, last_error_wall = NULL WHERE name = ?",
                (clock.monotonic(), clock.wall(), ok_cycle, NAME),
            )
        else:
            conn.execute(
                "UPDATE poller_heartbeat SET running = 0, last_error = ?, last_error_wall = ? WHERE name = ?",
                (error, clock.wall(), NAME),
            )


def read(conn: sqlite3.Connection) -> Beat | None:
    row = conn.execute(
        "SELECT holder, boot_id, cycle_started_mono, cycle_started_wall, cycles_before, running, last_ok_mono,"
        " last_ok_wall, last_ok_cycle, last_error, last_error_wall FROM poller_heartbeat WHERE name = ?",
        (NAME,),
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


def ages(beat: Beat | None, clock: Clock) -> Ages:
    """The beat's ages on our monotonic clock; all None when it comes from another boot."""
    if beat is None or not clock.same_boot(beat.boot_id):
        return Ages()
    now = clock.monotonic()

    def since(mono: float | None) -> float | None:
        return None if mono is None else max(0.0, now - mono)

    return Ages(
        since_ok=since(beat.last_ok_mono),
        since_start=since(beat.cycle_started_mono),
        running_for=since(beat.cycle_started_mono) if beat.running else None,
    )


def since_last_ok(conn: sqlite3.Connection, beat: Beat | None, clock: Clock) -> float | None:
    """Seconds since the newest good cycle ended: on the monotonic clock when this boot's
    heartbeat timed that cycle, else on the wall clock (cycles run without the service)."""
    row = conn.execute("SELECT id, finished_at FROM cycles WHERE ok = 1 ORDER BY id DESC LIMIT 1").fetchone()
    mono = ages(beat, clock)
    if mono.since_ok is not None and beat is not None and (row is None or beat.last_ok_cycle == row["id"]):
        return mono.since_ok
    if (
        mono.since_start is not None
        and beat is not None
        and row is not None
        and row["id"] == beat.cycles_before + 1
    ):
        return mono.since_start  # the cycle this heartbeat started has committed, its end not yet beaten
    return wall_age(clock.wall(), None if row is None else row["finished_at"])


def since_last_start(conn: sqlite3.Connection, beat: Beat | None, clock: Clock) -> float | None:
    """Seconds since the newest cycle started, judged like `since_last_ok`."""
    row = conn.execute("SELECT id, started_at FROM cycles ORDER BY id DESC LIMIT 1").fetchone()
    since = ages(beat, clock).since_start
    if since is not None and beat is not None and (row is None or row["id"] <= beat.cycles_before + 1):
        return since
    return wall_age(clock.wall(), None if row is None else row["started_at"])


def wall_age(now: float, then: float | None) -> float | None:
    """`now - then` on the wall clock, for records without a monotonic reading; a time in
    the future (the clock went back) counts as just now."""
    return None if then is None else max(0.0, now - then)


def assess(since_ok: float | None, running_for: float | None, uptime: float, limit: float) -> Verdict:
    """The poller's health: the last good cycle must have ended within `limit` seconds, and
    no cycle may run longer than that (a stuck poller). A process younger than `limit`
    with no good cycle yet is `iniciando`."""
    problems = []
    if since_ok is None and uptime > limit:
        problems.append(f"nenhum ciclo concluído com sucesso desde o início ({int(uptime)} s)")
    elif since_ok is not None and since_ok > limit:
        problems.append(f"último ciclo bem-sucedido há {int(since_ok)} s (limite {int(limit)} s)")
    if running_for is not None and running_for > limit:
        problems.append(f"ciclo em andamento há {int(running_for)} s: o poller parece travado")
    if problems:
        return Verdict("erro", problems)
    return Verdict("iniciando" if since_ok is None else "ok", [])


ALARMS = "alarmes"


def save_alarms(conn: sqlite3.Connection, report: Mapping[str, Any], clock: Clock) -> None:
    """Keep the alarm receivers' latest counts (`AlarmService.snapshot`) for every process."""
    with transaction(conn):
        conn.execute(
            "INSERT INTO alarm_health (name, relatorio, gravado_em, gravado_mono, boot_id) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (name) DO UPDATE SET relatorio = excluded.relatorio, gravado_em = excluded.gravado_em,"
            " gravado_mono = excluded.gravado_mono, boot_id = excluded.boot_id",
            (ALARMS, json.dumps(report, ensure_ascii=False), clock.wall(), clock.monotonic(), clock.boot_id),
        )


def read_alarms(conn: sqlite3.Connection, clock: Clock) -> dict[str, Any] | None:
    """The receivers' latest counts with `segundos_desde_gravacao` (how old they are), or None
    when no receiver ever ran."""
    row = conn.execute(
        "SELECT relatorio, gravado_em, gravado_mono, boot_id FROM alarm_health WHERE name = ?", (ALARMS,)
    ).fetchone()
    if row is None:
        return None
    report: dict[str, Any] = json.loads(row["relatorio"])
    if clock.same_boot(row["boot_id"]):
        age: float | None = max(0.0, clock.monotonic() - row["gravado_mono"])
    else:
        age = wall_age(clock.wall(), row["gravado_em"])
    report["gravado_em"] = row["gravado_em"]
    report["segundos_desde_gravacao"] = None if age is None else round(age, 1)
    return report
