"""Outbox health for `/healthz`: backlog, failures, and whether the NOC is being reached."""

from __future__ import annotations

import sqlite3
from typing import Any

from outage.alerts.outbox import KINDS

UNHEALTHY_AFTER_INTERVALS = 3


def outbox_health(conn: sqlite3.Connection, now: float, check_interval: int) -> dict[str, Any]:
    """Counts and a verdict. Unhealthy when an alert has waited more than 3 x `check_interval`
    without being delivered, or when the latest finished NOC alert of a destination failed
    (it stays unhealthy until a later alert to that destination goes through)."""
    counts = dict(conn.execute("SELECT status, COUNT(*) FROM outbox GROUP BY status").fetchall())
    oldest = conn.execute(
        "SELECT MIN(created_at) FROM outbox WHERE status IN ('pendente', 'enviando')"
    ).fetchone()[0]
    oldest_age = max(0.0, now - float(oldest)) if oldest is not None else 0.0
    failing = _failing_destinations(conn)
    limit = UNHEALTHY_AFTER_INTERVALS * check_interval
    problems = []
    if oldest_age > limit:
        problems.append(f"alerta aguardando envio há {int(oldest_age)} s (limite {limit} s)")
    if failing:
        problems.append("último alerta falhou para: " + ", ".join(failing))
    return {
        "backlog": counts.get("pendente", 0) + counts.get("enviando", 0),
        "sending": counts.get("enviando", 0),
        "sent": counts.get("enviado", 0),
        "failed": counts.get("falhou", 0),
        "oldest_pending_age": round(oldest_age, 1),
        "failing_channels": failing,
        "healthy": not problems,
        "problems": problems,
    }


def _failing_destinations(conn: sqlite3.Connection) -> list[str]:
    marks = ",".join("?" for _ in KINDS)
    rows = conn.execute(
        # SQLite returns the bare `status` of the row holding MAX(id) in each group.
        f"SELECT channel, status, MAX(id) FROM outbox WHERE status IN ('enviado', 'falhou')"  # noqa: S608
        f" AND kind IN ({marks}) GROUP BY channel",
        KINDS,
    ).fetchall()
    return sorted(row[0] for row in rows if row[1] == "falhou")
