"""Storm control: many events opened in one cycle become one summary alert.

A concentrator or a whole POP going down opens many events at once; the NOC then gets
one `resumo` message listing the connections and totals instead of one message per
event. The limit is `STORM_THRESHOLD` (default 5): *more than* that many openings in one
cycle is a storm. Growth, cause and normalization alerts are not summarized.
"""

from __future__ import annotations

from collections.abc import Sequence

from outage.core.kinds import OPENING, SUMMARY
from outage.storage.outbox import Alert


def is_storm(openings: int, threshold: int) -> bool:
    return openings > threshold


def summarize_if_storm(alerts: Sequence[Alert], threshold: int) -> list[Alert]:
    """The alerts to enqueue for one cycle: openings folded into one summary in a storm."""
    openings = [a for a in alerts if a.kind == OPENING]
    if not is_storm(len(openings), threshold):
        return list(alerts)
    events = [
        {
            "id": a.event_id,
            "conexao": a.payload.get("conexao", ""),
            "total": a.payload.get("total", 0),
            "motivo": a.payload.get("motivo", "indeterminado"),
            "local": a.payload.get("local", ""),
        }
        for a in openings
    ]
    summary = Alert(SUMMARY, {"eventos": events, "total_clientes": sum(int(e["total"]) for e in events)})
    return [summary, *(a for a in alerts if a.kind != OPENING)]
