"""The poller's heartbeat: when its cycles start and end, on the monotonic clock.

The poller writes one row: a good cycle's start and end in that cycle's own commit (so a
quiet cycle commits once), the start of a lease term's first cycle before it runs, a failed
cycle's end apart, and -- from the lease's thread -- the start of a cycle running longer than
a beat. `/healthz` (in any process) and a process taking the lease over read it to tell how
long ago the last good cycle ended, whether one is running and since when — ages no
wall-clock jump can bend (see `outage.clock`). The wall times beside them are for people to read. `assess()` is
the pure verdict `/healthz` gives.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from outage.clock import Clock
from outage.db import Connection, transaction
from outage.storage import cycles
from outage.storage.cycles import Beat


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


def cycle_started(conn: Connection, holder: str, clock: Clock) -> None:
    """Record that `holder` starts a cycle now (own transaction)."""
    with transaction(conn):
        cycles.beat_cycle_start(conn, holder, clock.boot_id, clock.monotonic(), clock.wall())


def cycle_running(conn: Connection, holder: str, clock: Clock, mono: float, wall: float) -> None:
    """Record that `holder`'s cycle started at `mono` still runs, unless it already committed
    (own transaction)."""
    with transaction(conn):
        cycles.beat_long_cycle(conn, holder, clock.boot_id, mono, wall)


def cycle_finished(conn: Connection, clock: Clock, *, ok_cycle: int | None, error: str | None) -> None:
    """Record the end of the running cycle: the good cycle `ok_cycle`, or a failure `error` (own transaction)."""
    with transaction(conn):
        cycles.beat_cycle_end(conn, clock.monotonic(), clock.wall(), ok_cycle=ok_cycle, error=error)


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


def since_last_ok(conn: Connection, beat: Beat | None, clock: Clock) -> float | None:
    """Seconds since the newest good cycle ended: on the monotonic clock when this boot's
    heartbeat timed that cycle, else on the wall clock (cycles run without the service)."""
    newest = cycles.newest_ok_cycle(conn)
    mono = ages(beat, clock)
    if mono.since_ok is not None and beat is not None and (newest is None or beat.last_ok_cycle == newest[0]):
        return mono.since_ok
    if (
        mono.since_start is not None
        and beat is not None
        and newest is not None
        and newest[0] == beat.cycles_before + 1
    ):
        return mono.since_start  # the cycle this heartbeat started has committed, its end not yet beaten
    return wall_age(clock.wall(), None if newest is None else newest[1])


def since_last_start(conn: Connection, beat: Beat | None, clock: Clock) -> float | None:
    """Seconds since the newest cycle started, judged like `since_last_ok`."""
    newest = cycles.newest_cycle_start(conn)
    since = ages(beat, clock).since_start
    if since is not None and beat is not None and (newest is None or newest[0] <= beat.cycles_before + 1):
        return since
    return wall_age(clock.wall(), None if newest is None else newest[1])


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


def save_alarms(conn: Connection, report: Mapping[str, Any], clock: Clock) -> None:
    """Keep the alarm receivers' latest counts (`AlarmService.snapshot`) for every process."""
    cycles.save_alarm_health(conn, report, clock.wall(), clock.monotonic(), clock.boot_id)


def read_alarms(conn: Connection, clock: Clock) -> dict[str, Any] | None:
    """The receivers' latest counts with `segundos_desde_gravacao` (how old they are), or None
    when no receiver ever ran."""
    health = cycles.read_alarm_health(conn)
    if health is None:
        return None
    report = dict(health.report)
    if clock.same_boot(health.boot_id):
        age: float | None = max(0.0, clock.monotonic() - health.written_mono)
    else:
        age = wall_age(clock.wall(), health.written_wall)
    report["gravado_em"] = health.written_wall
    report["segundos_desde_gravacao"] = None if age is None else round(age, 1)
    return report
