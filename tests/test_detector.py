"""The detector's rules, one by one (pure logic: no I/O, time injected)."""

from __future__ import annotations

import itertools
from dataclasses import replace

from outage.core.detector import ALARM, AlarmDrop, Decision, MonitorState, Rules, detect
from outage.core.detector import hear as detect_alarms
from outage.core.kinds import GROWTH, NORMALIZATION, OPENING, RECURRENCE
from outage.core.model import Subscriber

RULES = Rules(
    threshold=4, onset_window=300, flap_window=3600, quorum=0.9, quorum_min_size=10, check_interval=300
)
START = 1_800_000_000.0


def login(olt: int, pon: int, cto: int, n: int) -> str:
    return f"c{olt}-{pon}-{cto}-{n}"


class Isp:
    """A small network: connection `BNG-1` with OLTs of 4 PONs x 4 CTOs x 8 logins."""

    def __init__(self, olts: int = 2, *, with_cto: bool = True, with_pon: bool = True) -> None:
        self.subs: dict[str, Subscriber] = {}
        for o, p, c, n in itertools.product(range(1, olts + 1), range(4), range(4), range(8)):
            name = login(o, p, c, n)
            self.subs[name] = Subscriber(
                login=name,
                conexao="BNG-1",
                id=name,
                id_transmissor=str(o),
                interface_transmissao=f"0/1/{p}" if with_pon else "",
                id_caixa_ftth=f"{o}{p}{c}" if with_cto else "0",
            )

    def at(self, logins: list[str], ended: float) -> dict[str, Subscriber]:
        return {name: _ended(self.subs[name], ended) for name in logins}


def _ended(sub: Subscriber, ended: float) -> Subscriber:
    return replace(sub, session_end=ended)


def cto(olt: int, pon: int, c: int, count: int = 8) -> list[str]:
    return [login(olt, pon, c, n) for n in range(count)]


def pon(olt: int, p: int) -> list[str]:
    return [name for c in range(4) for name in cto(olt, p, c)]


class Monitor:
    """Drives polls every `interval` seconds; the offline set persists between polls."""

    def __init__(self, isp: Isp, rules: Rules = RULES) -> None:
        self.isp = isp
        self.state = MonitorState()
        self.rules = rules
        self.ids = (f"inc{n}" for n in itertools.count(1))
        self.now = START
        self.offline: dict[str, Subscriber] = {}
        self.poll()  # baseline

    def drop(self, logins: list[str], ago: float = 60.0) -> None:
        """Those logins' sessions ended `ago` seconds before the next poll."""
        self.offline.update(self.isp.at(logins, self.now + self.rules.check_interval - ago))

    def back(self, logins: list[str]) -> set[str]:
        for name in logins:
            self.offline.pop(name, None)
        return set(logins)

    def poll(self, online: set[str] | None = None, advance: float | None = None) -> Decision:
        self.now += self.rules.check_interval if advance is None else advance
        return detect(
            self.state,
            dict(self.offline),
            frozenset(online or ()),
            self.now,
            self.rules,
            lambda: next(self.ids),
        )

    def incident(self, incident_id: str):
        return self.state.incidents[incident_id]


def opened(decision: Decision) -> list[tuple[str, int, str]]:
    return [(d.incident_id, len(d.subs), d.alert) for d in decision.opened]


# --- baseline and drop times ------------------------------------------------------------


def test_the_first_poll_only_records_the_baseline():
    isp = Isp()
    state = MonitorState()
    decision = detect(state, isp.at(pon(1, 0), START - 600), frozenset(), START, RULES, lambda: "x")
    assert decision.baseline and decision.opened == [] and decision.new_drops == 0
    assert all(entry.dropped_at is None for entry in state.offline.values())


def test_a_drop_carries_its_session_end_when_it_is_plausible():
    monitor = Monitor(Isp())
    monitor.drop(cto(1, 0, 0, 1), ago=100)
    monitor.poll()
    assert monitor.state.offline[login(1, 0, 0, 0)].dropped_at == monitor.now - 100


def test_a_session_end_before_the_previous_poll_gives_the_poll_time():
    monitor = Monitor(Isp())
    monitor.drop(cto(1, 0, 0, 1), ago=900)  # 600 s before the previous poll: the BNG reported late
    monitor.poll()
    assert monitor.state.offline[login(1, 0, 0, 0)].dropped_at == monitor.now


def test_a_session_end_in_the_future_gives_the_poll_time():
    monitor = Monitor(Isp())
    monitor.drop(cto(1, 0, 0, 1), ago=-600)
    monitor.poll()
    assert monitor.state.offline[login(1, 0, 0, 0)].dropped_at == monitor.now


def test_a_session_that_ended_long_before_is_no_new_drop():
    monitor = Monitor(Isp())
    monitor.drop(cto(1, 0, 0), ago=3 * 3600)  # e.g. `SS` for hours, now `N`
    decision = monitor.poll()
    assert decision.new_drops == 0 and decision.opened == []
    assert monitor.state.offline[login(1, 0, 0, 0)].dropped_at is None


def test_the_erp_clock_offset_is_learned_so_another_time_zone_still_detects():
    """An ERP writing Cuiabá time (one hour behind): every session end looks an hour old."""
    monitor = Monitor(Isp(olts=3))
    churners = iter(pon(3, 0) + pon(3, 1) + pon(3, 2))
    for _ in range(4):
        monitor.drop([next(churners)], ago=3600 + 40)
        monitor.poll()
    assert abs(monitor.state.erp_clock.offset - 3600) < 300
    monitor.drop(cto(1, 0, 0), ago=3600 + 100)
    decision = monitor.poll()
    assert len(decision.opened) == 1
    assert monitor.incident(decision.opened[0].incident_id).first_drop == monitor.now - 100 + (
        monitor.state.erp_clock.offset - 3600
    )


def test_a_correct_erp_clock_learns_no_offset():
    monitor = Monitor(Isp(olts=3))
    for name in pon(3, 0)[:5]:
        monitor.drop([name], ago=30)
        monitor.poll()
    assert monitor.state.erp_clock.offset == 0.0


# --- place and time ---------------------------------------------------------------------


def test_four_simultaneous_drops_on_a_cto_of_eight_are_an_incident_at_the_cto():
    monitor = Monitor(Isp())
    monitor.drop(cto(1, 0, 2, 4))
    decision = monitor.poll()
    assert [(size, alert) for _, size, alert in opened(decision)] == [(4, OPENING)]
    incident = monitor.incident(decision.opened[0].incident_id)
    assert incident.place == "cto:102"
    assert incident.path == ("cto:102", "pon:1:0/1/0", "olt:1", "conexao:BNG-1")


def test_drops_below_the_threshold_open_nothing():
    monitor = Monitor(Isp())
    monitor.drop(cto(1, 0, 2, 3))
    decision = monitor.poll()
    assert decision.opened == [] and decision.new_drops == 3


def test_drops_scattered_over_places_never_open_an_incident():
    monitor = Monitor(Isp())
    monitor.drop([login(1, 0, 0, 0), login(1, 0, 1, 0), login(1, 1, 0, 0), login(1, 2, 3, 0)])
    assert monitor.poll().opened == []


def test_drops_scattered_in_time_never_open_an_incident():
    monitor = Monitor(Isp())
    for n in range(6):
        monitor.drop([login(1, 0, 0, n)])
        assert monitor.poll().opened == []


def test_drops_seen_over_two_polls_within_the_onset_window_are_one_incident():
    monitor = Monitor(Isp())
    monitor.drop(cto(1, 0, 0, 3), ago=20)  # the BNG's keepalive ends the rest of the sessions later
    assert monitor.poll().opened == []
    monitor.drop(cto(1, 0, 0)[3:], ago=250)
    decision = monitor.poll()
    assert [size for _, size, _ in opened(decision)] == [8]


def test_every_cto_of_a_pon_falling_together_is_one_incident_at_the_pon():
    monitor = Monitor(Isp())
    monitor.drop(pon(1, 1))
    decision = monitor.poll()
    assert [size for _, size, _ in opened(decision)] == [32]
    assert monitor.incident(decision.opened[0].incident_id).place == "pon:1:0/1/1"


def test_a_pon_without_cto_data_is_still_placed_at_the_pon():
    monitor = Monitor(Isp(with_cto=False))
    monitor.drop(pon(1, 1)[:10])
    decision = monitor.poll()
    assert monitor.incident(decision.opened[0].incident_id).place == "pon:1:0/1/1"


def test_several_pons_of_an_olt_falling_together_are_one_incident_at_the_olt():
    monitor = Monitor(Isp())
    monitor.drop(pon(1, 0) + pon(1, 2) + pon(1, 3))
    decision = monitor.poll()
    incident = monitor.incident(decision.opened[0].incident_id)
    assert (incident.place, len(incident.members)) == ("olt:1", 96)
    assert incident.units == {"pon:1:0/1/0", "pon:1:0/1/2", "pon:1:0/1/3"}


def test_a_lone_churn_drop_elsewhere_on_the_olt_does_not_join_an_olt_incident():
    monitor = Monitor(Isp())
    churn = login(1, 1, 2, 5)
    monitor.drop(pon(1, 0) + pon(1, 2) + [churn])
    decision = monitor.poll()
    incident = monitor.incident(decision.opened[0].incident_id)
    assert churn not in incident.members
    assert monitor.state.offline[churn].incident_id is None


def test_a_whole_connection_without_topology_is_placed_at_the_connection():
    monitor = Monitor(Isp(with_cto=False, with_pon=False))
    monitor.drop(pon(1, 0) + pon(2, 0))
    decision = monitor.poll()
    assert monitor.incident(decision.opened[0].incident_id).place == "conexao:BNG-1"


def test_churn_learned_on_a_big_connection_keeps_four_scattered_drops_from_opening():
    """Middleware mode: only `conexao` known, 10,000 logins, ~30 churn drops per hour."""
    big = {
        f"u{n}": Subscriber(login=f"u{n}", conexao="BNG-GRANDE", id=str(n), id_transmissor="0")
        for n in range(10_000)
    }
    state = MonitorState()
    now = START
    detect(state, {}, frozenset(), now, RULES, lambda: "x")
    offline: dict[str, Subscriber] = {}
    names = iter(big)
    for _ in range(48):  # four hours of churn: 2-3 new drops per poll
        now += 300
        for _ in range(3):
            name = next(names)
            offline[name] = _ended(big[name], now - 100)
        assert detect(state, dict(offline), frozenset(), now, RULES, lambda: "x").opened == []
    now += 300
    for _ in range(4):
        name = next(names)
        offline[name] = _ended(big[name], now - 100)
    assert detect(state, dict(offline), frozenset(), now, RULES, lambda: "x").opened == []


# --- growth -----------------------------------------------------------------------------


def test_a_neighbouring_cto_falling_within_the_onset_window_widens_the_incident_to_the_pon():
    monitor = Monitor(Isp())
    monitor.drop(cto(1, 0, 0), ago=30)
    first = monitor.poll().opened[0].incident_id
    monitor.drop(cto(1, 0, 1) + cto(1, 0, 2), ago=280)
    decision = monitor.poll()
    assert decision.opened == []
    assert [(g.incident_id, g.widened_from, g.alert) for g in decision.grown] == [(first, "cto:100", GROWTH)]
    assert monitor.incident(first).place == "pon:1:0/1/0"
    assert len(monitor.incident(first).members) == 24


def test_the_noc_is_told_of_a_widening_once_per_level():
    monitor = Monitor(Isp())
    monitor.drop(cto(1, 0, 0), ago=30)
    first = monitor.poll().opened[0].incident_id
    monitor.drop(cto(1, 0, 1), ago=280)
    assert [g.alert for g in monitor.poll().grown] == [GROWTH]
    monitor.drop(cto(1, 0, 2) + cto(1, 0, 3), ago=290)
    decision = monitor.poll()
    assert [(g.incident_id, g.alert) for g in decision.grown] == [(first, "")]


def test_a_power_cut_spreading_over_pons_widens_the_incident_to_the_olt():
    monitor = Monitor(Isp())
    monitor.drop(pon(1, 0), ago=40)
    first = monitor.poll().opened[0].incident_id
    monitor.drop(pon(1, 1), ago=270)
    decision = monitor.poll()
    assert monitor.incident(first).place == "olt:1"
    assert [g.widened_from for g in decision.grown] == ["pon:1:0/1/0"]


def test_late_session_ends_in_its_own_place_within_the_onset_join_without_an_alert():
    monitor = Monitor(Isp())
    monitor.drop(cto(1, 0, 0, 7), ago=30)
    first = monitor.poll(advance=60).opened[0].incident_id
    monitor.drop([login(1, 0, 0, 7)], ago=200)  # the concentrator ended that session last
    decision = monitor.poll(advance=60)
    assert [(g.incident_id, len(g.subs), g.alert) for g in decision.grown] == [(first, 1, "")]


def test_a_drop_in_its_own_place_after_the_onset_is_ordinary_churn():
    monitor = Monitor(Isp())
    monitor.drop(cto(1, 0, 0, 7))
    first = monitor.poll().opened[0].incident_id
    for _ in range(6):
        monitor.poll()
    monitor.drop([login(1, 0, 0, 7)])
    decision = monitor.poll()
    assert decision.grown == [] and decision.opened == []
    assert len(monitor.incident(first).members) == 7
    assert monitor.state.offline[login(1, 0, 0, 7)].incident_id is None


def test_churn_elsewhere_on_the_connection_never_joins():
    monitor = Monitor(Isp())
    monitor.drop(pon(1, 0))
    first = monitor.poll().opened[0].incident_id
    for n in range(8):
        monitor.drop([login(2, n % 4, n % 3, n)])
        monitor.poll()
    assert len(monitor.incident(first).members) == 32


def test_a_second_outage_on_the_same_connection_is_a_second_incident():
    monitor = Monitor(Isp())
    monitor.drop(pon(1, 0))
    first = monitor.poll().opened[0].incident_id
    for _ in range(4):
        monitor.poll()
    monitor.drop(pon(1, 1))  # an hour later, next door
    decision = monitor.poll()
    assert len(decision.opened) == 1 and decision.opened[0].incident_id != first
    assert {i.conexao for i in monitor.state.incidents.values()} == {"BNG-1"}
    assert len(monitor.state.incidents) == 2


# --- overlapping outages ---------------------------------------------------------------


def test_pons_of_an_olt_falling_after_its_incidents_onset_are_a_new_incident_related_to_it():
    monitor = Monitor(Isp())
    monitor.drop(pon(1, 0) + pon(1, 1))
    first = monitor.poll().opened[0].incident_id
    for _ in range(3):
        monitor.poll()
    monitor.drop(pon(1, 2) + pon(1, 3))  # a quarter of an hour later, the rest of the OLT
    decision = monitor.poll()
    assert opened(decision) == [("inc2", 64, OPENING)]
    assert decision.grown == []
    second = monitor.incident("inc2")
    assert (second.place, second.units, second.related) == ("olt:1", {"pon:1:0/1/2", "pon:1:0/1/3"}, first)
    assert len(monitor.incident(first).members) == 64


def test_drops_in_the_parts_an_incident_took_after_its_onset_are_a_new_outage_too():
    monitor = Monitor(Isp())
    monitor.drop(cto(1, 0, 0) + cto(1, 0, 1) + cto(1, 1, 0) + cto(1, 1, 1))  # power over half of 2 PONs
    first = monitor.poll().opened[0].incident_id
    assert monitor.incident(first).units == {"pon:1:0/1/0", "pon:1:0/1/1"}
    for _ in range(3):
        monitor.poll()
    monitor.drop(cto(1, 0, 2) + cto(1, 0, 3))  # a fiber cut in one of those PONs
    decision = monitor.poll()
    assert opened(decision) == [("inc2", 16, OPENING)]
    assert monitor.incident("inc2").related == first


def test_a_concentrator_failure_over_an_open_olt_incident_is_one_connection_incident():
    monitor = Monitor(Isp())
    monitor.drop(pon(1, 0) + pon(1, 1))
    first = monitor.poll().opened[0].incident_id
    for _ in range(3):
        monitor.poll()
    rest = [name for name in monitor.isp.subs if name not in monitor.offline]
    monitor.drop(rest, ago=20)  # every remaining session of the BNG ends within seconds
    decision = monitor.poll()
    assert opened(decision) == [("inc2", len(rest), OPENING)]
    second = monitor.incident("inc2")
    assert (second.place, second.related) == ("conexao:BNG-1", first)
    assert second.units == {"olt:1", "olt:2"}


def test_a_neighbours_first_fall_is_an_opening_not_a_recurrence():
    monitor = Monitor(Isp())
    flap(monitor, pon(1, 0) + pon(1, 1))
    decision = flap(monitor, pon(1, 2))
    assert [o.alert for o in decision.opened] == [OPENING]


def test_a_place_inside_one_that_fell_before_falls_again_as_a_recurrence():
    monitor = Monitor(Isp())
    flap(monitor, pon(1, 0) + pon(1, 1))
    decision = flap(monitor, pon(1, 1))
    assert [o.alert for o in decision.opened] == [RECURRENCE]


# --- a network just met -----------------------------------------------------------------


def connection_only(sizes: dict[str, int]) -> Isp:
    """Connections known only by name (the original monitor's middleware gives nothing else)."""
    isp = Isp(olts=0)
    for conexao, size in sizes.items():
        for n in range(size):
            name = f"{conexao.lower()}-{n}"
            isp.subs[name] = Subscriber(login=name, conexao=conexao, id=name)
    return isp


def test_half_of_a_small_connection_dropping_after_the_baseline_is_an_incident_at_once():
    monitor = Monitor(connection_only({"POP-01": 10, "POP-02": 60}))
    monitor.state.population = {"conexao:POP-01": 10, "conexao:POP-02": 60}
    monitor.drop([f"pop-01-{n}" for n in range(6)], ago=200)
    decision = monitor.poll()
    assert opened(decision) == [("inc1", 6, OPENING)]
    assert monitor.incident("inc1").place == "conexao:POP-01"


def test_a_few_drops_together_on_a_connection_of_known_small_size_are_an_incident():
    monitor = Monitor(connection_only({"POP-01": 10, "POP-02": 60}))
    monitor.state.population = {"conexao:POP-01": 10, "conexao:POP-02": 60}
    monitor.drop([f"pop-02-{n}" for n in range(8)], ago=40)
    assert opened(monitor.poll()) == [("inc1", 8, OPENING)]


def test_without_its_size_a_connection_is_judged_as_a_big_one():
    monitor = Monitor(connection_only({"POP-02": 60}))
    monitor.drop([f"pop-02-{n}" for n in range(8)], ago=40)
    assert monitor.poll().opened == []


def test_half_a_place_needs_the_threshold_too():
    monitor = Monitor(connection_only({"POP-03": 4}))
    monitor.state.population = {"conexao:POP-03": 4}
    monitor.drop(["pop-03-0", "pop-03-1", "pop-03-2"], ago=40)
    assert monitor.poll().opened == []


# --- resolution -------------------------------------------------------------------------


def test_an_incident_is_normalized_when_ninety_percent_are_back_and_names_the_stragglers():
    monitor = Monitor(Isp())
    monitor.drop(pon(1, 0))
    first = monitor.poll().opened[0].incident_id
    stragglers = pon(1, 0)[:3]
    back = monitor.back(pon(1, 0)[3:])
    decision = monitor.poll(online=back)
    assert [(r.incident.id, [s.login for s in r.stragglers], r.alert) for r in decision.resolved] == [
        (first, stragglers, True)
    ]
    assert first not in monitor.state.incidents
    assert all(monitor.state.offline[name].incident_id is None for name in stragglers)


def test_stragglers_never_hold_an_incident_open_nor_count_as_new_drops():
    monitor = Monitor(Isp())
    monitor.drop(pon(1, 0))
    monitor.poll()
    monitor.poll(online=monitor.back(pon(1, 0)[3:]))
    decision = monitor.poll()
    assert decision.new_drops == 0 and decision.opened == []


def test_below_the_quorum_the_incident_stays_open():
    monitor = Monitor(Isp())
    monitor.drop(pon(1, 0))
    monitor.poll()
    assert monitor.poll(online=monitor.back(pon(1, 0)[5:])).resolved == []


def test_a_small_incident_needs_every_login_back():
    monitor = Monitor(Isp())
    monitor.drop(cto(1, 0, 0))
    monitor.poll()
    assert monitor.poll(online=monitor.back(cto(1, 0, 0)[1:])).resolved == []
    assert len(monitor.poll(online=monitor.back(cto(1, 0, 0)[:1])).resolved) == 1


def test_a_login_back_and_down_again_stays_in_its_open_incident():
    monitor = Monitor(Isp())
    monitor.drop(pon(1, 0))
    first = monitor.poll().opened[0].incident_id
    name = pon(1, 0)[0]
    monitor.poll(online=monitor.back([name]))
    monitor.drop([name])
    decision = monitor.poll()
    assert decision.offline_again == {first: [name]} and decision.opened == decision.grown == []
    assert name in monitor.incident(first).offline


def test_an_unknown_status_is_never_a_reconnection():
    monitor = Monitor(Isp())
    monitor.drop(cto(1, 0, 0))
    first = monitor.poll().opened[0].incident_id
    monitor.back(cto(1, 0, 0))  # gone from the offline list, but never confirmed `S`
    decision = monitor.poll()
    assert decision.reconnected == 0 and first in monitor.state.incidents


# --- flap control -----------------------------------------------------------------------


def flap(monitor: Monitor, logins: list[str]) -> Decision:
    monitor.drop(logins)
    decision = monitor.poll()
    monitor.poll(online=monitor.back(logins))
    return decision


def test_a_place_falling_again_within_the_flap_window_is_a_recurrence_told_once():
    monitor = Monitor(Isp())
    first, second, third = (flap(monitor, pon(1, 0)) for _ in range(3))
    assert [o.alert for o in first.opened] == [OPENING]
    assert [o.alert for o in second.opened] == [RECURRENCE]
    assert [o.alert for o in third.opened] == [""]
    incident_id = third.opened[0].incident_id
    assert [(i, kind) for i, kind, _ in third.held] == [(incident_id, OPENING)]
    assert "3ª queda" in third.held[0][2]


def test_a_pon_that_flaps_is_a_recurrence_even_when_each_fall_is_first_seen_at_one_of_its_ctos():
    monitor = Monitor(Isp())
    decisions = []
    for _ in range(3):
        monitor.drop(cto(1, 0, 0))  # the first poll sees one CTO's sessions end ...
        opened = monitor.poll(advance=60)
        monitor.drop(pon(1, 0))  # ... the next the whole PON
        widened = monitor.poll(advance=60)
        decisions.append((opened, widened))
        monitor.poll(online=monitor.back(pon(1, 0)), advance=60)
        monitor.poll(advance=600)
    assert [[o.alert for o in opened.opened] for opened, _ in decisions] == [[OPENING], [RECURRENCE], [""]]
    assert [[g.alert for g in widened.grown] for _, widened in decisions] == [[GROWTH], [""], [""]]
    assert {i.place for i in monitor.state.incidents.values()} == set()
    assert list(monitor.state.openings) == ["pon:1:0/1/0"]


def test_a_recurrence_never_silences_a_different_place():
    monitor = Monitor(Isp())
    flap(monitor, pon(1, 0))
    flap(monitor, pon(1, 0))
    decision = flap(monitor, pon(1, 1))
    assert [o.alert for o in decision.opened] == [OPENING]


def test_a_recurrence_never_silences_a_bigger_incident_at_the_same_place():
    monitor = Monitor(Isp())
    flap(monitor, cto(1, 0, 0, 4))
    decision = flap(monitor, cto(1, 0, 0))
    assert [o.alert for o in decision.opened] == [OPENING]


def test_after_the_flap_window_a_place_is_news_again():
    monitor = Monitor(Isp())
    flap(monitor, pon(1, 0))
    monitor.poll(advance=3600)
    assert [o.alert for o in flap(monitor, pon(1, 0)).opened] == [OPENING]


def test_the_normalization_of_an_incident_never_announced_is_held_with_its_reason():
    monitor = Monitor(Isp())
    for _ in range(2):
        flap(monitor, pon(1, 0))
    monitor.drop(pon(1, 0))
    incident_id = monitor.poll().opened[0].incident_id
    decision = monitor.poll(online=monitor.back(pon(1, 0)))
    assert [r.alert for r in decision.resolved] == [False]
    assert (incident_id, NORMALIZATION) in [(i, kind) for i, kind, _ in decision.held]


# --- rates ------------------------------------------------------------------------------


def test_churn_that_joined_nothing_is_learned_for_its_places():
    monitor = Monitor(Isp())
    monitor.drop([login(1, 2, 1, 1)])
    decision = monitor.poll()
    assert decision.rates_touched == {"cto:121", "pon:1:0/1/2", "olt:1", "conexao:BNG-1"}
    assert monitor.state.rates.counts["cto:121"].value == 1.0


def test_drops_of_an_incident_are_not_learned_as_churn():
    monitor = Monitor(Isp())
    monitor.drop(cto(1, 0, 0, 3), ago=20)
    monitor.poll()
    monitor.drop(cto(1, 0, 0)[3:], ago=250)
    monitor.poll()
    assert monitor.state.rates.counts["cto:100"].value == 0.0


# --- the network's alarms ---------------------------------------------------------------


def alarms(monitor: Monitor, logins: list[str], at: float, cause: str = "loss") -> list[AlarmDrop]:
    return [AlarmDrop(monitor.isp.subs[name], at, cause) for name in logins]


def hear(
    monitor: Monitor, downs: list[AlarmDrop], ups: list[str] | None = None, after: float = 5.0
) -> Decision:
    return detect_alarms(
        monitor.state, downs, ups or [], max(d.at for d in downs) + after, RULES, lambda: next(monitor.ids)
    )


def test_a_fiber_cut_heard_from_its_olt_opens_an_incident_between_polls():
    monitor = Monitor(Isp())
    decision = hear(monitor, alarms(monitor, pon(1, 0), monitor.now + 40))
    assert opened(decision) == [("inc1", 32, OPENING)]
    incident = monitor.incident("inc1")
    assert (incident.place, incident.origin) == ("pon:1:0/1/0", ALARM)
    assert incident.first_drop == monitor.now + 40


def test_the_poll_that_confirms_an_alarms_drops_counts_them_once():
    monitor = Monitor(Isp())
    heard_at = monitor.now + 40
    hear(monitor, alarms(monitor, pon(1, 0), heard_at))
    monitor.drop(pon(1, 0), ago=200)
    decision = monitor.poll()
    assert decision.new_drops == 0 and decision.opened == [] and decision.grown == []
    assert sorted(decision.confirmed) == sorted(pon(1, 0))
    assert monitor.state.heard == {}
    assert monitor.incident("inc1").members[login(1, 0, 0, 0)] == heard_at  # the alarm's exact time


def test_before_the_session_lag_a_login_still_online_in_the_erp_is_no_reconnection():
    monitor = Monitor(Isp())
    hear(monitor, alarms(monitor, pon(1, 0), monitor.now + 250))
    decision = monitor.poll(online=set(pon(1, 0)))  # 50 s later: the concentrator has not noticed yet
    assert decision.reconnected == 0 and decision.withdrawn == []
    assert len(monitor.incident("inc1").offline) == 32


def test_an_alarm_opened_incident_the_erp_never_confirms_closes_as_not_confirmed():
    monitor = Monitor(Isp())
    hear(monitor, alarms(monitor, pon(1, 0), monitor.now + 40))
    decision = monitor.poll(online=set(pon(1, 0)), advance=600)  # 9 min on: the sessions never ended
    assert sorted(decision.withdrawn) == sorted(pon(1, 0))
    assert decision.reconnected == 0
    assert [(r.incident.id, r.not_confirmed) for r in decision.resolved] == [("inc1", True)]
    assert monitor.state.incidents == {} and monitor.state.offline.keys().isdisjoint(pon(1, 0))


def test_a_recovery_alarm_is_a_reconnection():
    monitor = Monitor(Isp())
    at = monitor.now + 40
    hear(monitor, alarms(monitor, cto(1, 0, 0), at))
    decision = detect_alarms(monitor.state, [], cto(1, 0, 0), at + 600, RULES, lambda: "x")
    assert decision.reconnected == 8
    assert [r.incident.id for r in decision.resolved] == ["inc1"]


def test_one_churn_alarm_opens_nothing():
    monitor = Monitor(Isp())
    assert hear(monitor, alarms(monitor, [login(1, 2, 3, 4)], monitor.now + 40, "energia")).opened == []
