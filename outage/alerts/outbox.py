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
GROWTH = "crescimento"
CAUSE = "causa"
NORMALIZATION = "normalizacao"
SUMMARY = "resumo"
KINDS = (OPENING, GROWTH, CAUSE, NORMALIZATION, SUMMARY)


@dataclass(frozen=True)
class Alert:
    """One NOC alert, before it is fanned out to the configured channels."""

    kind: str
    payload: dict[str, Any] = field(default_factory=dict)
    event_id: str | None = None


def enqueue(conn: sqlite3.Connection, alerts: Iterable[Alert], channels: Iterable[str], now: float) -> int:
    """Write one pending row per alert per channel; returns how many rows were written."""
    names = list(channels)
    rows = [
        (name, a.kind, a.event_id, json.dumps(a.payload, ensure_ascii=False), now, now)
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
    conn: sqlite3.Connection, event_id: str, kind: str, payload: dict[str, Any]
) -> list[str]:
    """Update the payload of not-yet-claimed rows of one alert (e.g. the cause arrived).

    Returns the channels whose row was already claimed or sent, which therefore need a
    follow-up alert instead. Compare-and-set on `status = 'pendente'` keeps it race-free.
    """
    body = json.dumps(payload, ensure_ascii=False)
    conn.execute(
        "UPDATE outbox SET payload = ? WHERE event_id = ? AND kind = ? AND status = 'pendente'",
        (body, event_id, kind),
    )
    rows = conn.execute(
        "SELECT DISTINCT channel FROM outbox WHERE event_id = ? AND kind = ? AND status != 'pendente'",
        (event_id, kind),
    ).fetchall()
    return [row["channel"] for row in rows]
