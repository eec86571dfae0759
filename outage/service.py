"""Background work: the poller and the alert sender, started once from the entry point.

Every process (the dev server, each gunicorn worker) may start a `Service`; a lease in
the database lets exactly one of them poll and send at a time. A heartbeat thread keeps
the lease; the poller thread runs a cycle every CHECK_INTERVAL, scheduled on the
monotonic clock so a wall-clock jump either way neither stops nor hurries polling; the
sender thread delivers the outbox. `stop()` ends all three and releases the lease.

A new lease term resumes the schedule from the last cycle recorded, so a takeover does
not poll early: measured on the monotonic clock when this boot's heartbeat has it, else
on the wall clock clamped to one interval (a clock that went back never makes it wait
longer than one interval).

Database trouble — a full disk, a lock held past the busy timeout — fails the cycle
with its real reason in the log and the heartbeat; a failure that cannot be recorded is
kept and recorded before the next cycle. A lease that cannot be renewed is kept until it
would expire, then given up — it is never reported as taken by another process.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from outage import heartbeat, lease
from outage.adapters.erp import build_reader
from outage.clock import SYSTEM_CLOCK, Clock
from outage.config import Settings
from outage.db import Connection, DatabaseError, describe_failure, open_database
from outage.listening import AlarmFeed, build_feed
from outage.monitor import CycleFailed, Monitor
from outage.storage import cycles
from outage.storage.cycles import LeaseLost

log = logging.getLogger(__name__)

LEASE_TTL = 20.0  # a holder that stops renewing loses the lease after this (4 missed beats)
HEARTBEAT_EVERY = 5.0
TAKEOVER_MARGIN = 0.2  # a standby tries again this long after the holder's term ends
REOPEN_EVERY = 5.0
MAX_PENDING_FAILURES = 100
LISTEN_EVERY = 1.0  # the network's alarms are read this often between cycles
FEED_RETRY = 60.0


class OutboxSender(Protocol):
    def deliver_due(self, max_wait: float = 0.0) -> Any: ...


def configured_channels(settings: Settings) -> list[str]:
    from outage.adapters.channels.registry import configured_channels as channels

    return list(channels(settings))


def build_monitor(
    settings: Settings,
    holder: str,
    *,
    fenced: bool,
    clock: Callable[[], float] = time.time,
    monotonic: Callable[[], float] | None = None,
) -> Monitor:
    """The monitor wired to the configured ERP, cause analyzer and alert channels."""
    from outage.adapters.cause import build_analyzer, olt_names

    return Monitor(
        settings,
        build_reader(settings),
        build_analyzer(settings),
        configured_channels(settings),
        clock=clock,
        holder=holder,
        fenced=fenced,
        olt_names=olt_names(settings),
        monotonic=monotonic,
    )


def build_sender(settings: Settings, holder: str, clock: Clock = SYSTEM_CLOCK) -> OutboxSender:
    from outage.alerts.sender import Sender

    return Sender(settings.database, settings, worker_id=holder, clock=clock.wall, monotonic=clock.monotonic)


class Service:
    """The poller, sender and lease heartbeat threads of one process."""

    def __init__(
        self,
        settings: Settings,
        *,
        monitor_factory: Callable[[str], Monitor] | None = None,
        sender_factory: Callable[[str], OutboxSender] | None = None,
        feed_factory: Callable[[], AlarmFeed | None] | None = None,
        lease_ttl: float = LEASE_TTL,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.settings = settings
        self.holder = lease.new_holder_id(settings.instance_name)
        self._monitor_factory = monitor_factory or (
            lambda h: build_monitor(settings, h, fenced=True, clock=clock.wall, monotonic=clock.monotonic)
        )
        self._sender_factory = sender_factory or (lambda h: build_sender(settings, h, clock))
        self.lease_ttl = lease_ttl
        self.clock = clock
        self.stop_event = threading.Event()
        self.leader = threading.Event()
        self._threads: list[threading.Thread] = []
        self._renewed_at: float | None = None  # monotonic time of the last renewal of the lease
        self._renewing_at: float | None = None  # the renewal in the running cycle's commit
        self._cycle_start: tuple[float, float] | None = None  # (monotonic, wall) of the running cycle
        self._pending_failures: list[tuple[float, float, str]] = []
        self._feed_factory = feed_factory or (lambda: build_feed(settings, clock))
        self.feed: AlarmFeed | None = None
        self._feed_retry_at = float("-inf")

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
                conn = open_database(self.settings.database)
                cycles.release_lease(conn, self.holder)
                conn.close()
            except DatabaseError as exc:
                log.error("não foi possível liberar o lease: %s (%s)", self._why(exc), exc)
            self.leader.clear()
        log.info("serviço parado (processo %s)", self.holder)

    def _why(self, exc: Exception) -> str:
        return describe_failure(exc, self.settings.database)

    def _open(self) -> Connection | None:
        """A connection for one thread, retried while the database cannot be opened."""
        while not self.stop_event.is_set():
            try:
                return open_database(self.settings.database)
            except DatabaseError as exc:
                log.error("não foi possível abrir o banco de dados: %s (%s)", self._why(exc), exc)
                self.stop_event.wait(REOPEN_EVERY)
        return None

    # --- the lease ------------------------------------------------------------------

    def _heartbeat(self) -> None:
        conn = self._open()
        if conn is None:
            return
        try:
            while not self.stop_event.is_set():
                if self._renew(conn):
                    self._mark_long_cycle(conn)
                    self.stop_event.wait(HEARTBEAT_EVERY)
                else:
                    self.stop_event.wait(self._until_takeover(conn))
        finally:
            conn.close()

    def _until_takeover(self, conn: Connection) -> float:
        """Seconds a standby waits before trying the lease again: until the holder's term ends
        (so a dead holder is replaced within `lease_ttl` of its last renewal, not a beat later),
        at most one beat."""
        try:
            held = cycles.read_lease(conn)
        except DatabaseError:
            return HEARTBEAT_EVERY
        left = TAKEOVER_MARGIN if held is None else held[1] - self.clock.wall() + TAKEOVER_MARGIN
        return min(HEARTBEAT_EVERY, max(TAKEOVER_MARGIN, left))

    def _mark_long_cycle(self, conn: Connection) -> None:
        """A cycle writes its heartbeat in its own commit; one running longer than a beat is
        marked running by the lease's thread, so `/healthz` tells a cycle that never ends, and a
        process taking over after a crash knows a cycle was cut short."""
        start = self._cycle_start
        if start is None or self.clock.monotonic() - start[0] < HEARTBEAT_EVERY:
            return
        try:
            heartbeat.cycle_running(conn, self.holder, self.clock, *start)
        except DatabaseError as exc:
            log.warning("não foi possível marcar o ciclo em andamento: %s (%s)", self._why(exc), exc)

    def _renew(self, conn: Connection) -> bool:
        """Take or renew the lease; True while this process holds it."""
        try:
            before = None if self.leader.is_set() else cycles.read_lease(conn)
            held = cycles.take_lease(conn, self.holder, self.clock.wall(), self.lease_ttl)
        except DatabaseError as exc:
            self._renewal_failed(exc)
            return self.leader.is_set()
        if held:
            self._renewed_at = self.clock.monotonic()
            if not self.leader.is_set():
                if before is not None and before[0] != self.holder:
                    # taken over after its term ran out: what it claimed can be recovered now
                    lease.supersede(before[0])
                    log.info(
                        "este processo assumiu o monitoramento (%s) no lugar de %s", self.holder, before[0]
                    )
                else:
                    log.info("este processo assumiu o monitoramento (%s)", self.holder)
                self.leader.set()
        elif self.leader.is_set():
            log.warning("outro processo assumiu o monitoramento")
            self.leader.clear()
        return held

    def _renewal_failed(self, exc: Exception) -> None:
        """Keep leading while our last renewal still holds (with one beat of margin)."""
        reason = self._why(exc)
        if not self.leader.is_set():
            log.warning("não foi possível disputar o lease: %s (%s)", reason, exc)
            return
        renewed = self._renewed_at if self._renewed_at is not None else float("-inf")
        left = renewed + self.lease_ttl - HEARTBEAT_EVERY - self.clock.monotonic()
        if left > 0:
            log.warning("não foi possível renovar o lease: %s (%s); válido por mais %d s", reason, exc, left)
            return
        log.error(
            "lease não renovado a tempo: %s (%s); este processo deixa de monitorar até conseguir renová-lo",
            reason,
            exc,
        )
        self.leader.clear()

    # --- the poller -----------------------------------------------------------------

    def _poll(self) -> None:
        conn = self._open()
        if conn is None:
            return
        monitor: Monitor | None = None
        due: float | None = None
        first = True  # the first cycle of a lease term
        try:
            while not self.stop_event.is_set():
                if not self.leader.wait(timeout=1.0):
                    monitor, due = None, None  # a new lease term starts from the database state
                    self._close_feed()
                    continue
                if monitor is None:
                    try:
                        monitor = self._monitor_factory(self.holder)
                    except Exception:
                        log.exception("não foi possível montar o monitor")
                        self.stop_event.wait(REOPEN_EVERY)
                        continue
                    monitor.commit_hook = self._at_commit
                    first = True
                self._open_feed(conn, monitor)
                if due is None:
                    due = self._resume(conn)
                wait = due - self.clock.monotonic()
                if wait > 0:
                    self._listen(conn, monitor)
                    self.stop_event.wait(min(wait, LISTEN_EVERY))
                    continue
                due = self.clock.monotonic() + self.settings.check_interval
                if self._run_one(conn, monitor, first=first):
                    due = self.clock.monotonic()
                first = False
        finally:
            self._close_feed()
            conn.close()

    # --- the network's alarms (active instance only) --------------------------------

    def _open_feed(self, conn: Connection, monitor: Monitor) -> None:
        """Open the alarm receivers for this lease term (when set up) and fill the roster their
        alarms are mapped with, unless this term's first cycle is due anyway; a port that cannot
        be bound is logged and tried again every `FEED_RETRY` seconds, the polls going on."""
        if self.feed is not None or not self.settings.alarms.enabled:
            return
        now = self.clock.monotonic()
        if now < self._feed_retry_at:
            return
        try:
            feed = self._feed_factory()
            if feed is None:
                return
            feed.start()
        except (OSError, ValueError) as exc:
            self._feed_retry_at = now + FEED_RETRY
            log.error("receptores de alarmes não abertos (nova tentativa em %d s): %s", FEED_RETRY, exc)
            return
        monitor.roster = feed.roster
        self.feed = feed
        try:
            if cycles.read_beat(conn) is not None:  # not the very first start: a cycle may be minutes away
                monitor.fill_roster(conn)
        except DatabaseError as exc:
            log.warning("cadastro para os alarmes não lido agora (será no próximo ciclo): %s", self._why(exc))

    def _listen(self, conn: Connection, monitor: Monitor) -> None:
        """Apply the alarms ready now, renewing the lease first when a third of it has passed
        (a commit past its expiry is refused)."""
        if self.feed is None:
            return
        renewed = self._renewed_at if self._renewed_at is not None else float("-inf")
        if self.clock.monotonic() - renewed > self.lease_ttl / 3 and not self._renew(conn):
            return
        try:
            self.feed.tick(conn, monitor)
        except LeaseLost:
            if not self._renew(conn):
                log.warning("alarmes não aplicados: o lease passou a outro processo")
                self.leader.clear()
        except DatabaseError as exc:
            log.error("alarmes não aplicados: %s (%s)", self._why(exc), exc)
        except Exception:
            log.exception("erro ao aplicar alarmes da rede")

    def _close_feed(self) -> None:
        if self.feed is not None:
            self.feed.stop()
            self.feed = None
            log.info("receptores de alarmes fechados")

    def _resume(self, conn: Connection) -> float:
        """When (monotonic) the first cycle of a lease term is due: one interval after the
        last cycle started, never more than one interval from now."""
        interval = float(self.settings.check_interval)
        try:
            since = heartbeat.since_last_start(conn, cycles.read_beat(conn), self.clock)
        except DatabaseError as exc:
            log.warning("não foi possível ler o último ciclo: %s (%s)", self._why(exc), exc)
            since = None
        elapsed = interval if since is None else min(since, interval)
        return self.clock.monotonic() + interval - elapsed

    def _run_one(self, conn: Connection, monitor: Monitor, *, first: bool = False) -> bool:
        """One cycle with its heartbeat; True when it must be retried at once.

        A good cycle renews the lease and writes its heartbeat in its own commit (`_at_commit`),
        so a quiet cycle commits once. The first cycle of a lease term renews the lease and
        beats its start before it runs, so `/healthz` sees a first cycle that never ends."""
        if first and not self._renew(conn):
            return False
        self._flush_failures(conn)
        started = self.clock.wall()
        self._cycle_start = (self.clock.monotonic(), started)
        if first:
            self._beat(heartbeat.cycle_started, conn, self.holder, self.clock)
        error: str | None = None
        try:
            monitor.run_cycle(conn)
        except CycleFailed as exc:
            # recorded and logged by the monitor; the next cycle diffs against the last good state
            cause = exc.__cause__
            error = self._why(cause) if isinstance(cause, DatabaseError) else str(exc)
        except LeaseLost:
            self._beat(heartbeat.cycle_finished, conn, self.clock, ok_cycle=None, error="ciclo descartado")
            return self._lease_lost(conn)
        except DatabaseError as exc:
            error = self._why(exc)
            log.error("ciclo falhou: %s (%s)", error, exc)
            self._pending_failures.append((started, self.clock.wall(), error))
            self._flush_failures(conn)
        except Exception:
            log.exception("erro inesperado no ciclo")
            error = "erro interno no ciclo (detalhes no log)"
        finally:
            self._cycle_start = None
        if error is None:
            self._renewed_at = self._renewing_at or self._renewed_at
            self._settle_notices(conn)
        else:
            self._beat(heartbeat.cycle_finished, conn, self.clock, ok_cycle=None, error=error)
        return False

    def _at_commit(self, conn: Connection, cycle_id: int) -> None:
        """The poller's writes in a good cycle's commit: the lease renewed (`LeaseLost` when
        another process holds it) and the heartbeat of the cycle, start and end."""
        self._renewing_at = self.clock.monotonic()
        cycles.renew_lease(conn, self.holder, self.clock.wall(), self.lease_ttl)
        if self._cycle_start is not None:
            mono, wall = self._cycle_start
            cycles.beat_cycle_start(conn, self.holder, self.clock.boot_id, mono, wall)
        cycles.beat_cycle_end(conn, self.clock.monotonic(), self.clock.wall(), ok_cycle=cycle_id, error=None)

    def _lease_lost(self, conn: Connection) -> bool:
        """The commit found the lease not ours. Still ours once renewed (its expiry passed on
        a wall clock that jumped ahead): retry at once. Another holder's: stand down."""
        if self._renew(conn):
            log.warning("ciclo descartado: o lease venceu antes do commit (relógio ajustado?); repetindo já")
            return True
        log.warning("ciclo descartado: o lease passou a outro processo")
        self.leader.clear()
        return False

    def _beat(self, record: Callable[..., None], *args: Any, **kwargs: Any) -> None:
        try:
            record(*args, **kwargs)
        except DatabaseError as exc:
            log.warning("heartbeat do poller não gravado: %s (%s)", self._why(exc), exc)

    def _flush_failures(self, conn: Connection) -> None:
        """Record the failed cycles that could not be recorded when they failed."""
        del self._pending_failures[:-MAX_PENDING_FAILURES]
        while self._pending_failures:
            started, finished, reason = self._pending_failures[0]
            try:
                cycles.record_failed_cycle(conn, self.holder, started, finished, reason)
            except DatabaseError as exc:
                log.warning("falha do ciclo ainda não registrada: %s (%s)", self._why(exc), exc)
                return
            self._pending_failures.pop(0)

    def _settle_notices(self, conn: Connection) -> None:
        """Customers notified of an outage that has ended get the normalization notice."""
        from outage.hsm.dispatch import settle_after_cycle

        try:
            settle_after_cycle(conn, self.settings, self.clock.wall())
        except Exception:
            log.exception("falha ao verificar normalizações de disparos aprovados")

    # --- the sender -----------------------------------------------------------------

    def _send(self) -> None:
        sender: OutboxSender | None = None
        while not self.stop_event.is_set():
            if not self.leader.wait(timeout=1.0):
                continue
            try:
                sender = sender or self._sender_factory(self.holder)
                sender.deliver_due(0.0)
            except DatabaseError as exc:
                log.error("envio de alertas interrompido: %s (%s)", self._why(exc), exc)
            except Exception:
                log.exception("erro no envio de alertas")
            self.stop_event.wait(1.0)
