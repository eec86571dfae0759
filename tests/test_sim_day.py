"""A scripted day of churn and twelve real outages (a bad night of overlapping ones among them),
with the truth a detector is scored against."""

from __future__ import annotations

import json

import pytest
import requests

from simulator.day import ScriptedDay
from simulator.ixc import FakeIXC
from simulator.network import format_local

START = 1_767_236_400.0  # 2026-01-01 00:00:00 in São Paulo
CYCLE = 300.0


def whole_day(day: ScriptedDay, step: float = CYCLE) -> ScriptedDay:
    """Advance the day to its end in steps of `step` seconds."""
    now = day.start
    while now < day.end:
        now = min(now + step, day.end)
        day.advance(now)
    return day


def outage(day: ScriptedDay, name: str):
    return next(o for o in day.truth() if o.name == name)


def planned(day: ScriptedDay, name: str):
    return next(p for p in day.outages if p.name == name)


def pon_members(day: ScriptedDay, name: str) -> set[int]:
    keys = set(planned(day, name).pon_keys)
    return {c.index for c in day.network.customers if c.pon in keys and c.ativo == "S"}


@pytest.fixture(scope="module")
def day() -> ScriptedDay:
    return whole_day(ScriptedDay(customers=3000, seed=1, start=START))


def test_the_day_scripts_its_outages_on_their_own_places(day):
    kinds = {o.name: (o.kind, o.place.scope) for o in day.truth()}
    assert kinds == {
        "fresh": ("fiber_cut", "pon"),
        "cto": ("cto_failure", "cto"),
        "fiber": ("fiber_cut", "pon"),
        "power": ("power_outage", "olt"),
        "second": ("fiber_cut", "pon"),
        "concentrator": ("concentrator_failure", "conexao"),
        "flap": ("flap", "pon"),
        "night_power": ("power_outage", "olt"),
        "night_fiber": ("fiber_cut", "pon"),
        "night_concentrator": ("concentrator_failure", "conexao"),
        "wide_concentrator": ("concentrator_failure", "conexao"),
        "cto_after_stragglers": ("cto_failure", "cto"),
    }
    keys = [key for p in day.outages for key in p.pon_keys]
    assert len(keys) == len(set(keys)) == 11  # fresh, fiber, flap, second, night fiber, two power cuts' three
    cto = day.network.ctos[outage(day, "cto").place.cto or ""]
    assert len(cto.customers) >= 8 and (cto.olt.id, cto.port) not in keys
    assert all(len(day.network.pons()[key]) >= 16 for key in keys)
    assert len(outage(day, "power").place.pons) == 3


def test_a_second_outage_opens_on_a_connection_that_already_has_one(day):
    power, second = outage(day, "power"), outage(day, "second")
    assert second.place.conexao == power.place.conexao
    assert power.onset < second.onset < (power.repair or 0)
    assert not power.logins & second.logins


def test_the_concentrator_failure_is_on_another_connection(day):
    concentrator = outage(day, "concentrator")
    assert concentrator.place.conexao != outage(day, "power").place.conexao
    conexao = {day.network.by_login[login].conexao for login in concentrator.logins}
    assert conexao == {concentrator.place.conexao}


def test_outages_start_at_jittered_times_through_the_day(day):
    onsets = {o.name: o.onset - START for o in day.truth()}
    expected = {"cto": 80, "fiber": 250, "power": 450, "second": 485, "concentrator": 760, "flap": 1035}
    for name, minutes in expected.items():
        assert minutes * 60 <= onsets[name] <= minutes * 60 + 600
    assert onsets["fresh"] == 420  # right after the install's baseline
    assert len({int(t) % int(CYCLE) for t in onsets.values()}) > 1  # not on poll boundaries
    assert max(o.repair or 0 for o in day.truth()) < START + 24 * 3600


def test_the_bad_night_puts_outages_on_top_of_each_other(day):
    power, fiber = outage(day, "night_power"), outage(day, "night_fiber")
    concentrator, wide = outage(day, "night_concentrator"), outage(day, "wide_concentrator")
    assert power.onset < fiber.onset < concentrator.onset < (power.repair or 0)
    assert fiber.place.id_transmissor == power.place.id_transmissor  # the same OLT
    assert concentrator.place.conexao == power.place.conexao
    olts_of_wide = {day.network.by_login[login].id_transmissor for login in wide.logins}
    assert len(olts_of_wide) >= 2  # a BNG that serves several OLTs
    later = outage(day, "cto_after_stragglers")
    assert later.place.pons == outage(day, "fiber").place.pons and outage(day, "fiber").stragglers


def test_a_fiber_cut_takes_every_online_onu_of_its_pon_within_two_seconds():
    day = ScriptedDay(customers=3000, seed=2, start=START)
    onset = planned(day, "fiber").windows[0][0]
    day.advance(onset - 1)
    up = {i for i in pon_members(day, "fiber") if day.network.is_up(day.network.customers[i])}
    day.advance(onset + 2)
    taken = {day.network.by_login[login].index for login in outage(day, "fiber").logins}
    assert taken == up
    assert all(int(onset) <= day.network.customers[i].down_time <= onset + 2 for i in taken)  # whole seconds
    assert all(day.network.customers[i].online != "N" for i in taken)  # the BNG has not noticed yet


def test_the_erp_shows_an_outage_over_the_next_minutes_not_at_once():
    day = ScriptedDay(customers=3000, seed=3, start=START)
    onset = planned(day, "fiber").windows[0][0]
    day.advance(onset + 60)
    fiber = outage(day, "fiber")
    shown_early = len(fiber.episodes[0].erp_offline)
    day.advance(onset + 182)
    fiber = outage(day, "fiber")
    lags = [when - onset for when in fiber.episodes[0].erp_offline.values()]
    assert 0 < shown_early < len(lags)
    assert all(10 <= lag <= 182 for lag in lags)
    assert len(lags) >= 0.8 * len(fiber.logins)  # the rest show `SS`: their stop was lost
    for login, when in fiber.episodes[0].erp_offline.items():
        assert day.network.by_login[login].ultima_conexao_final == format_local(when)


def test_the_power_cut_reaches_its_pons_one_by_one_within_five_minutes():
    day = ScriptedDay(customers=3000, seed=4, start=START)
    onset = planned(day, "power").windows[0][0]
    day.advance(onset + 600)
    power = outage(day, "power")
    first_down: dict[str, float] = {}
    for login in power.logins:
        customer = day.network.by_login[login]
        first_down[customer.port] = min(first_down.get(customer.port, 1e12), customer.down_time)
    assert len(first_down) == 3
    assert min(first_down.values()) == int(onset)
    assert max(first_down.values()) <= onset + 302
    assert 0.75 < len(power.logins) / len(pon_members(day, "power")) < 1  # some have a UPS


def test_the_concentrator_failure_ends_every_session_of_its_connection_and_no_onu():
    day = ScriptedDay(customers=3000, seed=5, start=START)
    onset = planned(day, "concentrator").windows[0][0]
    day.advance(onset + 5)
    concentrator = outage(day, "concentrator")
    customers = [day.network.by_login[login] for login in concentrator.logins]
    assert len(customers) > 0.8 * sum(c.conexao == concentrator.place.conexao for c in day.network.customers)
    assert all(c.onu_online and c.online in ("N", "SS") for c in customers)
    assert all(when - onset <= 2 for when in concentrator.episodes[0].erp_offline.values())


def test_the_flap_goes_down_and_up_three_times_within_an_hour(day):
    flap = outage(day, "flap")
    assert len(flap.episodes) == 3
    assert (flap.repair or 0) - flap.onset < 3600
    assert all(e.repair is not None and e.repair - e.onset >= 240 for e in flap.episodes)
    assert not flap.stragglers
    assert all(len(e.logins) >= 16 for e in flap.episodes)


def test_after_a_repair_most_return_within_minutes_and_a_few_straggle(day):
    outages = [outage(day, name) for name in ("cto", "fiber", "power", "second")]
    taken = sum(len(o.logins) for o in outages)
    stragglers = sum(len(o.stragglers) for o in outages)
    assert 0 < stragglers < 0.1 * taken
    for o in outages:
        episode = o.episodes[0]
        assert episode.repair is not None
        for login, back in episode.returns.items():
            if login in episode.stragglers:
                assert back - episode.repair >= 3600
            else:
                assert 20 <= back - episode.repair <= 1800


def test_the_concentrator_sessions_come_back_within_minutes_without_stragglers(day):
    episode = outage(day, "concentrator").episodes[0]
    assert episode.repair is not None and not episode.stragglers
    assert set(episode.returns) == episode.logins
    assert all(20 <= back - episode.repair <= 1800 for back in episode.returns.values())


def test_logins_already_offline_by_churn_are_never_in_the_truth():
    day = ScriptedDay(customers=3000, seed=6, start=START)
    onset = planned(day, "concentrator").windows[0][0]
    day.advance(onset - 1)
    conexao = planned(day, "concentrator").place.conexao
    offline = {c.login for c in day.network.customers if c.conexao == conexao and not day.network.is_up(c)}
    day.advance(onset + 60)
    assert offline and not offline & outage(day, "concentrator").logins


def test_the_same_seed_gives_the_same_day_whatever_the_step():
    coarse = whole_day(ScriptedDay(customers=3000, seed=7, start=START), step=CYCLE)
    fine = whole_day(ScriptedDay(customers=3000, seed=7, start=START), step=97.0)
    assert coarse.truth() == fine.truth()
    assert coarse.network.radusuarios_records() == fine.network.radusuarios_records()


def test_another_seed_picks_other_places(day):
    other = ScriptedDay(customers=3000, seed=8, start=START)
    assert [p.place for p in other.outages] != [p.place for p in day.outages]


def test_time_never_goes_back():
    day = ScriptedDay(customers=3000, seed=1, start=START)
    day.advance(START + 600)
    with pytest.raises(ValueError, match="never goes back"):
        day.advance(START + 300)


def test_the_day_is_served_over_real_http_by_the_erp_fake():
    day = ScriptedDay(customers=3000, seed=9, start=START)
    onset = planned(day, "fiber").windows[0][0]
    day.advance(onset + 240)
    fiber = outage(day, "fiber")
    grid = [
        {"TB": "radusuarios.ativo", "OP": "=", "P": "S"},
        {"TB": "radusuarios.online", "OP": "=", "P": "N"},
    ]
    body = {"qtype": "radusuarios.id", "query": "", "oper": ">", "page": "1", "rp": "5000"}
    body |= {"sortname": "radusuarios.id", "sortorder": "asc", "grid_param": json.dumps(grid)}
    with FakeIXC(day.network) as ixc:
        headers = {"Authorization": ixc.auth_header, "ixcsoft": "listar"}
        answer = requests.post(f"{ixc.url}/webservice/v1/radusuarios", json=body, headers=headers, timeout=10)
    rows = {r["login"]: r for r in answer.json()["registros"]}
    assert 0.02 * 3000 < len(rows) < 0.06 * 3000 + len(fiber.logins)  # churn and the outage
    for login, when in fiber.episodes[0].erp_offline.items():
        assert rows[login]["ultima_conexao_final"] == format_local(when)


def offline_share(day: ScriptedDay) -> float:
    active = [c for c in day.network.customers if c.ativo == "S"]
    return sum(c.online == "N" for c in active) / len(active)


def test_a_200k_day_starts_in_the_steady_state_and_runs_through_with_its_truth():
    day = ScriptedDay(customers=200_000, seed=1, start=START)
    assert 0.027 < offline_share(day) < 0.033
    whole_day(day)
    truth = {o.name: o for o in day.truth()}
    assert set(truth) == {o.name for o in day.outages} and len(truth) == 12
    assert len(truth["concentrator"].logins) > 2000
    assert 0.027 < offline_share(day) < 0.033
    assert day.network.churn_drops > 40_000
