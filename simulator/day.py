"""A scripted day at a simulated ISP, with the truth a benchmark scores a detector against.

    day = ScriptedDay(customers=30_000, seed=1, start=1_767_236_400.0)
    with FakeIXC(day.network) as ixc:               # the ERP over real HTTP
        now = day.start
        while now < day.end:
            now += 300
            day.advance(now)                        # churn and script up to `now`
            ...                                     # one monitor cycle at `now` (clock: day.clock)
    truth = day.truth()

Contract
--------
Network. `day.network` is `Network(customers, seed, clock=day.clock)` with the default churn
(`DEFAULT_CHURN`) and realistic timing (`REALISTIC`), built at `start` already in the churn's
steady state (about 3 % of the active logins `N`, 10 % `SS`, some offline for days).
`day.clock` is a `SimClock` (a callable returning `day.clock.now`): give it to whatever else
must share the simulated time (the monitor's injected clock).

Time. `advance(now)` applies, in time order, every churn drop, session end and return and every
scripted onset and repair whose time is at or before `now`, then sets `day.clock.now = now`.
`now` never goes back (ValueError). The outcome does not depend on the step: advancing in
5-minute cycles or second by second gives the same network at the same time; the same
(customers, seed, start) give the same day. `day.end` is `start` + 24 h.

Script. `day.outages` (fixed at construction) are twelve outages at times fixed relative to
`start`, most delayed by a seeded 0-10 minutes (so onsets never line up with poll
boundaries), on places picked with the seeded random generator:

0. `fresh` — `fiber_cut` of a PON 7 minutes after the start: an install that has just
   recorded its baseline, repaired 50 minutes later;
1. `cto` — `cto_failure` (LOS) of a CTO of at least 8 customers, ~01:20, repaired 1 h 45 later;
2. `fiber` — `fiber_cut` (LOS) of a PON of at least 16 customers, ~04:10, repaired 2 h 20 later;
3. `power` — `power_outage` (dying-gasp on about 90 %: the rest have a UPS) over three
   neighbouring PONs of one OLT, ~07:30, the last PON within 5 minutes of the first; power
   back 1 h 30 later;
4. `second` — `fiber_cut` (LOS) of another PON of that same OLT (same `conexao`), ~08:05, while
   the power cut is open, repaired 1 h 10 later: a second, different outage on a connection
   that already has an open one;
5. `concentrator` — `concentrator_failure` of the `conexao` of another OLT, ~12:40: every
   session ends at once (`NAS-Reboot`; ONUs stay up), back 25 minutes later;
6. `flap` — `flap` of a PON of at least 16 customers from ~17:15: down 5 min, up 12, down 4,
   up 15, down 6 (three episodes within an hour).

Then a bad night, from ~19:00 (N), outages on top of each other:

7. `night_power` — a power cut over three neighbouring PONs of an OLT at N, back at N+2 h;
8. `night_fiber` — a fiber cut on a fourth PON of that OLT at N+25 min, while the power is out,
   repaired at N+85 min;
9. `night_concentrator` — the concentrator of that OLT's connection fails at N+55 min, over the
   open power cut, back at N+75 min;
10. `wide_concentrator` — the concentrator of the connection with the most OLTs (a BNG that
    serves several) fails at N+150 min, back 15 minutes later;
11. `cto_after_stragglers` — a CTO on the PON of `fiber` (whose repair left stragglers) fails at
    N+210 min, repaired 50 minutes later.

How it shows (the network's `Timing`): ONUs go down within 2 s of the onset (the power cut PON
by PON within 5 minutes); the ERP shows each login `N` 10-180 s later (about 8 % never: the
accounting stop was lost and the login shows `SS`); after a repair sessions come back
20 s + Exp(100 s) later, except about 4 % stragglers (fiber, CTO, power; not the flap nor the
concentrator) that come back 1 h to 3 days later, by themselves.

Truth. `truth()` lists, as of `day.clock.now`, one `Outage` per scripted outage already
started: `name`, `kind`, `place` (`Place`: scope `cto`/`pon`/`olt`/`conexao` — the narrowest
place holding all its logins —, `conexao`, `id_transmissor`, its PONs as the ERP spells them
(`interface_transmissao`), the CTO's `id_caixa_ftth`) and its `episodes` (one, or three for
the flap), each with:

- `onset`: the fault instant; `repair`: the repair instant (None while open);
- `logins`: the logins it took down — those up when the fault reached their ONU (session).
  A login already offline by churn is not in it (it stays down after the repair if its own
  drop lasts longer). Final 5 minutes after the onset;
- `erp_offline`: login -> when the ERP started showing it `N` (lost stops are absent);
- `returns`: login -> when its session is back (`S`), known from the repair (may fall after
  the day); `stragglers`: the logins that come back only much later.

A CTO's logins include its customers whose ERP row names no CTO (`id_caixa_ftth = "0"`, about
5 %): they are down all the same. Every login that drops and is in no truth is churn.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from simulator.network import Cto, Customer, Incident, Network, Olt

DAY = 86400.0
MIN_PON_CUSTOMERS = 16
MIN_CTO_CUSTOMERS = 8
JITTER = 600.0
FRESH_AFTER = 420.0  # the first outage: 7 minutes after the day starts, right after the baseline
POWER_PONS = 3


class SimClock:
    """A settable clock: `clock()` returns `clock.now` (epoch seconds)."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass(frozen=True, slots=True)
class Place:
    """Where an outage is, in the ERP's terms. `pons`: `interface_transmissao` of each PON."""

    scope: str
    conexao: str
    id_transmissor: str
    pons: tuple[str, ...] = ()
    cto: str | None = None


@dataclass(frozen=True, slots=True)
class Planned:
    """One scripted outage: its network targets and the (onset, repair) of each episode."""

    name: str
    kind: str
    place: Place
    windows: tuple[tuple[float, float], ...]
    pon_keys: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Episode:
    """One down-and-up of a scripted outage, as it really happened (see the module docstring)."""

    onset: float
    repair: float | None
    logins: frozenset[str]
    erp_offline: Mapping[str, float]
    returns: Mapping[str, float]
    stragglers: frozenset[str]


@dataclass(frozen=True, slots=True)
class Outage:
    """The truth about one scripted outage so far."""

    name: str
    kind: str
    place: Place
    episodes: tuple[Episode, ...]

    @property
    def logins(self) -> frozenset[str]:
        """Every login any of its episodes took down."""
        return frozenset().union(*(episode.logins for episode in self.episodes))

    @property
    def onset(self) -> float:
        return self.episodes[0].onset

    @property
    def repair(self) -> float | None:
        """The last repair, None while an episode is open."""
        return self.episodes[-1].repair

    @property
    def stragglers(self) -> frozenset[str]:
        return frozenset().union(*(episode.stragglers for episode in self.episodes))


class ScriptedDay:
    """A day of churn and six real outages over a simulated ISP; see the module docstring."""

    def __init__(self, customers: int, seed: int, start: float) -> None:
        self.start = start
        self.end = start + DAY
        self.clock = SimClock(start)
        self.network = Network(customers=customers, seed=seed, clock=self.clock)
        self.outages = _script(self.network, random.Random(f"{seed}-day"), start)
        self._incident_ids: dict[tuple[int, int], str] = {}
        self._actions = sorted(self._plan_actions(), key=lambda action: action[:2])
        self._next_action = 0

    def advance(self, now: float) -> None:
        """Apply churn and script up to `now` in time order; then `clock.now == now`."""
        if now < self.clock.now:
            raise ValueError(f"time never goes back: {now} < {self.clock.now}")
        while self._next_action < len(self._actions) and self._actions[self._next_action][0] <= now:
            when, _, act = self._actions[self._next_action]
            self._next_action += 1
            self.clock.now = when
            self.network.advance(when)
            act()
        self.clock.now = now
        self.network.advance(now)

    def truth(self) -> list[Outage]:
        """Every scripted outage started by now, with what it really did so far."""
        with self.network.lock:
            return [
                Outage(planned.name, planned.kind, planned.place, episodes)
                for n, planned in enumerate(self.outages)
                if (episodes := self._episodes(n))
            ]

    def _episodes(self, outage: int) -> tuple[Episode, ...]:
        found = []
        for episode in range(len(self.outages[outage].windows)):
            incident_id = self._incident_ids.get((outage, episode))
            if incident_id is not None:
                found.append(_episode(self.network, self.network.incident(incident_id)))
        return tuple(found)

    def _plan_actions(self) -> list[tuple[float, int, Callable[[], None]]]:
        actions: list[tuple[float, int, Callable[[], None]]] = []
        for n, planned in enumerate(self.outages):
            for e, (onset, repair) in enumerate(planned.windows):
                actions.append((onset, 2 * len(actions), self._onset(n, e, planned, onset)))
                actions.append((repair, 2 * len(actions) + 1, self._repair(n, e, planned, repair)))
        return actions

    def _onset(self, n: int, e: int, planned: Planned, when: float) -> Callable[[], None]:
        network = self.network

        def start() -> None:
            if planned.kind == "cto_failure":
                assert planned.place.cto is not None
                incident_id = network.cto_failure(planned.place.cto, at=when)
            elif planned.kind == "power_outage":
                incident_id = network.power_outage(planned.pon_keys, at=when)
            elif planned.kind == "concentrator_failure":
                incident_id = network.concentrator_failure(planned.place.conexao, at=when)
            else:  # fiber_cut, and each episode of a flap
                incident_id = network.fiber_cut(*planned.pon_keys[0], at=when)
            self._incident_ids[(n, e)] = incident_id

        return start

    def _repair(self, n: int, e: int, planned: Planned, when: float) -> Callable[[], None]:
        def repair() -> None:
            self.network.recover(self._incident_ids[(n, e)], at=when, stragglers=planned.kind != "flap")

        return repair


def _episode(network: Network, incident: Incident) -> Episode:
    login = network.customers
    taken = incident.taken
    return Episode(
        onset=incident.started,
        repair=incident.repaired,
        logins=frozenset(login[i].login for i in taken),
        erp_offline={login[i].login: when for i, when in incident.shown_offline.items()},
        returns={login[i].login: incident.returns[i] for i in taken if i in incident.returns},
        stragglers=frozenset(login[i].login for i in incident.stragglers if i in taken),
    )


# ---------------------------------------------------------------------- the script


def _script(network: Network, rng: random.Random, start: float) -> tuple[Planned, ...]:
    """The outages of the module docstring, on distinct PONs picked with `rng`."""
    picker = _Picker(network, rng)
    power_olt, concentrator_olt, *others = picker.olts_for_day()
    fresh_pon = picker.pon(picker.pick(others or [power_olt]))
    power_pons = picker.neighbour_pons(power_olt, POWER_PONS)
    second_pon = picker.pon(power_olt)
    fiber_pon = picker.pon(picker.pick(others or [power_olt]))
    flap_pon = picker.pon(picker.pick(others or [power_olt]))
    cto = picker.cto(picker.pick(others or [power_olt]))
    wide = picker.widest_connection()
    night_olt = picker.olt_with_pons(
        POWER_PONS + 1, prefer=[o for o in network.olts if o.conexao != wide.conexao]
    )
    night_pons = picker.neighbour_pons(night_olt, POWER_PONS)
    night_fiber = picker.pon(night_olt)
    after_stragglers = picker.cto_on(fiber_pon)

    def at(hhmm: str, *minutes: tuple[int, int]) -> tuple[tuple[float, float], ...]:
        """Episodes (down, up), in minutes after `start` + `hhmm` + the seeded jitter."""
        hours, mins = hhmm.split(":")
        base = start + int(hours) * 3600 + int(mins) * 60 + rng.random() * JITTER
        return tuple((base + down * 60, base + up * 60) for down, up in minutes)

    night = at("19:00", (0, 120))[0][0]  # the bad night: one base, outages at fixed minutes after it

    def then(down: int, up: int) -> tuple[tuple[float, float]]:
        return ((night + down * 60, night + up * 60),)

    fresh_onset = start + FRESH_AFTER
    concentrator = Place("conexao", concentrator_olt.conexao, concentrator_olt.id)
    night_place = _pon_place(network, night_pons)
    return (
        Planned("fresh", "fiber_cut", _pon_place(network, [fresh_pon]), ((fresh_onset, fresh_onset + 3000),), (fresh_pon,)),
        Planned("cto", "cto_failure", _cto_place(network, cto), at("01:20", (0, 105))),
        Planned("fiber", "fiber_cut", _pon_place(network, [fiber_pon]), at("04:10", (0, 140)), (fiber_pon,)),
        Planned("power", "power_outage", _pon_place(network, power_pons), at("07:30", (0, 90)), tuple(power_pons)),
        Planned("second", "fiber_cut", _pon_place(network, [second_pon]), at("08:05", (0, 70)), (second_pon,)),
        Planned("concentrator", "concentrator_failure", concentrator, at("12:40", (0, 25))),
        Planned("flap", "flap", _pon_place(network, [flap_pon]), at("17:15", (0, 5), (17, 21), (36, 42)), (flap_pon,)),
        Planned("night_power", "power_outage", night_place, then(0, 120), tuple(night_pons)),
        Planned("night_fiber", "fiber_cut", _pon_place(network, [night_fiber]), then(25, 85), (night_fiber,)),
        Planned("night_concentrator", "concentrator_failure", Place("conexao", night_olt.conexao, night_olt.id), then(55, 75)),
        Planned("wide_concentrator", "concentrator_failure", wide, then(150, 165)),
        Planned("cto_after_stragglers", "cto_failure", _cto_place(network, after_stragglers), then(210, 260)),
    )  # fmt: skip


class _Picker:
    """Seeded choice of places, never the same PON twice."""

    def __init__(self, network: Network, rng: random.Random) -> None:
        self.network = network
        self.rng = rng
        self.pons = network.pons()
        self.used: set[tuple[str, str]] = set()

    def pick(self, options: Sequence[Olt]) -> Olt:
        return self.rng.choice(list(options))

    def olts_for_day(self) -> list[Olt]:
        """The power cut's OLT (it needs `POWER_PONS` + 1 big PONs) first, then the others shuffled."""
        olts = list(self.network.olts)
        self.rng.shuffle(olts)
        if len(olts) < 2:
            raise ValueError("um dia simulado precisa de pelo menos 2 OLTs (use 2.000 clientes ou mais)")
        power = next((o for o in olts if len(self._big_pons(o, strict=False)) > POWER_PONS), None)
        if power is None:
            raise ValueError(f"nenhuma OLT com {POWER_PONS + 1} PONs de {MIN_PON_CUSTOMERS}+ clientes")
        olts.remove(power)
        return [power, *olts]

    def olt_with_pons(self, count: int, prefer: Sequence[Olt]) -> Olt:
        """An OLT with `count` unused big PONs, one of `prefer` when there is one."""
        for olts in (list(prefer), list(self.network.olts)):
            fit = [olt for olt in olts if len(self._big_pons(olt, strict=False)) >= count]
            if fit:
                return self.pick(fit)
        raise ValueError(f"nenhuma OLT com {count} PONs livres de {MIN_PON_CUSTOMERS}+ clientes")

    def widest_connection(self) -> Place:
        """The connection with the most OLTs (a BNG that serves several)."""
        olts: dict[str, list[Olt]] = {}
        for olt in self.network.olts:
            olts.setdefault(olt.conexao, []).append(olt)
        conexao = max(olts, key=lambda name: len(olts[name]))
        return Place("conexao", conexao, olts[conexao][0].id if len(olts[conexao]) == 1 else "")

    def cto_on(self, pon: tuple[str, str]) -> Cto:
        """A CTO of `MIN_CTO_CUSTOMERS`+ customers on `pon` (a PON used earlier in the day)."""
        ctos = [
            cto
            for cto in self.network.ctos.values()
            if (cto.olt.id, cto.port) == pon and len(cto.customers) >= MIN_CTO_CUSTOMERS
        ]
        if not ctos:
            raise ValueError(f"nenhuma CTO com {MIN_CTO_CUSTOMERS}+ clientes na PON {pon[1]}")
        return self.rng.choice(ctos)

    def neighbour_pons(self, olt: Olt, count: int) -> list[tuple[str, str]]:
        """`count` PONs built one after the other on `olt` (one neighbourhood), all big."""
        keys = [key for key in self.pons if key[0] == olt.id]
        big = set(self._big_pons(olt))
        runs = [keys[i : i + count] for i in range(len(keys) - count + 1)]
        chosen = self.rng.choice([run for run in runs if big.issuperset(run)] or [sorted(big)[:count]])
        self.used.update(chosen)
        return chosen

    def pon(self, olt: Olt) -> tuple[str, str]:
        """A big PON of `olt` not used yet."""
        key = self.rng.choice(self._big_pons(olt))
        self.used.add(key)
        return key

    def cto(self, olt: Olt) -> Cto:
        """A CTO of `MIN_CTO_CUSTOMERS`+ customers of `olt`, on a PON not used yet."""
        ctos = [
            cto
            for cto in self.network.ctos.values()
            if cto.olt is olt
            and len(cto.customers) >= MIN_CTO_CUSTOMERS
            and (olt.id, cto.port) not in self.used
        ]
        if not ctos:
            raise ValueError(f"nenhuma CTO livre com {MIN_CTO_CUSTOMERS}+ clientes na OLT {olt.name}")
        cto = self.rng.choice(ctos)
        self.used.add((olt.id, cto.port))
        return cto

    def _big_pons(self, olt: Olt, *, strict: bool = True) -> list[tuple[str, str]]:
        """The unused PONs of `MIN_PON_CUSTOMERS`+ customers of `olt` (strict: ValueError if none)."""
        big = [
            key
            for key, members in self.pons.items()
            if key[0] == olt.id and len(members) >= MIN_PON_CUSTOMERS and key not in self.used
        ]
        if strict and not big:
            raise ValueError(f"nenhuma PON livre com {MIN_PON_CUSTOMERS}+ clientes na OLT {olt.name}")
        return big


def _pon_place(network: Network, keys: Sequence[tuple[str, str]]) -> Place:
    """One PON: scope `pon`; several of one OLT: scope `olt`."""
    olt = network.olt(keys[0][0])
    pons = tuple(_erp_interface(network.pons()[key]) for key in keys)
    return Place("pon" if len(keys) == 1 else "olt", olt.conexao, olt.id, pons)


def _cto_place(network: Network, cto: Cto) -> Place:
    pons = (_erp_interface(cto.customers),)
    return Place("cto", cto.olt.conexao, cto.olt.id, pons, cto.id)


def _erp_interface(customers: Sequence[Customer]) -> str:
    return customers[0].interface_transmissao
