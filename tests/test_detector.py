"""The detector's rules, one by one (pure logic: no I/O, time injected)."""

from __future__ import annotations

import itertools

from outage.detector import Decision, MonitorState, Rules, detect
from outage.model import Subscriber

RULES = Rules(threshold=4, detection_window=900, flap_window=3600, growth_alert_min=4, stale_before="")


def subs(conexao: str, *numbers: int, ultima: str = "2026-11-22 03:00:00") -> dict[str, Subscriber]:
    return {
        f"{conexao}-{n}": Subscriber(
            login=f"{conexao}-{n}", conexao=conexao, id=str(n), ultima_conexao_final=ultima
        )
        for n in numbers
    }


class Clock:
    """Drives cycles: state carried over, ids predictable."""

    def __init__(self, rules: Rules = RULES) -> None:
        self.state = MonitorState()
        self.rules = rules
        self.ids = (f"ev{n}" for n in itertools.count(1))
        self.now = 1_000_000.0

    def cycle(
        self, offline: dict[str, Subscriber], online: set[str] | None = None, advance: float = 300
    ) -> Decision:
        self.now += advance
        return detect(
            self.state, offline, frozenset(online or ()), self.now, self.rules, lambda: next(self.ids)
        )


def baseline(clock: Clock, offline: dict[str, Subscriber] | None = None) -> Decision:
    return clock.cycle(offline or {})


def test_the_first_cycle_only_records_the_baseline():
    clock = Clock()
    decision = baseline(clock, subs("OLT-A", *range(10)))
    assert decision.baseline
    assert decision.opened == [] and decision.new_drops == 0
    assert len(clock.state.offline) == 10
    assert all(entry.dropped_at is None for entry in clock.state.offline.values())


def test_logins_offline_at_the_baseline_never_count_as_new_drops():
    clock = Clock()
    baseline(clock, subs("OLT-A", 1, 2, 3))
    decision = clock.cycle({**subs("OLT-A", 1, 2, 3), **subs("OLT-A", 4)})
    assert decision.new_drops == 1
    assert decision.opened == []


def test_it_opens_an_event_when_a_connection_reaches_the_threshold():
    clock = Clock()
    baseline(clock)
    decision = clock.cycle(subs("OLT-A", 1, 2, 3, 4))
    assert [(o.conexao, len(o.subs), o.alert) for o in decision.opened] == [("OLT-A", 4, True)]
    assert clock.state.events["OLT-A"].offline == set(subs("OLT-A", 1, 2, 3, 4))


def test_drops_below_the_threshold_open_nothing():
    clock = Clock()
    baseline(clock)
    decision = clock.cycle(subs("OLT-A", 1, 2, 3))
    assert decision.opened == []
    assert decision.new_drops == 3


def test_drops_are_grouped_by_connection():
    clock = Clock()
    baseline(clock)
    decision = clock.cycle({**subs("OLT-A", 1, 2), **subs("OLT-B", 1, 2, 3, 4)})
    assert [o.conexao for o in decision.opened] == ["OLT-B"]


def test_drops_over_consecutive_cycles_count_together_within_the_window():
    clock = Clock()
    baseline(clock)
    clock.cycle(subs("OLT-A", 1, 2))
    decision = clock.cycle(subs("OLT-A", 1, 2, 3, 4))
    assert len(decision.opened) == 1
    assert len(decision.opened[0].subs) == 4


def test_drops_older_than_the_window_do_not_count():
    clock = Clock()
    baseline(clock)
    clock.cycle(subs("OLT-A", 1, 2))
    decision = clock.cycle(subs("OLT-A", 1, 2, 3, 4), advance=1000)
    assert decision.opened == []


def test_more_drops_grow_the_active_event_instead_of_opening_another():
    clock = Clock()
    baseline(clock)
    clock.cycle(subs("OLT-A", *range(4)))
    decision = clock.cycle(subs("OLT-A", *range(9)))
    assert decision.opened == []
    assert len(decision.grown) == 1
    growth = decision.grown[0]
    assert (len(growth.subs), growth.total, growth.alert) == (5, 9, True)
    assert len(clock.state.events) == 1


def test_a_small_growth_is_recorded_and_announced_once_enough_accumulates():
    clock = Clock()
    baseline(clock)
    clock.cycle(subs("OLT-A", *range(4)))
    first = clock.cycle(subs("OLT-A", *range(6)))
    second = clock.cycle(subs("OLT-A", *range(8)))
    assert [g.alert for g in first.grown] == [False]
    assert [g.alert for g in second.grown] == [True]
    assert second.grown[0].total == 8


def test_partial_recovery_keeps_the_event_active():
    clock = Clock()
    baseline(clock)
    down = subs("OLT-A", *range(5))
    clock.cycle(down)
    still = dict(list(down.items())[2:])
    decision = clock.cycle(still, online=set(list(down)[:2]))
    assert decision.resolved == []
    assert decision.reconnected == 2
    assert sorted(decision.back_online["ev1"]) == sorted(list(down)[:2])


def test_full_recovery_resolves_the_event_with_its_duration_source():
    clock = Clock()
    baseline(clock)
    down = subs("OLT-A", *range(5))
    clock.cycle(down)
    opened_at = clock.now
    decision = clock.cycle({}, online=set(down))
    assert [(r.conexao, r.total, r.opened_at, r.alert) for r in decision.resolved] == [
        ("OLT-A", 5, opened_at, True)
    ]
    assert clock.state.events == {}
    assert clock.state.offline == {}


def test_unknown_status_is_never_a_reconnection():
    clock = Clock()
    baseline(clock)
    down = subs("OLT-A", *range(5))
    clock.cycle(down)
    # absent from the offline set but not confirmed online (SS, empty, missing)
    decision = clock.cycle({}, online=set())
    assert decision.reconnected == 0
    assert decision.resolved == []
    assert len(clock.state.offline) == 5


def test_a_login_back_offline_inside_its_event_is_not_growth():
    clock = Clock()
    baseline(clock)
    down = subs("OLT-A", *range(5))
    clock.cycle(down)
    first = next(iter(down))
    rest = {k: v for k, v in down.items() if k != first}
    clock.cycle(rest, online={first})
    decision = clock.cycle(down)
    assert decision.grown == []
    assert decision.offline_again == {"ev1": [first]}


def test_a_flapping_connection_gets_one_opening_alert_per_flap_window():
    clock = Clock()
    baseline(clock)
    down = subs("OLT-A", *range(4))
    alerts = []
    for _ in range(4):
        opened = clock.cycle(down).opened
        alerts.extend(o.alert for o in opened)
        resolved = clock.cycle({}, online=set(down)).resolved
        alerts.extend(r.alert for r in resolved)
    # first opening and its normalization alert; the three flaps after are recorded silently
    assert alerts == [True, True, False, False, False, False, False, False]


def test_the_flap_window_expires():
    clock = Clock()
    baseline(clock)
    down = subs("OLT-A", *range(4))
    clock.cycle(down)
    clock.cycle({}, online=set(down))
    decision = clock.cycle(down, advance=3700)
    assert [o.alert for o in decision.opened] == [True]


def test_a_session_that_ended_long_ago_is_not_a_new_drop():
    rules = Rules(
        threshold=4,
        detection_window=900,
        flap_window=3600,
        growth_alert_min=4,
        stale_before="2026-11-22 02:00:00",
    )
    clock = Clock(rules)
    baseline(clock)
    old = subs("OLT-A", *range(4), ultima="2026-11-20 10:00:00")
    never = subs("OLT-B", *range(4), ultima="0000-00-00 00:00:00")
    decision = clock.cycle({**old, **never})
    assert [o.conexao for o in decision.opened] == ["OLT-B"]
    assert decision.new_drops == 4
    assert len(clock.state.offline) == 8


def test_a_missing_connection_is_grouped_as_unknown():
    clock = Clock()
    baseline(clock)
    offline = {f"x{n}": Subscriber(login=f"x{n}") for n in range(4)}
    decision = clock.cycle(offline)
    assert [o.conexao for o in decision.opened] == ["Desconhecida"]


def test_a_new_event_can_open_after_the_previous_one_resolved():
    clock = Clock()
    baseline(clock)
    down = subs("OLT-A", *range(4))
    clock.cycle(down)
    clock.cycle({}, online=set(down))
    decision = clock.cycle(subs("OLT-A", *range(10, 14)))
    assert len(decision.opened) == 1 and decision.opened[0].event_id == "ev2"
