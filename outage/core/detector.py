"""Incident detection: pure logic, no I/O, time injected.

An incident is a set of logins that went down together in one place. `detect(state,
offline_now, online_now, now, rules, new_id)` applies one good read of the ERP to the last
good state and returns a `Decision`: what to persist and what happened to incidents.

Drops. A login offline (`N`) now and not at the last good poll is a new drop; its drop time
comes from `outage.core.droptime` (the ERP's session end when plausible, else the poll time; a
session that ended long before is no drop). The first cycle only records the baseline.
`SS` or empty is unknown: never a drop, never a reconnection — a login comes back only
when the ERP confirms `S`.

Place and time. Every drop is placed on its path (`outage.core.place`: CTO ⊂ PON ⊂ OLT ⊂
conexão, as far as the data goes). Recent drops that joined nothing (the pool) are counted
per place within the onset window (`Rules.onset_window`). A place is *unlikely churn* when
its count reaches `threshold` and its own learned churn rate (`outage.core.rates`) makes that
count improbable. Evaluated from the narrowest level up, a place is an outage when it is
unlikely churn and either two or more of its direct sub-places are outages at about the
same time (a PON whose CTOs all fell; a power cut over several PONs), or its drops outside
outage sub-places are unlikely churn on their own (a CTO; a PON without CTO data). The
widest outage on each path is an incident candidate; inside an OLT or a connection, only
drops with company in their PON (or CTO) belong to it, so a lone churn drop elsewhere on
the OLT never joins. Scattered drops — in time or over places — never open an incident.

Growth and overlap. An incident's onset lasts from its first drop until `onset_window`
after the last drop that made or widened it (`Incident.onset_end`). Within its onset it
takes the later drops in its own place (inside an OLT or a connection, only in the parts it
already took: the sessions the concentrator ends late, the stragglers of the next poll),
and its members take part in the evaluation, so a neighbour under the same parent that
falls within the onset widens it to their common place (the NOC is told when the level
widens; the new part's cause is found on its own). After its onset nothing joins it but
its own members dropping again: drops anywhere else — other PONs of its OLT, other OLTs of
its connection, the rest of a concentrator — are evaluated as a new outage, which opens a
new incident related to the open one (`Incident.related`: "a OLT já tem um incidente
aberto"), with its own count, place, cause and notice. Churn elsewhere never joins.

Resolution. An incident is normalized when `quorum` of its logins are confirmed back (all
of them below `quorum_min_size`); the rest are stragglers, listed on the alert and the
event, and from then on ordinary offline logins. A member that comes back and drops again
while the incident is open stays in it.

Flap control per place. An incident opening where another opened within `flap_window` —
its place, or every part it took, inside a part the earlier one took — is a recurrence:
recorded and counted; the NOC gets one short "voltou a cair" message at most per window,
and nothing is silenced for a different place (a neighbour's first fall is an opening) or
a bigger incident. Every alert held back says why (`Decision.held`).

Populations. `MonitorState.population` holds the active logins of every place as the ERP
counts them; the churn prior of a place comes from its real size, and a place where half
of its active logins dropped together is an outage at once (see `outage.core.rates`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import pairwise
from operator import attrgetter

from outage.core.droptime import FUTURE_JITTER, SESSION_LAG, ErpClock, drop_time
from outage.core.kinds import GROWTH as WIDENING
from outage.core.kinds import NORMALIZATION, OPENING, RECURRENCE
from outage.core.localtime import local_datetime
from outage.core.model import Subscriber
from outage.core.place import OLT, PON, RANK, Path, child_on, common_place, path_of, rank_of, trim
from outage.core.rates import PlaceRates

BIGGER = 1.5  # an incident this many times the size of the last one at its place is news
NOT_ANNOUNCED = "a abertura deste incidente não foi anunciada"
OPENINGS_KEPT = 86400.0  # openings remembered for recurrence (FLAP_WINDOW, if longer)


@dataclass(slots=True)
class OfflineEntry:
    """A login offline in the last good state.

    dropped_at: its drop time; None when it was offline at the baseline, its session had
    ended long before, or it was left behind by a normalized incident (never a candidate).
    """

    sub: Subscriber
    dropped_at: float | None
    incident_id: str | None = None


@dataclass(frozen=True, slots=True)
class AlarmDrop:
    """A login the network itself reported down, before any ERP poll: an ONU's dying gasp or
    loss of signal from its OLT, a session the concentrator ended on a dead line. `sub` is the
    login's ERP record, `at` when it fell (our clock), `cause` `energia`, `loss` or "" (unknown)."""

    sub: Subscriber
    at: float
    cause: str = ""


@dataclass(slots=True)
class Heard:
    """An alarm's drop that no ERP poll has confirmed yet: when, and the cause it gave."""

    at: float
    cause: str = ""


ERP = "erp"
ALARM = "alarme"
NOT_CONFIRMED = "alarme não confirmado"


@dataclass
class Incident:
    """An active incident. `members` holds every login it took (login → drop time) and `subs`
    each one's ERP record as it was when it dropped."""

    id: str
    place: str
    path: Path
    conexao: str
    opened_at: float
    first_drop: float
    last_drop: float
    members: dict[str, float]
    subs: dict[str, Subscriber]
    offline: set[str]
    units: set[str]
    announced: bool
    announced_rank: int
    recurrence: int = 1
    onset_end: float = 0.0  # after this, drops in places it has not taken are a new outage
    related: str = ""  # an incident open at the same OLT or connection when this one opened
    fell: set[str] = field(default_factory=set)  # the narrowest place of each member (`leaves`)
    origin: str = ERP  # how it was learned: an ERP poll, or the network's alarms (`ALARM`)

    @property
    def coverage(self) -> dict[str, Path]:
        """Where it fell: the narrowest place of each of its logins, with that place's path."""
        return leaves(self.subs.values())


def leaves(subs: Iterable[Subscriber]) -> dict[str, Path]:
    """The narrowest place of each login (its CTO, else its PON, ...) with that place's path."""
    return {path[0]: path for path in {path_of(sub) for sub in subs}}


@dataclass
class PastOpening:
    """An incident that opened at a place (kept for `flap_window`, for recurrence)."""

    incident_id: str
    at: float
    size: int
    message: str  # what the NOC was told: OPENING, RECURRENCE or "" (held)
    covers: frozenset[str] = frozenset()  # where it fell (`Incident.coverage`); empty: its place


@dataclass
class MonitorState:
    offline: dict[str, OfflineEntry] = field(default_factory=dict)
    incidents: dict[str, Incident] = field(default_factory=dict)  # active, by id
    openings: dict[str, list[PastOpening]] = field(default_factory=dict)  # by place key
    rates: PlaceRates = field(default_factory=PlaceRates)
    population: dict[str, int] = field(default_factory=dict)  # place key -> active logins (ERP)
    population_at: float = 0.0  # when `population` was read (0: never)
    heard: dict[str, Heard] = field(default_factory=dict)  # alarms' drops the ERP has not confirmed
    erp_clock: ErpClock = field(default_factory=ErpClock)
    last_poll: float = 0.0
    baseline_done: bool = False


@dataclass(frozen=True)
class Rules:
    threshold: int = 4
    onset_window: float = 300.0
    flap_window: float = 3600.0
    quorum: float = 0.9
    quorum_min_size: int = 10
    check_interval: float = 300.0

    @property
    def horizon(self) -> float:
        """How long a drop stays a candidate: its onset window, one more poll and the session lag."""
        return self.onset_window + self.check_interval + SESSION_LAG


@dataclass
class Opening:
    incident_id: str
    subs: list[tuple[Subscriber, float]]
    alert: str  # OPENING, RECURRENCE or "" (held: see Decision.held)


@dataclass
class Growth:
    incident_id: str
    subs: list[tuple[Subscriber, float]]
    widened_from: str | None  # the previous place when the incident widened
    alert: str  # WIDENING, OPENING (a held incident became news) or ""
    new_units: frozenset[str] = frozenset()  # parts it took this cycle (their cause is found apart)


@dataclass
class Resolution:
    incident: Incident
    stragglers: list[Subscriber]
    back: list[str]
    total: int
    alert: bool
    not_confirmed: bool = False  # opened by alarms the ERP never confirmed: closed as such


@dataclass
class Decision:
    baseline: bool = False
    upserts: dict[str, OfflineEntry] = field(default_factory=dict)  # by login
    deletes: list[str] = field(default_factory=list)
    new_drops: int = 0
    reconnected: int = 0
    opened: list[Opening] = field(default_factory=list)
    grown: list[Growth] = field(default_factory=list)
    back_online: dict[str, list[str]] = field(default_factory=dict)  # incident id → logins
    offline_again: dict[str, list[str]] = field(default_factory=dict)  # incident id → logins
    resolved: list[Resolution] = field(default_factory=list)
    held: list[tuple[str, str, str]] = field(default_factory=list)  # (incident id, alert kind, why)
    rates_touched: set[str] = field(default_factory=set)
    offline_total: int = 0
    heard: list[str] = field(default_factory=list)  # logins an alarm reported down now
    confirmed: list[str] = field(default_factory=list)  # alarms' drops the ERP confirmed
    withdrawn: list[str] = field(default_factory=list)  # alarms' drops the ERP showed online
    shrunk: set[str] = field(default_factory=set)  # incidents that lost withdrawn members


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
        _record_baseline(state, offline_now, now, decision)
        return decision
    if state.heard:
        online_now = _check_alarms(state, offline_now, online_now, now, decision)
    _apply_reconnections(state, online_now, decision)
    fresh = _apply_drops(state, offline_now, now, rules, decision)
    pool = _join_incidents(state, fresh, now, rules, decision)
    _find_incidents(state, pool, fresh, now, rules, new_id, decision)
    _join_leftovers(state, pool, fresh, now, rules, decision)
    _count_churn(state, fresh, now, decision)
    _resolve_by_quorum(state, now, rules, decision)
    state.rates.observe(now - state.last_poll, now)
    state.last_poll = now
    _forget_old_openings(state, now, rules)
    return decision


def hear(
    state: MonitorState,
    downs: list[AlarmDrop],
    ups: list[str],
    now: float,
    rules: Rules,
    new_id: Callable[[], str],
) -> Decision:
    """Apply the network's alarms gathered since the last call (between ERP polls).

    A down alarm is a drop at its exact time, by the same rules as the ERP's; an incident may
    open from alarms alone (`Incident.origin` `ALARM`). It is remembered in `state.heard`
    until an ERP poll confirms it (the login listed offline: it counts once) or shows the
    login online past the concentrator's session lag (the alarm is withdrawn; an incident
    left with none of its logins closes as `NOT_CONFIRMED`). An up alarm (the ONU's
    recovery) is a reconnection. Before the baseline nothing is applied.
    """
    decision = Decision()
    if not state.baseline_done:
        return decision
    back = frozenset(ups) & state.offline.keys()
    for login in back:
        state.heard.pop(login, None)
    _apply_reconnections(state, back, decision)
    members = {d.sub.login: i for i in state.incidents.values() for d in downs if d.sub.login in i.members}
    fresh = []
    for down in sorted(downs, key=attrgetter("at")):
        login = down.sub.login
        if login in state.offline:
            continue
        entry = OfflineEntry(down.sub, down.at)
        state.offline[login] = entry
        state.heard[login] = Heard(down.at, down.cause)
        decision.upserts[login] = entry
        decision.heard.append(login)
        decision.new_drops += 1
        incident = members.get(login)
        if incident is not None:
            _down_again(incident, entry, decision)
        else:
            fresh.append(entry)
    pool = _join_incidents(state, fresh, now, rules, decision)
    _find_incidents(state, pool, fresh, now, rules, new_id, decision)
    _join_leftovers(state, pool, fresh, now, rules, decision)
    for opening in decision.opened:
        state.incidents[opening.incident_id].origin = ALARM
    _count_churn(state, fresh, now, decision)
    _resolve_by_quorum(state, now, rules, decision)
    return decision


def _check_alarms(
    state: MonitorState,
    offline_now: dict[str, Subscriber],
    online_now: frozenset[str],
    now: float,
    decision: Decision,
) -> frozenset[str]:
    """Settle the alarms' drops with this poll; returns `online_now` without the logins whose
    session the concentrator may not have ended yet (their alarm is still waiting)."""
    for login in state.heard.keys() & offline_now.keys():
        del state.heard[login]
        decision.confirmed.append(login)
    waiting = set()
    for login in state.heard.keys() & online_now:
        if now - state.heard[login].at <= SESSION_LAG + FUTURE_JITTER:
            waiting.add(login)
            continue
        del state.heard[login]
        _withdraw(state, login, decision)
    for incident in [state.incidents[i] for i in decision.shrunk if i in state.incidents]:
        if not incident.members:
            del state.incidents[incident.id]
            decision.resolved.append(Resolution(incident, [], [], 0, incident.announced, not_confirmed=True))
    return online_now - waiting if waiting else online_now


def _withdraw(state: MonitorState, login: str, decision: Decision) -> None:
    """An alarm's drop the ERP shows online: it never happened."""
    entry = state.offline.pop(login, None)
    decision.withdrawn.append(login)
    decision.deletes.append(login)
    incident = state.incidents.get(entry.incident_id or "") if entry is not None else None
    if incident is None:
        if entry is not None and entry.dropped_at is not None:
            for key in path_of(entry.sub):  # it was counted as churn when it was heard
                state.rates.add(key, -1.0, state.last_poll)
                decision.rates_touched.add(key)
        return
    incident.members.pop(login, None)
    incident.subs.pop(login, None)
    incident.offline.discard(login)
    decision.shrunk.add(incident.id)


def _record_baseline(
    state: MonitorState, offline_now: dict[str, Subscriber], now: float, decision: Decision
) -> None:
    state.offline = {login: OfflineEntry(sub, None) for login, sub in offline_now.items()}
    state.baseline_done = True
    state.last_poll = now
    decision.baseline = True
    decision.upserts = dict(state.offline)


def _apply_reconnections(state: MonitorState, online_now: frozenset[str], decision: Decision) -> None:
    for login in online_now:
        entry = state.offline.pop(login, None)
        if entry is None:
            continue
        decision.deletes.append(login)
        decision.reconnected += 1
        incident = state.incidents.get(entry.incident_id or "")
        if incident is not None:
            incident.offline.discard(login)
            decision.back_online.setdefault(incident.id, []).append(login)


def _apply_drops(
    state: MonitorState, offline_now: dict[str, Subscriber], now: float, rules: Rules, decision: Decision
) -> list[OfflineEntry]:
    """Record the new drops; returns those that are not back inside their own incident."""
    offline = state.offline
    upserts = decision.upserts
    for login in offline_now.keys() & offline.keys():
        entry, sub = offline[login], offline_now[login]
        if entry.sub != sub and entry.incident_id is None:  # the ERP changed a field: keep it current
            # (an incident keeps its members as they were when they dropped)
            entry.sub = sub
            upserts[login] = entry
    newcomers = offline_now.keys() - offline.keys()
    newest = max((offline_now[login].session_end for login in newcomers), default=0.0)
    state.erp_clock.observe(now, newest, rules.check_interval)
    offset = state.erp_clock.offset
    # the newcomers that were members of an active incident (each intersection walks the smaller side)
    members = {login: i for i in state.incidents.values() for login in i.members.keys() & newcomers}
    fresh = []
    for login in newcomers:
        sub = offline_now[login]
        at = drop_time(sub.session_end, offset, now, state.last_poll)
        entry = OfflineEntry(sub, at)
        offline[login] = entry
        upserts[login] = entry
        if at is None:
            continue
        decision.new_drops += 1
        incident = members.get(login)
        if incident is not None:
            _down_again(incident, entry, decision)
            continue
        fresh.append(entry)
    return fresh


def _down_again(incident: Incident, entry: OfflineEntry, decision: Decision) -> None:
    """A member back and down again inside its own open incident."""
    login = entry.sub.login
    entry.sub = incident.subs[login]
    entry.incident_id = incident.id
    entry.dropped_at = incident.members[login]
    incident.offline.add(login)
    decision.offline_again.setdefault(incident.id, []).append(login)


def _join_incidents(
    state: MonitorState, fresh: list[OfflineEntry], now: float, rules: Rules, decision: Decision
) -> list[OfflineEntry]:
    """Give active incidents the new drops in their own place; returns the pool of candidates."""
    _join(state, fresh, rules, decision)
    horizon = now - rules.horizon
    return [
        e
        for e in state.offline.values()
        if e.incident_id is None and e.dropped_at is not None and e.dropped_at >= horizon
    ]


def _join(
    state: MonitorState, entries: list[OfflineEntry], rules: Rules, decision: Decision
) -> list[OfflineEntry]:
    """Give each of `entries` to the incident whose own place takes it (`_accepting`); returns those taken."""
    by_place: dict[str, list[Incident]] = defaultdict(list)
    for incident in state.incidents.values():
        by_place[incident.place].append(incident)
    if not by_place:
        return []
    joined: dict[str, list[OfflineEntry]] = defaultdict(list)
    for entry in entries:
        taker = _accepting(by_place, entry, rules)
        if taker is not None:
            joined[taker.id].append(entry)
    for incident_id, taken in joined.items():
        _grow(state, state.incidents[incident_id], taken, None, "", decision)
    return [entry for taken in joined.values() for entry in taken]


def _join_leftovers(
    state: MonitorState,
    pool: list[OfflineEntry],
    fresh: list[OfflineEntry],
    now: float,
    rules: Rules,
    decision: Decision,
) -> None:
    """After incidents opened or took new parts this cycle, the pool's drops that fall within
    one of them now join it (a PON's first drop seen before the PON joined a power cut, say)."""
    if not decision.opened and not any(g.new_units for g in decision.grown):
        return
    fresh_logins = {e.sub.login for e in fresh}
    taken = _join(state, [e for e in pool if e.incident_id is None], rules, decision)
    _claim(state, taken, now, fresh_logins, decision)


def _accepting(by_place: dict[str, list[Incident]], entry: OfflineEntry, rules: Rules) -> Incident | None:
    """The incident whose own place takes this drop within its onset, if any (`by_place`:
    active incidents by place)."""
    path = path_of(entry.sub)
    at = entry.dropped_at or 0.0
    for key in path:
        for incident in by_place.get(key, ()):
            if not incident.first_drop - rules.onset_window <= at <= incident.onset_end:
                continue
            if rank_of(key) <= RANK[PON]:
                return incident
            unit = child_on(path, key)
            if unit in incident.units or (unit is None and not incident.units):
                return incident
    return None


# --- finding outages --------------------------------------------------------------------


@dataclass(slots=True)
class _Drop:
    login: str
    at: float
    path: Path
    entry: OfflineEntry | None  # None for a member of a young incident
    incident_id: str | None
    covered: bool = False  # inside an outage place below the one being evaluated


@dataclass
class _Candidate:
    place: str
    path: Path
    drops: list[_Drop]
    units: set[str]


def _find_incidents(
    state: MonitorState,
    pool: list[OfflineEntry],
    fresh: list[OfflineEntry],
    now: float,
    rules: Rules,
    new_id: Callable[[], str],
    decision: Decision,
) -> None:
    """Open or widen incidents from the pool: first with the members of the incidents whose onset
    is still running (a neighbour within it widens them), then the drops that came after the
    onset of the incident they fell beside, on their own (a new outage)."""
    if not pool:
        return
    fresh_logins = {e.sub.login for e in fresh}
    drops = _loose(pool, now)
    for incident in state.incidents.values():
        if incident.onset_end < now - rules.horizon:
            continue
        for login in incident.offline:  # its members still down take part: a neighbour may widen it
            entry = state.offline.get(login)
            if entry is not None:
                drops.append(_Drop(login, incident.members[login], path_of(entry.sub), None, incident.id))
    late: list[OfflineEntry] = []
    for candidate in _outages(drops, state, now, rules):
        entries = [d.entry for d in candidate.drops if d.entry is not None]
        if not entries:
            continue
        owners = Counter(d.incident_id for d in candidate.drops if d.incident_id is not None)
        if not owners:
            _open(state, candidate, entries, now, rules, new_id, fresh_logins, decision)
            continue
        incident = state.incidents[owners.most_common(1)[0][0]]
        within = [e for e in entries if (e.dropped_at or now) <= incident.onset_end]
        late += [e for e in entries if (e.dropped_at or now) > incident.onset_end]
        if within:
            joined = {e.sub.login for e in within}
            candidate.drops = [d for d in candidate.drops if d.entry is None or d.login in joined]
            _widen(state, incident, candidate, within, now, rules, fresh_logins, decision)
    if late:
        for candidate in _outages(_loose(late, now), state, now, rules):
            entries = [d.entry for d in candidate.drops if d.entry is not None]
            _open(state, candidate, entries, now, rules, new_id, fresh_logins, decision)


def _loose(entries: list[OfflineEntry], now: float) -> list[_Drop]:
    return [_Drop(e.sub.login, e.dropped_at or now, path_of(e.sub), e, None) for e in entries]


def _outages(drops: list[_Drop], state: MonitorState, now: float, rules: Rules) -> list[_Candidate]:
    """The widest outage on each path among `drops` (see the module docstring)."""
    window = rules.onset_window
    rates, population = state.rates, state.population
    by_path: dict[Path, list[_Drop]] = defaultdict(list)
    for drop in drops:
        by_path[drop.path].append(drop)
    under: dict[str, list[_Drop]] = defaultdict(list)
    children: dict[str, set[str]] = defaultdict(set)
    for path, together in by_path.items():
        for key in path:
            under[key].extend(together)
        for below, key in pairwise(path):
            children[key].add(below)
    spans: dict[str, tuple[float, float]] = {}
    outage: dict[str, bool] = {}
    for key in sorted(under, key=rank_of):  # narrowest first: `covered` marks outages below
        members = under[key]
        active = population.get(key, 0)
        times = sorted([d.at for d in members])
        start, end, count = _densest(times, window)
        spans[key] = (start, end)
        if not rates.unlikely(key, count, window, rules.threshold, now, active):
            outage[key] = False
            continue
        kids = [c for c in children.get(key, ()) if outage.get(c) and _near(spans[c], (start, end), window)]
        if count == len(members):
            residual = sum(1 for d in members if not d.covered)
        else:
            residual = sum(1 for d in members if start <= d.at <= end and not d.covered)
        outage[key] = len(kids) >= 2 or rates.unlikely(key, residual, window, rules.threshold, now, active)
        if outage[key]:
            for drop in members:
                drop.covered = True
    roots = [key for key, is_outage in outage.items() if is_outage and not _outage_above(key, under, outage)]
    return [_candidate(key, under[key], spans, children, outage, window) for key in roots]


def _densest(times: list[float], window: float) -> tuple[float, float, int]:
    """(first, last, count) of the most drops within `window` seconds of each other (`times` sorted)."""
    if times[-1] - times[0] <= window:  # all together: the usual case of a real outage
        return times[0], times[-1], len(times)
    best = (times[0], times[0], 1)
    left = 0
    for right, at in enumerate(times):
        while at - times[left] > window:
            left += 1
        if right - left + 1 > best[2]:
            best = (times[left], at, right - left + 1)
    return best


def _near(span: tuple[float, float], other: tuple[float, float], window: float) -> bool:
    return span[0] <= other[1] + window and span[1] >= other[0] - window


def _outage_above(key: str, under: dict[str, list[_Drop]], outage: dict[str, bool]) -> bool:
    path = under[key][0].path
    return any(outage.get(above) for above in path[path.index(key) + 1 :])


def _candidate(
    key: str,
    members: list[_Drop],
    spans: dict[str, tuple[float, float]],
    children: dict[str, set[str]],
    outage: dict[str, bool],
    window: float,
) -> _Candidate:
    """The drops of outage `key`: within its span (and its outage sub-places'); inside an OLT or a
    connection only those with company in their sub-place."""
    start, end = spans[key]
    for child in children.get(key, ()):
        if outage.get(child) and _near(spans[child], spans[key], window):
            start, end = min(start, spans[child][0]), max(end, spans[child][1])
    placed = [(d, child_on(d.path, key)) for d in members if start <= d.at <= end]
    if rank_of(key) >= RANK[OLT]:
        company = Counter(unit for _, unit in placed)
        placed = [(d, unit) for d, unit in placed if unit is None or company[unit] >= 2]
    inside = [d for d, _ in placed]
    units = {unit for _, unit in placed if unit is not None}
    return _Candidate(key, trim(inside[0].path if inside else members[0].path, key), inside, units)


# --- opening, growing, resolving --------------------------------------------------------


def _open(
    state: MonitorState,
    candidate: _Candidate,
    entries: list[OfflineEntry],
    now: float,
    rules: Rules,
    new_id: Callable[[], str],
    fresh_logins: set[str],
    decision: Decision,
) -> None:
    _claim(state, entries, now, fresh_logins, decision)
    size = len(entries)
    covers = {path[0]: path for path in {d.path for d in candidate.drops if d.entry is not None}}
    alert, why, recurrence = _opening_alert(state, candidate.path, covers, size, now, rules)
    times = [e.dropped_at or now for e in entries]
    incident = Incident(
        id=new_id(),
        place=candidate.place,
        path=candidate.path,
        conexao=_main_conexao(e.sub for e in entries),
        opened_at=now,
        first_drop=min(times),
        last_drop=max(times),
        members={e.sub.login: e.dropped_at or now for e in entries},
        subs={e.sub.login: e.sub for e in entries},
        offline={e.sub.login for e in entries},
        units=set(candidate.units),
        announced=bool(alert),
        announced_rank=rank_of(candidate.place),
        recurrence=recurrence,
        onset_end=max(times) + rules.onset_window,
        related=_related(state, candidate.path),
        fell=set(covers),
    )
    state.incidents[incident.id] = incident
    for entry in entries:
        entry.incident_id = incident.id
        decision.upserts[entry.sub.login] = entry
    state.openings.setdefault(candidate.place, []).append(
        PastOpening(incident.id, now, size, alert, frozenset(covers))
    )
    decision.opened.append(Opening(incident.id, [(e.sub, e.dropped_at or now) for e in entries], alert))
    if why:
        decision.held.append((incident.id, OPENING, why))


def _claim(
    state: MonitorState, entries: list[OfflineEntry], now: float, fresh_logins: set[str], decision: Decision
) -> None:
    """Drops that join an incident stop counting as churn (those of earlier polls were counted then)."""
    for entry in entries:
        if entry.sub.login not in fresh_logins:
            _uncount(state, entry, now, decision)


def _related(state: MonitorState, path: Path) -> str:
    """The open incident at the same OLT (or, without one, the same connection) as `path`, widest
    first; "" when there is none."""
    olt = next((key for key in path if rank_of(key) == RANK[OLT]), None)
    shared = olt or path[-1]
    beside = [i for i in state.incidents.values() if shared in i.path or i.place in path]
    if not beside:
        return ""
    return max(beside, key=lambda i: (rank_of(i.place), len(i.members), i.opened_at)).id


def _opening_alert(
    state: MonitorState,
    path: Path,
    covers: dict[str, Path],
    size: int,
    now: float,
    rules: Rules,
    besides: str = "",
) -> tuple[str, str, int]:
    """(alert kind or "", why it is held, how many times the place opened within the window).

    `path` is the opening place and those above it, `covers` where its logins are (`leaves`):
    it falls again where an earlier incident fell when each of those places lies within one
    where the earlier one fell (a PON that flaps is the same PON even when a fall is first
    seen at one of its CTOs); a neighbour — another PON of the OLT, another CTO of the PON —
    falls for the first time.
    """
    recent = _recent_openings(state, path, covers, now, rules, besides=besides)
    count = len(recent) + 1
    if not recent or size > BIGGER * max(o.size for o in recent):
        return OPENING, "", count
    window = _duration_words(rules.flap_window)
    said = [o for o in recent if o.message == RECURRENCE]
    if not said:
        return RECURRENCE, "", count
    when = local_datetime(said[-1].at).strftime("%H:%M")
    return (
        "",
        f"recorrência: {count}ª queda no mesmo local em {window}; o aviso de recorrência já saiu às {when}",
        count,
    )


def _recent_openings(
    state: MonitorState,
    path: Path,
    covers: dict[str, Path],
    now: float,
    rules: Rules,
    *,
    besides: str = "",
) -> list[PastOpening]:
    """Openings at a place of `path` within `FLAP_WINDOW` (but incident `besides`'s own) where
    every place of `covers` fell before."""
    return [
        o
        for key in path
        for o in state.openings.get(key, ())
        if now - o.at < rules.flap_window and o.incident_id != besides and _inside(covers, o.covers)
    ]


def _inside(covers: dict[str, Path], fell: frozenset[str]) -> bool:
    """True when each place of `covers` (with its path) lies within a place of `fell`."""
    if not fell:
        return True  # an opening remembered without its places: its own place is on the path
    return all(any(key in fell for key in path) for path in covers.values())


def _move_openings(
    state: MonitorState, incident: Incident, previous: str, size: int, covers: dict[str, Path]
) -> None:
    """An incident that widened is remembered at its new place (where it would flap), with the
    places it took and its size there (a later fall of that place is compared with it)."""
    past = state.openings.get(previous, [])
    moving = [o for o in past if o.incident_id == incident.id]
    for opening in moving:
        opening.size = max(opening.size, size)
        opening.covers = frozenset(covers)
    if incident.place == previous or not moving:
        return
    kept = [o for o in past if o.incident_id != incident.id]
    if kept:
        state.openings[previous] = kept
    else:
        del state.openings[previous]
    state.openings.setdefault(incident.place, []).extend(moving)
    state.openings[incident.place].sort(key=attrgetter("at"))


def _widen(
    state: MonitorState,
    incident: Incident,
    candidate: _Candidate,
    entries: list[OfflineEntry],
    now: float,
    rules: Rules,
    fresh_logins: set[str],
    decision: Decision,
) -> None:
    """A neighbour that fell within the incident's onset joins it: the incident takes its parts
    and, when the level widens, its place becomes their common place."""
    _claim(state, entries, now, fresh_logins, decision)
    place = common_place(incident.path, candidate.path) or incident.place
    previous = incident.place
    if place != previous:
        incident.place = place
        incident.path = trim(candidate.path if place in candidate.path else incident.path, place)
    before = set(incident.units)
    if place != previous:
        # the old place and its parts, seen from the new place (the PON a CTO was, say)
        incident.units = {
            u for login in incident.members if (u := child_on(path_of(incident.subs[login]), place))
        }
    incident.units |= {u for d in candidate.drops if (u := child_on(d.path, place)) is not None}
    new_units = (
        frozenset(incident.units - before)
        if place == previous
        else frozenset(u for e in entries if (u := child_on(path_of(e.sub), place)) is not None)
    )
    incident.onset_end = max(
        incident.onset_end, max(e.dropped_at or now for e in entries) + rules.onset_window
    )
    covers = _joined_coverage(incident, entries)
    _move_openings(state, incident, previous, len(incident.members) + len(entries), covers)
    alert = ""
    widened = place != previous and rank_of(place) > incident.announced_rank
    if widened and incident.announced:
        # a recurrence back to where the place flapped before is no news
        again = incident.recurrence > 1 and _recent_openings(
            state, incident.path, covers, now, rules, besides=incident.id
        )
        alert = "" if again else WIDENING
    elif widened:
        alert, why, incident.recurrence = _opening_alert(
            state,
            incident.path,
            covers,
            len(incident.members) + len(entries),
            now,
            rules,
            incident.id,
        )
        if why:
            decision.held.append((incident.id, OPENING, why))
        else:
            for past in (
                o for opened in state.openings.values() for o in opened if o.incident_id == incident.id
            ):
                past.message = alert
            incident.announced = True
    if widened:
        incident.announced_rank = rank_of(place)
    _grow(state, incident, entries, previous if place != previous else None, alert, decision, new_units)


def _joined_coverage(incident: Incident, entries: list[OfflineEntry]) -> dict[str, Path]:
    return {**incident.coverage, **leaves(e.sub for e in entries)}


def _grow(
    state: MonitorState,
    incident: Incident,
    entries: list[OfflineEntry],
    widened_from: str | None,
    alert: str,
    decision: Decision,
    new_units: frozenset[str] = frozenset(),
) -> None:
    for entry in entries:
        at = entry.dropped_at or incident.last_drop
        entry.incident_id = incident.id
        incident.members[entry.sub.login] = at
        incident.subs[entry.sub.login] = entry.sub
        incident.offline.add(entry.sub.login)
        incident.first_drop = min(incident.first_drop, at)
        incident.last_drop = max(incident.last_drop, at)
        incident.fell.add(path_of(entry.sub)[0])
        decision.upserts[entry.sub.login] = entry
    decision.grown.append(
        Growth(
            incident.id,
            [(e.sub, e.dropped_at or incident.last_drop) for e in entries],
            widened_from,
            alert,
            new_units,
        )
    )


def _resolve_by_quorum(state: MonitorState, now: float, rules: Rules, decision: Decision) -> None:
    for incident in list(state.incidents.values()):
        total = len(incident.members)
        back = total - len(incident.offline)
        done = back >= total if total < rules.quorum_min_size else back >= rules.quorum * total
        if not done:
            continue
        del state.incidents[incident.id]
        stragglers = []
        for login in sorted(incident.offline):
            entry = state.offline.get(login)
            if entry is not None:
                entry.incident_id = None
                entry.dropped_at = None
                decision.upserts[login] = entry
                stragglers.append(entry.sub)
        returned = sorted(set(incident.members) - incident.offline)
        decision.resolved.append(Resolution(incident, stragglers, returned, total, incident.announced))
        if not incident.announced:
            decision.held.append((incident.id, NORMALIZATION, NOT_ANNOUNCED))


# --- churn rates ------------------------------------------------------------------------


def _count_churn(state: MonitorState, fresh: list[OfflineEntry], now: float, decision: Decision) -> None:
    """This poll's new drops that joined nothing count towards their places' churn rates."""
    for entry in fresh:
        if entry.incident_id is None:
            for key in path_of(entry.sub):
                state.rates.add(key, 1.0, now)
                decision.rates_touched.add(key)


def _uncount(state: MonitorState, entry: OfflineEntry, now: float, decision: Decision) -> None:
    for key in path_of(entry.sub):
        state.rates.add(key, -1.0, now)
        decision.rates_touched.add(key)


def _forget_old_openings(state: MonitorState, now: float, rules: Rules) -> None:
    since = now - max(rules.flap_window, OPENINGS_KEPT)
    for place in list(state.openings):
        kept = [o for o in state.openings[place] if o.at >= since]
        if kept:
            state.openings[place] = kept
        else:
            del state.openings[place]


def _main_conexao(subs: Iterable[Subscriber]) -> str:
    counts = Counter(sub.conexao for sub in subs)
    return counts.most_common(1)[0][0] if counts else ""


def _duration_words(seconds: float) -> str:
    if seconds % 3600 == 0:
        return f"{int(seconds // 3600)} h"
    return f"{int(seconds // 60)} min"
