"""The approval's fast path: send one decision's outbox rows now, concurrently and paced.

Why not only `outage.alerts.sender.Sender`? It keeps one message in flight per destination
and at most 8 overall, right for NOC alerts, but 1,000 customer notices through a provider
that answers in 50 ms would take over 6 s. This module sends the rows one decision wrote,
with up to `CONCURRENCY` (64) calls in flight, paced at the provider's rate (`HSM_SEND_RATE`,
default per provider below), for at most `max_wait` seconds, and records each outcome on
the row exactly like the sender does (the same compare-and-set claims and marks of
`outage.alerts.outbox`). What is left -- time ran out, a transient failure to retry --
stays in the outbox for the background sender: no row is ever taken by both, none is lost.

The approval writes its rows due a little later (`HOLD_SECONDS`) so the background sender
leaves them to this fast path first; after a crash it picks them up when they fall due,
and rows left `enviando` come back after the sender's lease: only rows never recorded as
accepted are sent again.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from outage.alerts import outbox
from outage.alerts.sender import backoff
from outage.channels.base import CUSTOMER_TEMPLATE, Channel, Receipt
from outage.channels.registry import build_channels
from outage.config import Settings
from outage.db import connect, transaction
from outage.hsm.phones import mask_phone
from outage.http import TransportError, new_session

log = logging.getLogger(__name__)

CONCURRENCY = 64
DEFAULT_RATES = {"hsm": 1000.0, "whatsapp_cloud": 80.0}  # messages per second to the provider
HOLD_SECONDS = 30.0


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    retry: int = 0
    left: int = 0


def send_rate(settings: Settings, provider: str) -> float:
    return settings.hsm_send_rate or DEFAULT_RATES.get(provider, 20.0)


def deliver_rows(
    db_path: str,
    settings: Settings,
    row_ids: list[int],
    *,
    max_wait: float,
    channels: Mapping[str, Channel] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> DeliveryReport:
    """Send the pending rows among `row_ids` for at most `max_wait` seconds; see the module."""
    conn = connect(db_path)
    chans = dict(channels) if channels is not None else build_channels(settings, new_session(CONCURRENCY))
    try:
        return _Run(conn, settings, chans, clock).go(row_ids, max_wait)
    finally:
        conn.close()


class _Run:
    def __init__(
        self,
        conn: sqlite3.Connection,
        settings: Settings,
        channels: dict[str, Channel],
        clock: Callable[[], float],
    ) -> None:
        self.conn = conn
        self.settings = settings
        self.channels = channels
        self.clock = clock
        self.worker = f"hsm-console:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.report = DeliveryReport()
        self.in_flight: dict[Future[Receipt], tuple[int, str, int]] = {}

    def go(self, row_ids: list[int], max_wait: float) -> DeliveryReport:
        todo = deque(self._pending(row_ids))
        claimed: deque[sqlite3.Row] = deque()
        deadline = self.clock() + max_wait
        next_slot = self.clock()
        with ThreadPoolExecutor(max_workers=CONCURRENCY, thread_name_prefix="hsm-send") as pool:
            while todo or claimed or self.in_flight:
                now = self.clock()
                while (
                    (todo or claimed)
                    and now < deadline
                    and len(self.in_flight) < CONCURRENCY
                    and now >= next_slot
                ):
                    if not claimed:
                        claimed.extend(self._claim(todo, CONCURRENCY))
                        continue
                    row = claimed.popleft()
                    if self._start(pool, row):
                        next_slot = max(next_slot, now - 0.05) + 1.0 / send_rate(
                            self.settings, row["channel"]
                        )
                if not self.in_flight:
                    if not (todo or claimed) or now >= deadline:
                        break
                    time.sleep(max(0.0, min(next_slot, deadline) - now))
                    continue
                pause = max(0.0, min(0.05, next_slot - now)) if (todo or claimed) and now < deadline else 0.05
                wait(list(self.in_flight), timeout=pause, return_when=FIRST_COMPLETED)
                self._collect()
        self._release(claimed)
        self.report.left = len(todo) + len(claimed)
        return self.report

    def _claim(self, todo: deque[sqlite3.Row], count: int) -> list[sqlite3.Row]:
        """Claim up to `count` rows in one transaction (compare-and-set each, whatever its due time)."""
        batch = [todo.popleft() for _ in range(min(count, len(todo)))]
        claimed = []
        with transaction(self.conn):
            for row in batch:
                changed = self.conn.execute(
                    "UPDATE outbox SET status = 'enviando', claimed_by = ?, claimed_at = ?,"
                    " attempts = attempts + 1 WHERE id = ? AND status = 'pendente'",
                    (self.worker, time.time(), row["id"]),
                ).rowcount
                if changed == 1:
                    claimed.append(row)
        return claimed

    def _release(self, rows: deque[sqlite3.Row]) -> None:
        """Give back rows claimed but not sent before the deadline (the background sender takes them)."""
        if not rows:
            return
        with transaction(self.conn):
            self.conn.executemany(
                "UPDATE outbox SET status = 'pendente', claimed_by = NULL, claimed_at = NULL,"
                " attempts = attempts - 1 WHERE id = ? AND claimed_by = ? AND status = 'enviando'",
                [(row["id"], self.worker) for row in rows],
            )

    def _pending(self, row_ids: list[int]) -> list[sqlite3.Row]:
        rows: list[sqlite3.Row] = []
        for i in range(0, len(row_ids), 500):
            chunk = row_ids[i : i + 500]
            marks = ",".join("?" for _ in chunk)
            rows += self.conn.execute(
                f"SELECT id, channel, kind, payload, attempts FROM outbox WHERE id IN ({marks})"  # noqa: S608
                " AND status = 'pendente' AND kind = ? ORDER BY id",
                [*chunk, CUSTOMER_TEMPLATE],
            ).fetchall()
        return rows

    def _start(self, pool: ThreadPoolExecutor, row: sqlite3.Row) -> bool:
        """Submit the send of a claimed row; False (and the row failed) without its channel."""
        payload = json.loads(row["payload"])
        target = str(payload.get("to") or "")
        attempts = int(row["attempts"]) + 1
        channel = self.channels.get(row["channel"])
        if channel is None:
            self._record(
                [(row["id"], target, attempts, TransportError("canal não configurado", permanent=True))]
            )
            return False
        self.in_flight[pool.submit(channel.send, target, row["kind"], payload)] = (
            row["id"],
            target,
            attempts,
        )
        return True

    def _collect(self) -> None:
        outcomes: list[tuple[int, str, int, Receipt | TransportError]] = []
        for future in [f for f in self.in_flight if f.done()]:
            row_id, target, attempts = self.in_flight.pop(future)
            try:
                outcomes.append((row_id, target, attempts, future.result()))
            except TransportError as error:
                outcomes.append((row_id, target, attempts, error))
            except Exception as error:  # a bug while sending: retrying will not help
                log.exception("Erro interno ao enviar o aviso %d.", row_id)
                outcomes.append(
                    (row_id, target, attempts, TransportError(f"erro interno: {error!r}", permanent=True))
                )
        if outcomes:
            self._record(outcomes)

    def _record(self, outcomes: list[tuple[int, str, int, Any]]) -> None:
        now = time.time()
        with transaction(self.conn):
            for row_id, target, attempts, outcome in outcomes:
                self._store(row_id, target, attempts, outcome, now)

    def _store(self, row_id: int, target: str, attempts: int, outcome: Any, now: float) -> None:
        if isinstance(outcome, Receipt):
            outbox.mark_sent(self.conn, row_id, self.worker, now, outcome.provider_message_id, outcome.note)
            self.report.sent += 1
            return
        if outcome.permanent:
            outbox.mark_failed(self.conn, row_id, self.worker, str(outcome))
            self.report.failed += 1
            log.warning("Aviso ao cliente %s não entregue: %s", mask_phone(target), outcome)
            return
        delay = outcome.retry_after if outcome.retry_after is not None else backoff(attempts)
        outbox.mark_retry(self.conn, row_id, self.worker, now + delay, str(outcome))
        self.report.retry += 1
        log.info("Aviso ao cliente %s: nova tentativa em %g s (%s)", mask_phone(target), delay, outcome)
