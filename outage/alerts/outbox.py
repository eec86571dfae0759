"""The alert outbox: rows written with the event change, claimed and sent later.

`enqueue()` must be called inside the caller's transaction (see `outage.db.transaction`),
so an alert exists if and only if the event change that caused it was committed.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

# Kinds of NOC alert. The payload of each is described in `outage/alerts/messages.py`.
OPENING = "abertura"
RECURRENCE = "recorrencia"
GROWTH = "crescimento"
CAUSE = "causa"
NORMALIZATION = "normalizacao"
SUMMARY = "resumo"
KINDS = (OPENING, RECURRENCE, GROWTH, CAUSE, NORMALIZATION, SUMMARY)


@dataclass(frozen=True)
class Alert:
    """One NOC alert, before it is fanned out to the configured channels."""

    kind: str
    payload: dict[str, Any] = field(default_factory=dict)
    event_id: str | None = None


def enqueue(
    conn: sqlite3.Connection,
    alerts: Iterable[Alert],
    channels: Iterable[str],
    now: float,
    due_at: float | None = None,
) -> int:
    """Write one pending row per alert per channel; returns how many rows were written.

    `due_at` holds the rows until then (an opening waits for its cause, see `release`).
    """
    names = list(channels)
    due = now if due_at is None else due_at
    rows = [
        (name, a.kind, a.event_id, json.dumps(a.payload, ensure_ascii=False), due, now)
        for a in alerts
        for name in names
    ]
    conn.executemany(
        "INSERT INTO outbox (channel, kind, event_id, payload, next_attempt_at, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        rows,
    )
    return len(rows)


def refresh_pending_payload(
    conn: sqlite3.Connection,
    event_id: str,
    kind: str,
    payload: dict[str, Any],
    release_at: float | None = None,
) -> list[str]:
    """Update the payload of not-yet-claimed rows of one alert (e.g. the cause arrived).

    With `release_at`, rows held until later become due then. Returns the channels whose
    row was already claimed or sent, which therefore need a follow-up alert instead.
    Compare-and-set on `status = 'pendente'` keeps it race-free.
    """
    body = json.dumps(payload, ensure_ascii=False)
    conn.execute(
        "UPDATE outbox SET payload = ?, next_attempt_at = MIN(next_attempt_at, COALESCE(?, next_attempt_at))"
        " WHERE event_id = ? AND kind = ? AND status = 'pendente'",
        (body, release_at, event_id, kind),
    )
    rows = conn.execute(
        "SELECT DISTINCT channel FROM outbox WHERE event_id = ? AND kind = ? AND status != 'pendente'",
        (event_id, kind),
    ).fetchall()
    return [row["channel"] for row in rows]


# --- claiming and outcomes (used by `outage.alerts.sender`) ---------------------------
# Each statement below runs on its own (autocommit) and is a compare-and-set: it changes
# the row only if it is still in the state the caller saw, and reports whether it did.


def pending_rows(conn: sqlite3.Connection, limit: int = 2000) -> list[sqlite3.Row]:
    """The oldest pending row of each destination, in the order written (due or not); for
    channels without a target every pending row, since the target is in the payload.
    The payload is included
    only for rows whose channel names no target (the target is the payload's `to`)."""
    return conn.execute(
        "SELECT id, channel, kind, attempts, next_attempt_at, created_at,"
        " CASE WHEN instr(channel, ':') = 0 THEN payload END AS payload"
        " FROM outbox WHERE status = 'pendente' AND (instr(channel, ':') = 0 OR id IN"
        " (SELECT MIN(id) FROM outbox WHERE status = 'pendente' GROUP BY channel)) ORDER BY id LIMIT ?",
        (limit,),
    ).fetchall()


def payloads_of(conn: sqlite3.Connection, row_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The decoded payloads of some rows, by id."""
    marks = ",".join("?" for _ in row_ids)
    rows = conn.execute(f"SELECT id, payload FROM outbox WHERE id IN ({marks})", row_ids)  # noqa: S608
    return {int(row["id"]): dict(json.loads(row["payload"])) for row in rows}


def claim(conn: sqlite3.Connection, row_id: int, worker: str, now: float) -> bool:
    """Take a due pending row for `worker`; False when someone else took it first."""
    cursor = conn.execute(
        "UPDATE outbox SET status = 'enviando', claimed_by = ?, claimed_at = ?, attempts = attempts + 1"
        " WHERE id = ? AND status = 'pendente' AND next_attempt_at <= ?",
        (worker, now, row_id, now),
    )
    return cursor.rowcount == 1


def mark_sent(
    conn: sqlite3.Connection, row_id: int, worker: str, now: float, message_id: str | None, note: str = ""
) -> bool:
    """Record the provider's acceptance of a row this worker holds."""
    cursor = conn.execute(
        "UPDATE outbox SET status = 'enviado', sent_at = ?, provider_message_id = ?, last_error = ?"
        " WHERE id = ? AND status = 'enviando' AND claimed_by = ?",
        (now, message_id, note or None, row_id, worker),
    )
    return cursor.rowcount == 1


def mark_retry(
    conn: sqlite3.Connection, row_id: int, worker: str, next_attempt_at: float, error: str
) -> bool:
    """Give a row this worker holds back to the queue, due again at `next_attempt_at`."""
    cursor = conn.execute(
        "UPDATE outbox SET status = 'pendente', next_attempt_at = ?, last_error = ?, claimed_by = NULL"
        " WHERE id = ? AND status = 'enviando' AND claimed_by = ?",
        (next_attempt_at, error, row_id, worker),
    )
    return cursor.rowcount == 1


def mark_failed(conn: sqlite3.Connection, row_id: int, worker: str, error: str) -> bool:
    """Give up on a row this worker holds, keeping the reason (the row stays forever)."""
    cursor = conn.execute(
        "UPDATE outbox SET status = 'falhou', last_error = ? WHERE id = ? AND status = 'enviando' AND claimed_by = ?",
        (error, row_id, worker),
    )
    return cursor.rowcount == 1


def recover_stale(conn: sqlite3.Connection, now: float, lease: float) -> int:
    """Return to the queue rows claimed more than `lease` seconds ago (their sender died)."""
    cursor = conn.execute(
        "UPDATE outbox SET status = 'pendente', claimed_by = NULL, next_attempt_at = ?,"
        " last_error = 'retomado: o processo que enviava parou antes de registrar o resultado'"
        " WHERE status = 'enviando' AND claimed_at < ?",
        (now, now - lease),
    )
    return cursor.rowcount
