"""The network's alarms into the detector, between ERP polls.

The poller owns one `AlarmFeed` while it holds the lease (the active instance only): `start()`
opens the receivers, `tick()` — called about once a second while the poller waits for its
next cycle — drains what they queued, lets the failures of one OLT (or concentrator) gather
until they have been quiet for `GATHER_WINDOW` seconds (so one fiber cut is one message, not
twenty), and hands them to `Monitor.hear` as drops with their exact time and cause; recovery
alarms and session starts go with them as reconnections. Each alarm's login comes from the
receivers' index, its ERP record from the `Roster` the population read keeps. What the
receivers counted is written for `/healthz` and the Saúde page every `HEALTH_EVERY` seconds.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from outage import heartbeat
from outage.adapters.alarms.event import LOSS, ONU_UP, POWER, SESSION_START, Alarm
from outage.adapters.alarms.gather import gather
from outage.clock import Clock
from outage.core.detector import AlarmDrop
from outage.db import Connection, DatabaseError
from outage.roster import Roster

if TYPE_CHECKING:
    from outage.adapters.alarms.service import AlarmService
    from outage.config import Settings
    from outage.monitor import Monitor

log = logging.getLogger(__name__)

GATHER_WINDOW = 5.0  # seconds of quiet that end one outage's alarms
GATHER_LONGEST = 30.0  # ... or this long since its first, so a storm cannot hold it back
MAX_PER_TICK = 20_000
MAX_HELD = 200_000  # drops kept for the detector while it cannot take them (newest kept)
HEALTH_EVERY = 10.0
UP_KINDS = (ONU_UP, SESSION_START)


@dataclass
class FeedCounts:
    """What the feed did since it started (shown with the receivers' counts)."""

    quedas: int = 0
    retornos: int = 0
    sem_cadastro: int = 0  # an alarm's login the roster does not hold (installed since the last read)
    lotes: int = 0


class AlarmFeed:
    """See the module docstring."""

    def __init__(self, service: AlarmService, roster: Roster, clock: Clock) -> None:
        self.service = service
        self.roster = roster
        self.clock = clock
        self.counts = FeedCounts()
        self._waiting: list[Alarm] = []
        self._downs: list[AlarmDrop] = []  # ready for the detector, not yet taken by it
        self._back: set[str] = set()
        self._health_due = 0.0
        roster.on_commit = lambda r: service.refresh(r.subscribers())

    def start(self) -> None:
        self.service.start()
        if self.roster.loaded:
            self.service.refresh(self.roster.subscribers())
        log.info("receptores de alarmes abertos: %s", _ports(self.service.ports))

    def stop(self) -> None:
        self.service.stop()
        self._waiting, self._downs, self._back = [], [], set()

    def tick(self, conn: Connection, monitor: Monitor) -> None:
        """Feed the alarms ready now to `monitor`; write the receivers' health when due. A batch
        the monitor could not take (database trouble, the lease to renew) is offered again at
        the next tick, with what arrived meanwhile."""
        now = self.clock.wall()
        fresh = self.service.drain(MAX_PER_TICK)
        back = {a.login for a in fresh if a.kind in UP_KINDS and a.login}
        if back:  # a line back before its group was handed over: it did not stay down
            self._waiting = [
                a for a in self._waiting if a.login not in back or a.at > _last_up(fresh, a.login)
            ]
            self._downs = [d for d in self._downs if d.sub.login not in back]
        self._waiting += [a for a in fresh if a.is_failure]
        ready, self._waiting = gather(self._waiting, now=now, window=GATHER_WINDOW, longest=GATHER_LONGEST)
        olts_gathering = any(a.olt for a in self._waiting)
        found: dict[str, AlarmDrop] = {}
        for group in ready:
            if group.concentrator and olts_gathering:  # the ONUs' own alarms say why: wait for them
                self._waiting += group.sessions  # (at most GATHER_LONGEST from their first)
                continue
            for alarm in group.onus + group.sessions:
                drop = self._drop(alarm, group.cause)
                if drop is not None and (drop.sub.login not in found or not found[drop.sub.login].cause):
                    found[drop.sub.login] = drop
        self._downs += sorted(found.values(), key=lambda d: d.at)
        self._back |= back
        if now >= self._health_due:
            self._health_due = now + HEALTH_EVERY
            self.write_health(conn)
        if not self._downs and not self._back:
            return
        downs, ups = self._downs[-MAX_HELD:], sorted(self._back)
        monitor.hear(conn, downs, ups)
        self.counts.quedas += len(downs)
        self.counts.retornos += len(ups)
        self.counts.lotes += 1
        self._downs, self._back = [], set()

    def write_health(self, conn: Connection) -> None:
        report = self.service.snapshot()
        report["entregues_ao_detector"] = {
            "quedas": self.counts.quedas,
            "retornos": self.counts.retornos,
            "sem_cadastro": self.counts.sem_cadastro,
            "aguardando_agrupamento": len(self._waiting),
        }
        try:
            heartbeat.save_alarms(conn, report, self.clock)
        except DatabaseError as exc:
            log.warning("estado dos receptores de alarmes não gravado: %s", exc)

    def _drop(self, alarm: Alarm, group_cause: str) -> AlarmDrop | None:
        if not alarm.login:
            return None  # counted by the receivers as "sem login"
        sub = self.roster.get(alarm.login)
        if sub is None:
            self.counts.sem_cadastro += 1
            return None
        cause = alarm.cause if alarm.cause in (POWER, LOSS) else group_cause
        return AlarmDrop(sub, alarm.at, cause)


def _last_up(alarms: list[Alarm], login: str) -> float:
    return max(a.at for a in alarms if a.login == login and a.kind in UP_KINDS)


def _ports(ports: dict[str, int]) -> str:
    return ", ".join(f"{name} {port}" for name, port in sorted(ports.items())) or "nenhuma"


def build_feed(settings: Settings, clock: Clock) -> AlarmFeed | None:
    """The feed for these settings, or None when every receiver is off."""
    if not settings.alarms.enabled:
        return None
    from outage.adapters.alarms.service import AlarmService
    from outage.adapters.cause import BACKENDS, inventory

    olts = inventory.load(settings.olt_inventory, os.environ, BACKENDS)
    return AlarmFeed(AlarmService(settings.alarms, olts, clock=clock), Roster(), clock)
