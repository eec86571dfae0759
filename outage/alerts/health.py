"""Outbox health for `/healthz`: backlog, failures, and whether the NOC is being reached."""

from __future__ import annotations

from typing import Any

from outage.db import Connection
from outage.storage import outbox

UNHEALTHY_AFTER_INTERVALS = 3


def outbox_health(conn: Connection, now: float, check_interval: int) -> dict[str, Any]:
    """Counts and a verdict. Unhealthy when something has waited more than 3 x
    `check_interval` without being delivered, or when a NOC destination is failing
    (`outbox.failing_destinations`, the definition the Saúde page uses too)."""
    counts = outbox.totals(conn)
    oldest = outbox.oldest_live_at(conn)
    oldest_age = max(0.0, now - oldest) if oldest is not None else 0.0
    failing = outbox.failing_destinations(conn)
    limit = UNHEALTHY_AFTER_INTERVALS * check_interval
    problems = []
    if oldest_age > limit:
        problems.append(f"alerta aguardando envio há {int(oldest_age)} s (limite {limit} s)")
    if failing:
        problems.append("alertas falhando para: " + ", ".join(failing))
    return {
        "backlog": counts[outbox.PENDING] + counts[outbox.SENDING],
        "sending": counts[outbox.SENDING],
        "sent": counts[outbox.SENT],
        "failed": counts[outbox.FAILED],
        "uncertain": counts[outbox.UNCERTAIN],
        "oldest_pending_age": round(oldest_age, 1),
        "failing_channels": failing,
        "healthy": not problems,
        "problems": problems,
    }
