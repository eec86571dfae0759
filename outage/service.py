"""Background work: the poller and the alert sender, started once from the entry point.

Every process (the dev server, each gunicorn worker) may start a `Service`; a lease in
the database lets exactly one of them poll and send at a time. A heartbeat thread keeps
the lease; the poller thread runs a cycle every CHECK_INTERVAL (timed from the last
cycle recorded in the database, so a takeover does not poll early); the sender thread
delivers the outbox. `stop()` ends all three and releases the lease.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from outage import lease
from outage.config import Settings
from outage.db import open_database
from outage.erp import build_reader
from outage.monitor import CycleFailed, Monitor
from outage.store import LeaseLost

log = logging.getLogger(__name__)

LEASE_TTL = 30.0
HEARTBEAT_EVERY = 5.0


class OutboxSender(Protocol):
    def deliver_due(self, max_wait: float = 0.0) -> Any: ...


def configured_channels(settings: Settings) -> list[str]:
    from outage.channels.registry import configured_channels as channels

    return list(channels(settings))


def build_monitor(
    settings: Settings, holder: str, *, fenced: bool, clock: Callable[[], float] = time.time
) -> Monitor:
    """The monitor wired to the configured ERP, cause analyzer and alert channels."""
    from outage.cause import build_analyzer, olt_names

    return Monitor(
        settings,
        build_reader(settings),
        build_analyzer(settings),
        configured_channels(settings),
        clock=clock,
        holder=holder,
        fenced=fenced,
        olt_names=olt_names(settings),
    )


def build_sender(settings: Settings, holder: str) -> OutboxSender:
    from outage.alerts.sender import Sender

    return Sender(settings.database_path, settings, worker_id=holder)


def last_cycle_start(conn: sqlite3.Connection) -> float | None:
    value = conn.execute("SELECT MAX(started_at) FROM cycles").fetchone()[0]
    return None if value is None else float(value)


class Service:
    """The poller, sender and lease heartbeat threads of one process."""

    def __init__(
        self,
        settings: Settings,
        *,
        monitor_factory: Callable[[str], Monitor] | None = None,
        sender_factory: Callable[[str], OutboxSender] | None = None,
        lease_ttl: float = LEASE_TTL,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.holder = lease.new_holder_id()
        self._monitor_factory = monitor_factory or (lambda h: build_monitor(settings, h, fenced=True))
        self._sender_factory = sender_factory or (lambda h: build_sender(settings, h))
        self.lease_ttl = lease_ttl
        self.clock = clock
        self.stop_event = threading.Event()
        self.leader = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        if self._threads:
            return
        for name, target in (
            ("lease", self._heartbeat),
            ("poller", self._poll),
            ("sender", self._send),
        ):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        log.info("serviço iniciado (processo %s)", self.holder)

    def stop(self, timeout: float = 10.0) -> None:
        self.stop_event.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads = []
        if self.leader.is_set():
            try:
                conn = open_database(self.settings.database_path)
                lease.release(conn, self.holder)
                conn.close()
            except sqlite3.Error:
                log.exception("não foi possível liberar o lease")
            self.leader.clear()
        log.info("serviço parado (processo %s)", self.holder)

    def _heartbeat(self) -> None:
        conn = open_database(self.settings.database_path)
        try:
            while not self.stop_event.is_set():
                try:
                    held = lease.acquire(conn, self.holder, self.clock(), self.lease_ttl)
                except sqlite3.Error:
                    log.exception("falha ao renovar o lease")
                    held = False
                if held and not self.leader.is_set():
                    log.info("este processo assumiu o monitoramento (%s)", self.holder)
                    self.leader.set()
                elif not held and self.leader.is_set():
                    log.warning("outro processo assumiu o monitoramento")
                    self.leader.clear()
                self.stop_event.wait(HEARTBEAT_EVERY)
        finally:
            conn.close()

    def _poll(self) -> None:
        conn = open_database(self.settings.database_path)
        monitor: Monitor | None = None
        try:
            while not self.stop_event.is_set():
                if not self.leader.wait(timeout=1.0):
                    monitor = None  # a new lease term starts from the database state
                    continue
                wait = self._seconds_until_due(conn)
                if wait > 0:
                    self.stop_event.wait(min(wait, 1.0))
                    continue
                monitor = monitor or self._monitor_factory(self.holder)
                self._run_one(conn, monitor)
        finally:
            conn.close()

    def _seconds_until_due(self, conn: sqlite3.Connection) -> float:
        last = last_cycle_start(conn)
        if last is None:
            return 0.0
        return last + self.settings.check_interval - self.clock()

    def _run_one(self, conn: sqlite3.Connection, monitor: Monitor) -> None:
        try:
            monitor.run_cycle(conn)
            self._settle_notices(conn)
        except CycleFailed:
            pass  # recorded and logged by the monitor; the next cycle diffs against the last good state
        except LeaseLost:
            log.warning("ciclo descartado: o lease passou a outro processo")
            self.leader.clear()
        except Exception:
            log.exception("erro inesperado no ciclo")

    def _settle_notices(self, conn: sqlite3.Connection) -> None:
        """Customers notified of an outage that has ended get the normalization notice."""
        from outage.hsm.dispatch import settle_after_cycle

        try:
            settle_after_cycle(conn, self.settings, self.clock())
        except Exception:
            log.exception("falha ao verificar normalizações de disparos aprovados")

    def _send(self) -> None:
        sender: OutboxSender | None = None
        while not self.stop_event.is_set():
            if not self.leader.wait(timeout=1.0):
                continue
            try:
                sender = sender or self._sender_factory(self.holder)
                sender.deliver_due(0.0)
            except Exception:
                log.exception("erro no envio de alertas")
            self.stop_event.wait(1.0)
