"""The outbox sender: claims due rows, sends them through their channel, stores the outcome.

Pipeline of one pass (`deliver_due`): recover stale claims -> pick, per destination, the
oldest pending row (so a chat gets its alerts in order) -> wait for the row's retry time
and the destination's pacing -> claim it with a compare-and-set -> send it from a small
thread pool (one message in flight per destination) -> store sent / retry / failed.

All database work happens in the thread that calls `deliver_due` / `run`; the pool only
makes HTTP calls. Several senders (threads or processes) may share one database: the
compare-and-set claim guarantees a row is taken by one of them only.

Delivery guarantee -- at least once, with one narrow window. A row is marked `enviando`
before the call and `enviado` right after the provider accepts it. If the process dies
between the provider's acceptance and that commit, the row stays `enviando`; after
`LEASE_SECONDS` any sender returns it to the queue and it is sent again: that crash
(or a send that outlives the lease, which the 10 s call timeout rules out) is the only
way an alert reaches a destination twice. Nothing is ever lost: rows are never deleted,
transient failures are retried with exponential backoff (or the provider's
`retry_after`), permanent ones end as `falhou` with the reason.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from outage.alerts import outbox
from outage.channels.base import Channel, Receipt
from outage.channels.registry import build_channels, split_channel
from outage.config import Settings
from outage.db import open_database, transaction
from outage.http import TransportError, new_session
from outage.model import shown_target

log = logging.getLogger(__name__)

LEASE_SECONDS = 120.0
BACKOFF_BASE = 5.0
BACKOFF_MAX = 600.0
MAX_AGE_SECONDS = 24 * 3600.0  # a transient failure older than this ends the row as `falhou`
POOL_SIZE = 8
_IDLE_TICK = 0.05

Key = tuple[str, str]  # (provider, target)


@dataclass
class DeliveryStats:
    """What one `deliver_due` call did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    recovered: int = 0
    lost_claims: int = 0


@dataclass(frozen=True)
class _Job:
    row_id: int
    key: Key
    kind: str
    created_at: float
    attempts: int


class Pacer:
    """Earliest next send per destination and per provider (sends are spaced, never burst)."""

    def __init__(self) -> None:
        self._free_at: dict[Key, float] = {}

    def ready_at(self, key: Key) -> float:
        return max(self._free_at.get(key, 0.0), self._free_at.get((key[0], "*"), 0.0))

    def consume(self, key: Key, channel: Channel, now: float) -> None:
        self._advance(key, channel.target_interval, now)
        self._advance((key[0], "*"), channel.provider_interval, now)

    def _advance(self, key: Key, interval: float, now: float) -> None:
        """Next slot on a fixed grid: a send a little late (by less than one interval) does
        not push later slots back, so the rate stays at the limit and never above it."""
        free_at = self._free_at.get(key, 0.0)
        start = free_at if 0.0 <= now - free_at < interval else max(free_at, now)
        self._free_at[key] = start + interval

    def hold(self, key: Key, until: float) -> None:
        """After a refused send: the provider's wait replaces the pacing (it did not count)."""
        self._free_at[key] = until


class Sender:
    """Delivers the outbox. One instance per thread; many instances may share a database."""

    def __init__(
        self,
        db_path: str,
        settings: Settings,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        worker_id: str | None = None,
        channels: Mapping[str, Channel] | None = None,
    ) -> None:
        self._conn = open_database(db_path)
        self._clock = clock
        self._sleep = sleep
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._channels = dict(channels) if channels is not None else build_channels(settings, new_session())
        self._pacer = Pacer()
        self._pool = ThreadPoolExecutor(max_workers=POOL_SIZE, thread_name_prefix="alert-send")
        self._in_flight: dict[Future[Receipt], _Job] = {}

    def deliver_due(self, max_wait: float = 0.0) -> DeliveryStats:
        """Send every row due now; with `max_wait` > 0 keep going (retries, pacing) until
        nothing pending can become due within `max_wait` seconds, or that time has passed.
        Rows still pending stay for the next call or process."""
        return self._deliver(self._clock() + max(0.0, max_wait), None)

    def run(self, stop: threading.Event, poll_interval: float = 1.0) -> None:
        """Deliver until `stop` is set (the background thread's body); never raises."""
        while not stop.is_set():
            try:
                self._deliver(self._clock() + poll_interval, stop)
            except Exception:
                log.exception("Falha no envio de alertas; nova tentativa em %g s.", poll_interval)
            stop.wait(poll_interval)
        self.close()

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self._conn.close()

    # --- the loop ---------------------------------------------------------------------

    def _deliver(self, deadline: float, stop: threading.Event | None) -> DeliveryStats:
        stats = DeliveryStats()
        stats.recovered = outbox.recover_stale(self._conn, self._clock(), LEASE_SECONDS)
        if stats.recovered:
            log.warning("%d alerta(s) retomado(s) de um envio interrompido.", stats.recovered)
        while True:
            self._collect(stats)
            now = self._clock()
            wake = self._dispatch(now, stats)
            if self._in_flight:
                pause = _IDLE_TICK if wake is None else min(_IDLE_TICK, max(0.0, wake - now))
                wait(list(self._in_flight), timeout=pause, return_when=FIRST_COMPLETED)
                continue
            if wake is None or wake > deadline or (stop is not None and stop.is_set()):
                return stats
            if wake > now:
                self._sleep(min(wake - now, deadline - now))

    def _dispatch(self, now: float, stats: DeliveryStats) -> float | None:
        """Claim and submit what is ready; return when the next waiting row becomes ready."""
        busy = {job.key for job in self._in_flight.values()}
        wake: float | None = None
        ready: list[tuple[Any, Key]] = []
        for row in outbox.pending_rows(self._conn):
            payload = json.loads(row["payload"]) if row["payload"] is not None else {}
            key = split_channel(row["channel"], payload)
            if key in busy:
                continue
            busy.add(key)  # only the oldest pending row of a destination may go next
            at = max(float(row["next_attempt_at"]), self._pacer.ready_at(key))
            if at > now:
                wake = at if wake is None else min(wake, at)
            else:
                ready.append((row, key))
        if ready:
            self._start(ready, now, stats)
        return wake

    def _start(self, ready: list[tuple[Any, Key]], now: float, stats: DeliveryStats) -> None:
        """Claim the ready rows in one transaction, then hand them to the pool."""
        with transaction(self._conn):
            claimed = [
                (row, key) for row, key in ready if outbox.claim(self._conn, row["id"], self.worker_id, now)
            ]
            payloads = outbox.payloads_of(self._conn, [row["id"] for row, _ in claimed]) if claimed else {}
        stats.lost_claims += len(ready) - len(claimed)
        for row, key in claimed:
            job = _Job(row["id"], key, row["kind"], float(row["created_at"]), int(row["attempts"]) + 1)
            channel = self._channels.get(key[0])
            if channel is None or not key[1]:
                reason = f"canal {key[0]!r} não configurado" if channel is None else "destino ausente"
                self._finish([(job, TransportError(reason, permanent=True))], stats)
                continue
            self._pacer.consume(key, channel, now)
            self._in_flight[self._pool.submit(channel.send, key[1], row["kind"], payloads[row["id"]])] = job

    def _collect(self, stats: DeliveryStats) -> None:
        """Store the outcome of every finished send, in one transaction."""
        outcomes: list[tuple[_Job, Receipt | TransportError]] = []
        for future in [f for f in self._in_flight if f.done()]:
            job = self._in_flight.pop(future)
            try:
                outcomes.append((job, future.result()))
            except TransportError as error:
                outcomes.append((job, error))
            except Exception as error:  # a bug while rendering or sending: retrying will not help
                log.exception("Erro interno ao enviar o alerta %d.", job.row_id)
                outcomes.append((job, TransportError(f"erro interno: {error!r}", permanent=True)))
        if outcomes:
            self._finish(outcomes, stats)

    def _finish(self, outcomes: list[tuple[_Job, Receipt | TransportError]], stats: DeliveryStats) -> None:
        with transaction(self._conn):
            for job, outcome in outcomes:
                if isinstance(outcome, Receipt):
                    self._succeed(job, outcome, stats)
                else:
                    self._handle_error(job, outcome, stats)

    # --- outcomes ---------------------------------------------------------------------

    def _succeed(self, job: _Job, receipt: Receipt, stats: DeliveryStats) -> None:
        now = self._clock()
        if outbox.mark_sent(
            self._conn, job.row_id, self.worker_id, now, receipt.provider_message_id, receipt.note
        ):
            stats.sent += 1
            log.info("Alerta %d (%s) enviado para %s.", job.row_id, job.kind, shown_target(*job.key))
        else:
            log.warning("Alerta %d enviado, mas a reserva expirou antes do registro.", job.row_id)

    def _handle_error(self, job: _Job, error: TransportError, stats: DeliveryStats) -> None:
        now = self._clock()
        if error.permanent:
            self._fail(job, str(error), stats)
            return
        if now - job.created_at > MAX_AGE_SECONDS:
            self._fail(job, f"desistência após {job.attempts} tentativas: {error}", stats)
            return
        delay = error.retry_after if error.retry_after is not None else backoff(job.attempts)
        self._pacer.hold(job.key, now + delay)
        if outbox.mark_retry(self._conn, job.row_id, self.worker_id, now + delay, str(error)):
            stats.retried += 1
        log.warning(
            "Alerta %d para %s falhou (tentativa %d), nova tentativa em %g s: %s",
            job.row_id,
            shown_target(*job.key),
            job.attempts,
            delay,
            error,
        )

    def _fail(self, job: _Job, reason: str, stats: DeliveryStats) -> None:
        if outbox.mark_failed(self._conn, job.row_id, self.worker_id, reason):
            stats.failed += 1
        log.error(
            "ALERTA NÃO ENTREGUE: alerta %d (%s) para %s falhou de vez: %s",
            job.row_id,
            job.kind,
            shown_target(*job.key),
            reason,
        )


def backoff(attempts: int) -> float:
    """Seconds before retry number `attempts` + 1: 5, 10, 20, ... up to 10 minutes."""
    return float(min(BACKOFF_MAX, BACKOFF_BASE * 2 ** max(0, attempts - 1)))
