"""The delivery engine: NOC alerts and customer notices, one claim, one retry policy.

`Sender.deliver_due()` is the background delivery of the whole outbox; `Sender.deliver_rows()`
is an approval's fast path over its own rows (see `outage.hsm.delivery`). Both run the same
loop: recover stale claims -> pick what may go now (per destination, in order; see
`outage.storage.outbox` for the rules) -> wait for the row's retry time and the pacing of
its destination and provider -> claim with a compare-and-set -> send from a thread pool
(one message in flight per destination) -> store each outcome as soon as it arrives.

All database work happens in the thread that calls the engine; the pool only makes HTTP
calls. Several engines (threads or processes) may share one database: a row is taken by
one of them only.

Retry policy (`verdict`, the only one): accepted -> `enviado`; refused for good -> `falhou`
with the reason; a transient failure -> retried after `retry_after` or 5, 10, 20 s ... up
to 10 min, until the row is a day old (then `falhou`, "desistência após N tentativas").
A failing alert stalls later alerts of other events to its destination for at most
`outbox.STALL_AFTER_ATTEMPTS` attempts (about 35 s); it keeps retrying meanwhile.

Delivery guarantees. Customer notices: at most once. A notice whose answer never came (the
provider did not answer in time, the connection dropped after the request went out, or the
process died mid-send) may have been accepted: it becomes `incerto` and is sent again only
when an operator asks. NOC alerts: at least once, never out of order per event. A NOC alert
in that same situation is sent again, its text saying it may be a repeat; that window --
between the provider's acceptance and our commit of it -- is the only way an alert reaches
a destination twice. Nothing is ever lost: rows are never deleted.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Protocol

from outage.adapters.channels.base import Channel, Receipt
from outage.adapters.channels.messages import plural
from outage.adapters.channels.registry import build_channels, shown_target, split_channel
from outage.config import Settings
from outage.core import kinds
from outage.core.notices import notice_reference
from outage.db import Connection, open_database
from outage.http import TransportError, new_session
from outage.lease import is_gone, new_holder_id
from outage.storage import outbox

log = logging.getLogger(__name__)

LEASE_SECONDS = 120.0
BACKOFF_BASE = 5.0
BACKOFF_MAX = 600.0
MAX_AGE_SECONDS = 24 * 3600.0  # a transient failure older than this ends the row as `falhou`
POOL_SIZE = 8
CUSTOMER_BATCH = 500  # due customer notices looked at per pass
PROVIDER_BURST = 0.05  # seconds of provider pacing a late loop may catch up at once
JUMP_TOLERANCE = 5.0  # a wall clock moving this much more (or less) than the monotonic one jumped
_IDLE_TICK = 0.05
_NEVER_SENT = ("NewConnectionError", "Connection refused")  # the request never left this host

Key = tuple[str, str]  # (provider, target)


@dataclass
class DeliveryStats:
    """What one engine call did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    uncertain: int = 0
    recovered: int = 0
    lost_claims: int = 0
    left: int = 0  # given rows not sent when the call ended (fast path)


@dataclass(frozen=True)
class _Job:
    row: outbox.Row
    key: Key
    attempt: int  # the number of this attempt


class Pacer:
    """Earliest next send per destination and per provider (sends are spaced, never burst
    to a destination; to a provider a loop running late may catch up `PROVIDER_BURST`)."""

    def __init__(self) -> None:
        self._free_at: dict[Key, float] = {}

    def ready_at(self, key: Key) -> float:
        return max(self._free_at.get(key, 0.0), self._free_at.get((key[0], "*"), 0.0))

    def consume(self, key: Key, channel: Channel, now: float) -> None:
        self._advance(key, channel.target_interval, now, 0.0)
        self._advance((key[0], "*"), channel.provider_interval, now, PROVIDER_BURST)

    def _advance(self, key: Key, interval: float, now: float, burst: float) -> None:
        """Next slot on a fixed grid: a send a little late (by less than one interval, or
        `burst`) does not push later slots back, so the rate stays at the limit, never above."""
        free_at = self._free_at.get(key, 0.0)
        start = free_at if 0.0 <= now - free_at < max(interval, burst) else max(free_at, now)
        self._free_at[key] = start + interval

    def shift(self, seconds: float) -> None:
        """The wall clock jumped by `seconds`: every slot moves with it."""
        self._free_at = {key: at + seconds for key, at in self._free_at.items()}

    def hold(self, key: Key, until: float) -> None:
        """The destination asked us to wait (a rate limit's `retry_after`): nothing goes to
        it before `until`. Other failures hold only their own row (its retry time)."""
        self._free_at[key] = until


def backoff(attempts: int) -> float:
    """Seconds before retry number `attempts` + 1: 5, 10, 20, ... up to 10 minutes."""
    return float(min(BACKOFF_MAX, BACKOFF_BASE * 2 ** max(0, attempts - 1)))


def answer_lost(error: TransportError) -> bool:
    """True when the request may have reached the provider although no answer came back
    (a timeout, a dropped connection): only a refused connection proves it never left."""
    return error.status is None and not any(mark in str(error) for mark in _NEVER_SENT)


def verdict(job: _Job, outcome: Receipt | TransportError, now: float) -> outbox.Verdict:
    """The retry policy: what a send's outcome makes of its row (see the module docstring)."""
    row = job.row
    if isinstance(outcome, Receipt):
        return outbox.Verdict(row.id, outbox.SENT, now, outcome.note, outcome.provider_message_id)
    if outcome.permanent:
        return outbox.Verdict(row.id, outbox.FAILED, now, str(outcome))
    lost = answer_lost(outcome)
    if lost and row.kind == kinds.CUSTOMER_TEMPLATE:
        note = f"incerto: o provedor pode ter aceitado o aviso sem responder ({outcome})"
        return outbox.Verdict(row.id, outbox.UNCERTAIN, now, note)
    if now - row.created_at > MAX_AGE_SECONDS:
        return outbox.Verdict(
            row.id, outbox.FAILED, now, f"desistência após {job.attempt} tentativas: {outcome}"
        )
    delay = outcome.retry_after if outcome.retry_after is not None else backoff(job.attempt)
    return outbox.Verdict(row.id, outbox.PENDING, now + delay, str(outcome), repeat=row.repeat or lost)


class _Source(Protocol):
    """What an engine call may send: rows by destination key, in the order they may go."""

    due_only: bool

    def candidates(self, conn: Connection, now: float) -> tuple[list[tuple[outbox.Row, Key]], float | None]:
        """(rows that may go, each with its key; the earliest time something else falls due)."""
        ...

    def taken(self, row_ids: Iterable[int]) -> None: ...

    def left(self) -> int: ...


class _Outbox:
    """The whole outbox: the NOC rows that may go next, and the customer notices due."""

    due_only = True

    def candidates(self, conn: Connection, now: float) -> tuple[list[tuple[outbox.Row, Key]], float | None]:
        rows = outbox.noc_heads(conn)
        customers = outbox.due_customer_rows(conn, now, CUSTOMER_BATCH)
        later = None if customers else outbox.next_customer_due(conn)
        found = [(row, split_channel(row.channel, {})) for row in rows]
        found += [(row, split_channel(row.channel, row.payload or {})) for row in customers]
        return found, later

    def taken(self, row_ids: Iterable[int]) -> None:
        return None

    def left(self) -> int:
        return 0


class _GivenRows:
    """Rows named by the caller (an approval's notices), held for later or not."""

    due_only = False

    def __init__(self, rows: Sequence[outbox.Row]) -> None:
        self._todo = {row.id: (row, split_channel(row.channel, row.payload or {})) for row in rows}

    def candidates(self, conn: Connection, now: float) -> tuple[list[tuple[outbox.Row, Key]], float | None]:
        return [(row, key) for row, key in self._todo.values()], None

    def taken(self, row_ids: Iterable[int]) -> None:
        for row_id in row_ids:
            self._todo.pop(row_id, None)

    def left(self) -> int:
        return len(self._todo)


class Sender:
    """The engine over one database. One instance per thread; many may share a database."""

    def __init__(
        self,
        db_path: str,
        settings: Settings,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        worker_id: str | None = None,
        channels: Mapping[str, Channel] | None = None,
        concurrency: int = POOL_SIZE,
        monotonic: Callable[[], float] | None = None,
    ) -> None:
        self._conn = open_database(db_path)
        self._clock = clock
        self._sleep = sleep
        self._monotonic = monotonic  # given to the background delivery: it follows wall clock jumps
        self._last_reading: tuple[float, float] | None = None
        self._instance = settings.instance_name
        self.worker_id = worker_id or new_holder_id(self._instance)
        session = new_session(concurrency)
        self._channels = dict(channels) if channels is not None else build_channels(settings, session)
        self._concurrency = concurrency
        self._pacer = Pacer()
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="envio")
        self._in_flight: dict[Future[Receipt], _Job] = {}

    def deliver_due(self, max_wait: float = 0.0) -> DeliveryStats:
        """Send every row due now; with `max_wait` > 0 keep going (retries, pacing) until
        nothing pending can become due within `max_wait` seconds, or that time has passed.
        Rows still pending stay for the next call or process."""
        return self._deliver(_Outbox(), self._clock() + max(0.0, max_wait), None)

    def deliver_rows(self, row_ids: Sequence[int], max_wait: float) -> DeliveryStats:
        """Send the pending rows among `row_ids` now (held or not), starting sends for at
        most `max_wait` seconds; what is left stays pending for the background delivery."""
        source = _GivenRows(outbox.pending_among(self._conn, row_ids))
        return self._deliver(source, self._clock() + max(0.0, max_wait), None)

    def run(self, stop: threading.Event, poll_interval: float = 1.0) -> None:
        """Deliver until `stop` is set (a background thread's body); never raises."""
        while not stop.is_set():
            try:
                self._deliver(_Outbox(), self._clock() + poll_interval, stop)
            except Exception:
                log.exception("Falha no envio de alertas; nova tentativa em %g s.", poll_interval)
            stop.wait(poll_interval)
        self.close()

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self._conn.close()

    # --- the loop ---------------------------------------------------------------------

    def _deliver(self, source: _Source, deadline: float, stop: threading.Event | None) -> DeliveryStats:
        stats = DeliveryStats()
        self._follow_jump()  # one since the last call: `deadline` was read after it
        self._recover(stats)
        while True:
            self._collect(stats)
            deadline += self._follow_jump()  # one during this call moves the deadline too
            now = self._clock()
            starting = (source.due_only or now < deadline) and not (stop is not None and stop.is_set())
            wake = self._start_ready(source, now, stats) if starting else None
            if self._in_flight:
                pause = _IDLE_TICK if wake is None else min(_IDLE_TICK, max(0.0, wake - now))
                wait(list(self._in_flight), timeout=pause, return_when=FIRST_COMPLETED)
                continue
            if wake is None or wake > deadline or (stop is not None and stop.is_set()):
                break
            if wake > now:
                self._sleep(min(wake - now, deadline - now))
        stats.left = source.left()
        return stats

    def _follow_jump(self) -> float:
        """When the wall clock jumped since the last reading (it moved more or less than the
        monotonic clock, beyond `JUMP_TOLERANCE`), move the outbox's due times and the pacing by
        as much, so a jump back never holds the alerts and a jump ahead never rushes them.
        Returns the jump (0 when none)."""
        if self._monotonic is None:
            return 0.0
        wall, mono = self._clock(), self._monotonic()
        last, self._last_reading = self._last_reading, (wall, mono)
        if last is None:
            return 0.0
        jump = (wall - last[0]) - (mono - last[1])
        if abs(jump) <= JUMP_TOLERANCE:
            return 0.0
        moved = outbox.shift_schedule(self._conn, jump)
        self._pacer.shift(jump)
        log.warning(
            "o relógio do sistema saltou %+.0f s: %d mensagens na fila reprogramadas com ele", jump, moved
        )
        return jump

    def _recover(self, stats: DeliveryStats) -> None:
        requeued, uncertain = outbox.recover_stale(
            self._conn, self._clock(), LEASE_SECONDS, lambda holder: is_gone(holder, self._instance)
        )
        stats.recovered = requeued + uncertain
        if requeued:
            log.warning(
                "%s de um envio interrompido (podem chegar repetidos).",
                plural(requeued, "alerta retomado", "alertas retomados"),
            )
        if uncertain:
            log.error(
                "%s no meio do envio: marcados como incertos, não serão reenviados sem um operador pedir.",
                plural(uncertain, "aviso a clientes interrompido", "avisos a clientes interrompidos"),
            )

    def _start_ready(self, source: _Source, now: float, stats: DeliveryStats) -> float | None:
        """Claim and submit what may go now; return when the next waiting row may go."""
        rows, wake = source.candidates(self._conn, now)
        busy = {job.key for job in self._in_flight.values()}
        slots = self._concurrency - len(self._in_flight)
        by_key: dict[Key, list[outbox.Row]] = defaultdict(list)
        for row, key in rows:
            if key not in busy:
                by_key[key].append(row)
        ready: list[tuple[outbox.Row, Key]] = []
        for key, queued in by_key.items():
            if len(ready) >= slots:
                break  # a finished send wakes the loop
            due = [row for row in queued if row.next_attempt_at <= now or not source.due_only]
            at = max(self._pacer.ready_at(key), now if due else min(r.next_attempt_at for r in queued))
            if at > now:
                wake = at if wake is None else min(wake, at)
                continue
            channel = self._channels.get(key[0])
            if channel is not None:
                self._pacer.consume(key, channel, now)
            ready.append((due[0], key))
        if ready:
            self._claim_and_submit(source, ready, now, stats)
        return wake

    def _claim_and_submit(
        self, source: _Source, ready: list[tuple[outbox.Row, Key]], now: float, stats: DeliveryStats
    ) -> None:
        ids = outbox.claim(
            self._conn, [row.id for row, _ in ready], self.worker_id, now, due_only=source.due_only
        )
        source.taken(row.id for row, _ in ready)
        got = set(ids)
        stats.lost_claims += len(ready) - len(got)
        claimed = [(row, key) for row, key in ready if row.id in got]
        missing = [row.id for row, _ in claimed if row.payload is None]
        payloads = outbox.payloads_of(self._conn, missing) if missing else {}
        for row, key in claimed:
            job = _Job(row, key, row.attempts + 1)
            channel = self._channels.get(key[0])
            if channel is None or not key[1]:
                reason = f"canal {key[0]!r} não configurado" if channel is None else "destino ausente"
                self._finish([(job, TransportError(reason, permanent=True))], stats)
                continue
            payload = row.payload if row.payload is not None else payloads[row.id]
            if row.repeat and row.kind != kinds.CUSTOMER_TEMPLATE:
                payload = {**payload, "repeticao": True}
            if row.kind == kinds.CUSTOMER_TEMPLATE:
                payload = {**payload, "referencia": notice_reference(row.id)}
            self._in_flight[self._pool.submit(channel.send, key[1], row.kind, payload)] = job

    def _collect(self, stats: DeliveryStats) -> None:
        """Store the outcome of every finished send at once (the acceptance is on record
        within one loop turn of the provider's answer)."""
        outcomes: list[tuple[_Job, Receipt | TransportError]] = []
        for future in [f for f in self._in_flight if f.done()]:
            job = self._in_flight.pop(future)
            try:
                outcomes.append((job, future.result()))
            except TransportError as error:
                outcomes.append((job, error))
            except Exception as error:  # a bug while rendering or sending: retrying will not help
                log.exception("Erro interno ao enviar a mensagem %d.", job.row.id)
                outcomes.append((job, TransportError(f"erro interno: {error!r}", permanent=True)))
        if outcomes:
            self._finish(outcomes, stats)

    def _finish(self, outcomes: list[tuple[_Job, Receipt | TransportError]], stats: DeliveryStats) -> None:
        now = self._clock()
        verdicts = {job.row.id: (job, verdict(job, outcome, now)) for job, outcome in outcomes}
        for job, outcome in outcomes:
            if isinstance(outcome, TransportError) and outcome.retry_after is not None:
                self._pacer.hold(job.key, now + outcome.retry_after)
        applied = {
            v.row_id for v in outbox.record(self._conn, self.worker_id, [v for _, v in verdicts.values()])
        }
        for row_id, (job, v) in verdicts.items():
            if row_id not in applied:
                log.warning("Mensagem %d: a reserva expirou antes do registro do resultado.", row_id)
                continue
            self._account(job, v, now, stats)

    def _account(self, job: _Job, v: outbox.Verdict, now: float, stats: DeliveryStats) -> None:
        where = shown_target(*job.key)
        if v.status == outbox.SENT:
            stats.sent += 1
            log.info("Mensagem %d (%s) enviada para %s.", job.row.id, job.row.kind, where)
        elif v.status == outbox.PENDING:
            stats.retried += 1
            log.warning(
                "Mensagem %d para %s falhou (tentativa %d), nova tentativa em %g s: %s",
                job.row.id,
                where,
                job.attempt,
                v.at - now,
                v.note,
            )
        elif v.status == outbox.UNCERTAIN:
            stats.uncertain += 1
            log.error("Aviso %d para %s ficou incerto: %s", job.row.id, where, v.note)
        else:
            stats.failed += 1
            label = "ALERTA NÃO ENTREGUE" if job.row.kind in kinds.KINDS else "Aviso ao cliente não entregue"
            log.error(
                "%s: mensagem %d (%s) para %s falhou de vez: %s",
                label,
                job.row.id,
                job.row.kind,
                where,
                v.note,
            )
