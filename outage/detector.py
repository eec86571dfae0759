"""Mass-drop detection: pure logic, no I/O, time injected.

`detect(state, observation, now, rules, new_id)` compares the last good state with a new
observation of the ERP and returns a `Decision`: the state changes to persist and what
happened to events (opened, grown, logins back, resolved). The rules:

- The very first cycle only records the baseline: whoever is offline then was offline
  before we watched, and never counts as a new drop.
- A login in the offline set now and not before is a new drop at `now`, unless the ERP's
  `ultima_conexao_final` says its session ended long before (`stale_before`): then it
  was offline all along (e.g. its status was unknown, `SS`, until now).
- A login offline before and confirmed online now has reconnected. Absent but not
  confirmed online (`SS`, empty, missing) is unknown and changes nothing.
- New drops are grouped by `conexao`. Pending drops (not in an event, dropped within
  `detection_window`) of a connection open an event once they reach `threshold`, so
  drops over consecutive cycles count together.
- More drops on a connection with an active event grow it; a growth alert goes out when
  the logins not yet announced reach `growth_alert_min`.
- An event resolves when every login in it has reconnected.
- Flap damping: at most one opening alert per connection per `flap_window`; the event
  is still recorded, with its opening and closing alerts suppressed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from outage.model import Subscriber


@dataclass(slots=True)
class OfflineEntry:
    """A login offline in the last good state.

    dropped_at: when we saw it drop; None when it was already offline at the baseline or
    its session had ended long before we saw it.
    """

    sub: Subscriber
    dropped_at: float | None
    event_id: str | None = None


@dataclass
class ActiveEvent:
    id: str
    conexao: str
    opened_at: float
    logins: set[str]
    offline: set[str]
    announced: int
    suppressed: bool = False


@dataclass
class MonitorState:
    offline: dict[str, OfflineEntry] = field(default_factory=dict)
    events: dict[str, ActiveEvent] = field(default_factory=dict)  # active events by conexao
    last_opening_alert: dict[str, float] = field(default_factory=dict)
    baseline_done: bool = False


@dataclass(frozen=True)
class Rules:
    threshold: int = 4
    detection_window: float = 900.0
    flap_window: float = 3600.0
    growth_alert_min: int = 4
    stale_before: str = ""  # local-time "YYYY-MM-DD HH:MM:SS"; older session ends are stale


@dataclass
class Opening:
    event_id: str
    conexao: str
    subs: list[Subscriber]
    alert: bool


@dataclass
class Growth:
    event_id: str
    conexao: str
    subs: list[Subscriber]
    total: int
    alert: bool


@dataclass
class Resolution:
    event_id: str
    conexao: str
    opened_at: float
    total: int
    alert: bool


@dataclass
class Decision:
    baseline: bool = False
    upserts: dict[str, OfflineEntry] = field(default_factory=dict)  # by login
    deletes: list[str] = field(default_factory=list)
    new_drops: int = 0
    reconnected: int = 0
    opened: list[Opening] = field(default_factory=list)
    grown: list[Growth] = field(default_factory=list)
    back_online: dict[str, list[str]] = field(default_factory=dict)  # event id → logins
    offline_again: dict[str, list[str]] = field(default_factory=dict)  # event id → logins
    resolved: list[Resolution] = field(default_factory=list)
    offline_total: int = 0


def detect(
    state: MonitorState,
    offline_now: dict[str, Subscriber],
    online_now: frozenset[str],
    now: float,
    rules: Rules,
    new_id: Callable[[], str],
) -> Decision:
    """Apply one observation to `state` (mutated in place) and say what changed."""
    decision = Decision(offline_total=len(offline_now))
    if not state.baseline_done:
        _record_baseline(state, offline_now, decision)
        return decision
    events_by_id = {event.id: event for event in state.events.values()}
    _apply_reconnections(state, online_now, now, events_by_id, decision)
    earlier = list(state.offline.values())
    new_by_conexao = _apply_drops(state, offline_now, now, rules, decision)
    _group_pending(state, new_by_conexao, earlier, now, rules, new_id, decision)
    _resolve_finished(state, decision)
    return decision


def _record_baseline(state: MonitorState, offline_now: dict[str, Subscriber], decision: Decision) -> None:
    state.offline = {login: OfflineEntry(sub, None) for login, sub in offline_now.items()}
    state.baseline_done = True
    decision.baseline = True
    decision.upserts = dict(state.offline)


def _apply_reconnections(
    state: MonitorState,
    online_now: frozenset[str],
    now: float,
    events_by_id: dict[str, ActiveEvent],
    decision: Decision,
) -> None:
    for login in online_now:
        entry = state.offline.pop(login, None)
        if entry is None:
            continue
        decision.deletes.append(login)
        decision.reconnected += 1
        event = events_by_id.get(entry.event_id or "")
        if event is not None:
            event.offline.discard(login)
            decision.back_online.setdefault(event.id, []).append(login)


def _apply_drops(
    state: MonitorState,
    offline_now: dict[str, Subscriber],
    now: float,
    rules: Rules,
    decision: Decision,
) -> dict[str, list[OfflineEntry]]:
    """Record new drops; returns those not yet in an event, by connection."""
    offline = state.offline
    upserts = decision.upserts
    for login in offline_now.keys() & offline.keys():
        entry, sub = offline[login], offline_now[login]
        if entry.sub != sub:  # the ERP changed a field (e.g. a new CTO): keep it current
            entry.sub = sub
            upserts[login] = entry
    stale_before = rules.stale_before
    events = state.events
    by_conexao: dict[str, list[OfflineEntry]] = {}
    new_drops = 0
    for login in offline_now.keys() - offline.keys():
        sub = offline_now[login]
        ended = sub.ultima_conexao_final
        # text order is time order for "YYYY-MM-DD HH:MM:SS"; "0000-..." means never
        stale = bool(stale_before) and len(ended) == 19 and ended[0] != "0" and ended < stale_before
        entry = OfflineEntry(sub, None if stale else now)
        offline[login] = entry
        upserts[login] = entry
        if stale:
            continue
        new_drops += 1
        event = events.get(sub.conexao)
        if event is not None and login in event.logins:
            entry.event_id = event.id  # back offline inside its own event: not growth
            event.offline.add(login)
            decision.offline_again.setdefault(event.id, []).append(login)
            continue
        bucket = by_conexao.get(sub.conexao)
        if bucket is None:
            bucket = by_conexao[sub.conexao] = []
        bucket.append(entry)
    decision.new_drops = new_drops
    return by_conexao


def _group_pending(
    state: MonitorState,
    pending: dict[str, list[OfflineEntry]],
    earlier: list[OfflineEntry],
    now: float,
    rules: Rules,
    new_id: Callable[[], str],
    decision: Decision,
) -> None:
    """Open or grow events from this cycle's drops plus earlier ones still in the window."""
    if not pending:
        return
    since = now - rules.detection_window
    for entry in earlier:
        if (
            entry.event_id is None
            and entry.dropped_at is not None
            and entry.dropped_at >= since
            and entry.sub.conexao in pending
        ):
            pending[entry.sub.conexao].append(entry)
    for conexao, entries in sorted(pending.items()):
        event = state.events.get(conexao)
        if event is not None:
            _grow(event, entries, rules, decision)
        elif len(entries) >= rules.threshold:
            _open(state, conexao, entries, now, rules, new_id, decision)


def _open(
    state: MonitorState,
    conexao: str,
    entries: list[OfflineEntry],
    now: float,
    rules: Rules,
    new_id: Callable[[], str],
    decision: Decision,
) -> None:
    last_alert = state.last_opening_alert.get(conexao)
    alert = last_alert is None or now - last_alert >= rules.flap_window
    if alert:
        state.last_opening_alert[conexao] = now
    logins = {e.sub.login for e in entries}
    event = ActiveEvent(
        id=new_id(),
        conexao=conexao,
        opened_at=now,
        logins=logins,
        offline=set(logins),
        announced=len(entries),
        suppressed=not alert,
    )
    state.events[conexao] = event
    for entry in entries:
        entry.event_id = event.id
        decision.upserts[entry.sub.login] = entry
    decision.opened.append(Opening(event.id, conexao, [e.sub for e in entries], alert))


def _grow(event: ActiveEvent, entries: list[OfflineEntry], rules: Rules, decision: Decision) -> None:
    if not entries:
        return
    for entry in entries:
        entry.event_id = event.id
        event.logins.add(entry.sub.login)
        event.offline.add(entry.sub.login)
        decision.upserts[entry.sub.login] = entry
    alert = not event.suppressed and len(event.logins) - event.announced >= rules.growth_alert_min
    if alert:
        event.announced = len(event.logins)
    decision.grown.append(Growth(event.id, event.conexao, [e.sub for e in entries], len(event.logins), alert))


def _resolve_finished(state: MonitorState, decision: Decision) -> None:
    for conexao, event in list(state.events.items()):
        if event.offline:
            continue
        del state.events[conexao]
        decision.resolved.append(
            Resolution(event.id, conexao, event.opened_at, len(event.logins), not event.suppressed)
        )
