"""When a login dropped: the ERP's session end when it is plausible, else the poll time.

The BNG ends a PPPoE session when its keepalive fails, typically 10 s to about 3 minutes
after the customer's ONU went down, and IXC records that as `ultima_conexao_final`. So
the logins of one fiber cut carry session ends a few minutes apart, while the poll that
sees them may come minutes later still. The session end is the better drop time — when
it can be trusted:

- it must not be in the future (a little clock jitter is clamped to the poll time);
- it must not be older than the previous good poll by more than `SESSION_LAG` (the login
  would have been offline at that poll already; e.g. a BNG that never sent the accounting
  stop, so IXC closed the session at its last interim update). Then the poll time is used;
- a session that ended more than `STALE_AFTER` before the previous good poll is not a new
  drop at all: the login was offline before and only its status changed (e.g. `SS` → `N`).

ERP clock. Session ends are local time as the ERP writes it. An ERP in another Brazilian
time zone (Cuiabá, Manaus, Rio Branco), or a server whose clock is off, shifts every
session end by the same amount. `ErpClock` learns that shift: for each poll with new
offline logins, `now - newest session end` is an upper bound of the shift (no session can
end after the poll), and the ordinary lag makes it only a little larger. The smallest of
the last `SAMPLES` bounds (within a day), once confirmed by `CONFIRMATIONS` polls within
one poll interval plus lag of it, is the shift (so a change of zone or clock is learned
within a couple of hours); within `TOLERANCE` of zero it is zero. Stale sessions only make bounds larger,
so they can never pull the estimate wrong. `IXC_TIMEZONE` names the ERP's zone outright;
learning then only corrects a skewed clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SESSION_LAG = 180.0
STALE_AFTER = 3600.0
FUTURE_JITTER = 120.0
HISTORY = 86400.0
SAMPLES = 24
CONFIRMATIONS = 3
TOLERANCE = 300.0


@dataclass
class ErpClock:
    """Learns how far the ERP's session ends are shifted from our clock (see the module docstring).

    samples: (poll time, poll time - newest session end among that poll's new offline logins).
    offset: seconds to add to an ERP session end to put it on our clock.
    """

    samples: list[tuple[float, float]] = field(default_factory=list)
    offset: float = 0.0

    def observe(self, now: float, newest_end: float, interval: float) -> None:
        """Record one poll's newest session end (0 when the poll had none) and re-estimate."""
        if newest_end > 0:
            self.samples.append((now, now - newest_end))
        self.samples = [(t, s) for t, s in self.samples if t > now - HISTORY][-SAMPLES:]
        if not self.samples:
            return
        lowest = min(s for _, s in self.samples)
        close = sum(1 for _, s in self.samples if s - lowest <= interval + SESSION_LAG)
        if close >= CONFIRMATIONS:
            self.offset = 0.0 if -FUTURE_JITTER <= lowest <= TOLERANCE else lowest


def drop_time(session_end: float, offset: float, now: float, previous_poll: float) -> float | None:
    """The drop time of a login newly offline at poll `now`; None when it is not a new drop."""
    if session_end <= 0:
        return now
    end = session_end + offset
    if end < previous_poll - STALE_AFTER:
        return None
    if end < previous_poll - SESSION_LAG or end > now + FUTURE_JITTER:
        return now
    return min(end, now)
