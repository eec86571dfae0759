"""Gathering the alarms of one outage before it becomes one incident (pure: time is passed in).

A fiber cut brings every ONU of a PON down within a second or two, a power cut spreads over a
neighbourhood's PONs within minutes, and each ONU may be reported twice (trap and syslog).
`gather()` groups the failures (ONU and PON down, sessions whose line died) per OLT — or per
concentrator for sessions no OLT reported — and hands a group over once it has been quiet for
`window` seconds (or open for `longest`, so a storm cannot hold it forever); the other alarms
come back to be offered again with the next ones.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from outage.adapters.alarms.event import LOSS, ONU_DOWN, PON_DOWN, POWER, SESSION_END, Alarm


@dataclass
class Gathering:
    """The failures of one OLT (`olt`) or concentrator (`concentrator`) close together in time.

    pons: F/S/P -> the ONU alarms on it (one per ONU, the earliest); pon_alarms: the PON-level
    alarms; sessions: session ends with no ONU alarm; duplicates: repeated reports dropped.
    """

    olt: str = ""
    concentrator: str = ""
    first: float = 0.0
    last: float = 0.0
    pons: dict[str, list[Alarm]] = field(default_factory=dict)
    pon_alarms: list[Alarm] = field(default_factory=list)
    sessions: list[Alarm] = field(default_factory=list)
    duplicates: int = 0

    @property
    def onus(self) -> list[Alarm]:
        return [alarm for alarms in self.pons.values() for alarm in alarms]

    @property
    def logins(self) -> list[str]:
        """The logins known so far, each once, in time order."""
        seen = dict.fromkeys(
            a.login for a in sorted(self.onus + self.sessions, key=lambda a: a.at) if a.login
        )
        return list(seen)

    @property
    def cause(self) -> str:
        """`energia` or `loss` when most ONU alarms (or, without them, PON alarms) say so; else ""."""
        votes = Counter(a.cause for a in self.onus or self.pon_alarms if a.cause in (POWER, LOSS))
        if not votes:
            return ""
        cause, count = votes.most_common(1)[0]
        return cause if count * 2 > sum(votes.values()) else ""


def _key(alarm: Alarm) -> str | None:
    if alarm.kind in (ONU_DOWN, PON_DOWN):
        return f"olt:{alarm.olt}" if alarm.olt else None
    if alarm.kind == SESSION_END and alarm.is_failure:
        return f"bng:{alarm.concentrator}"
    return None


def _identity(alarm: Alarm) -> tuple[object, ...]:
    """What makes two reports the same ONU."""
    if alarm.ont_id is not None and alarm.fsp:
        return ("ont", alarm.fsp, alarm.ont_id)
    return ("login", alarm.login) if alarm.login else ("raw", alarm.source, alarm.raw, alarm.at)


def gather(
    alarms: Iterable[Alarm], *, now: float, window: float = 5.0, longest: float = 30.0
) -> tuple[list[Gathering], list[Alarm]]:
    """(the groups ready at `now`, the failure alarms still gathering). Alarms that are not
    failures (recoveries, starts) are left out: the caller reads them itself."""
    groups: dict[str, list[Alarm]] = {}
    for alarm in alarms:
        key = _key(alarm)
        if key is not None:
            groups.setdefault(key, []).append(alarm)
    ready: list[Gathering] = []
    waiting: list[Alarm] = []
    for members in groups.values():
        members.sort(key=lambda a: a.at)
        first, last = members[0].at, members[-1].at
        if now - last >= window or now - first >= longest:
            ready.append(_build(members))
        else:
            waiting += members
    ready.sort(key=lambda g: g.first)
    return ready, waiting


def _build(members: list[Alarm]) -> Gathering:
    head = members[0]
    group = Gathering(olt=head.olt, concentrator=head.concentrator if not head.olt else "")
    group.first, group.last = head.at, members[-1].at
    seen: set[tuple[object, ...]] = set()
    for alarm in members:
        if alarm.kind == PON_DOWN:
            group.pon_alarms.append(alarm)
            continue
        identity = _identity(alarm)
        if identity in seen:
            group.duplicates += 1
            continue
        seen.add(identity)
        if alarm.kind == ONU_DOWN:
            group.pons.setdefault(alarm.fsp, []).append(alarm)
        else:
            group.sessions.append(alarm)
    return group
