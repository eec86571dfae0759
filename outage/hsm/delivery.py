"""An approval's fast path: its notices handed to the provider now, through the one engine.

The background delivery keeps at most 8 messages in flight, right for NOC alerts, but 1,000
customer notices through a provider that answers in 50 ms would take over 6 s. Here the
engine of `outage.alerts.sender` runs over one decision's rows with `CONCURRENCY` (32)
calls in flight, paced at the provider's rate (`HSM_SEND_RATE`, default per provider), for
at most `max_wait` seconds. What is left -- time ran out, a transient failure to retry --
stays in the outbox for the background delivery; the compare-and-set claim means no row is
ever taken by both, and none is lost.

The approval writes its rows due `HOLD_SECONDS` later, so the background delivery leaves
them to this fast path first; after a crash it picks up the ones never started when they
fall due (a notice under way at the crash becomes `incerto`, see `outage.storage.outbox`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from outage.adapters.channels.base import Channel
from outage.alerts.sender import DeliveryStats, Sender
from outage.config import Settings

CONCURRENCY = (
    32  # in flight at once: what a crash can leave uncertain, and 1,000 notices in ~1,6 s at 50 ms each
)
HOLD_SECONDS = 30.0


def deliver_rows(
    db_path: str,
    settings: Settings,
    row_ids: Sequence[int],
    *,
    max_wait: float,
    channels: Mapping[str, Channel] | None = None,
) -> DeliveryStats:
    """Send the pending rows among `row_ids` now, for at most `max_wait` seconds; see the module."""
    engine = Sender(db_path, settings, channels=channels, concurrency=CONCURRENCY)
    try:
        return engine.deliver_rows(row_ids, max_wait)
    finally:
        engine.close()
