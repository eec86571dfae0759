"""One row per outage: when an OLT-system alert and a monitor incident are the same outage,
and the templates an approval may use for each cause."""

from __future__ import annotations

import pytest

from outage.adapters.channels.hsm_provider import HSMProviderSettings
from outage.config import Settings
from outage.hsm.dispatch import DispatchRefused, block_words, choose_template, cooldown_keys
from outage.hsm.enrich import Customer
from outage.hsm.incidents import CONCENTRATOR, LOS, MIXED, POWER, UNKNOWN, Incident, merge_twins

START = 1_795_000_000.0
WINDOW = 480.0  # the onset window plus the concentrator's session lag


def alert(ident: str, onset: float, pon: str = "0/1/1", tipo: str = LOS) -> Incident:
    return Incident(
        ident, "olt", tipo, "OLT-SUL", pon, 10, onset, "", f"PON {pon} da OLT-SUL", numero=int(ident)
    )


def event(ident: str, onset: float, pon: str = "0/1/1", tipo: str = LOS, **extra) -> Incident:
    return Incident(
        f"ev-{ident}", "monitor", tipo, "OLT-SUL", pon, 12, onset, "", f"PON {pon} da OLT-SUL", **extra
    )


def test_an_alert_and_an_event_of_the_same_place_and_onset_are_one_row():
    rows = merge_twins([alert("1", START)], [event("a", START + 150)], WINDOW)
    assert [(r.id, r.gemeos) for r in rows] == [("1", ("ev-a",))]


def test_the_same_place_half_an_hour_apart_is_two_outages():
    rows = merge_twins([alert("1", START)], [event("a", START + 1800)], WINDOW)
    assert [(r.id, r.gemeos) for r in rows] == [("1", ()), ("ev-a", ())]


def test_an_event_goes_to_the_alert_whose_onset_is_closest_whatever_the_order():
    alerts = [alert("1", START), alert("2", START + 300)]
    ev = event("a", START + 280)
    for order in (alerts, alerts[::-1]):
        rows = {r.id: r.gemeos for r in merge_twins(order, [ev], WINDOW)}
        assert rows == {"1": (), "2": ("ev-a",)}


def test_a_concentrator_failure_is_never_the_twin_of_a_fiber_or_power_alert():
    rows = merge_twins([alert("1", START)], [event("a", START + 60, tipo=CONCENTRATOR)], WINDOW)
    assert [r.id for r in rows] == ["1", "ev-a"]


def test_a_merged_row_keeps_the_alerts_own_place():
    twin = event("a", START + 60, pon="")
    rows = merge_twins([alert("1", START)], [twin], WINDOW)
    assert rows[0].local == "PON 0/1/1 da OLT-SUL"


def settings(**templates: str) -> Settings:
    return Settings(
        channels={"hsm": HSMProviderSettings(url="http://127.0.0.1:9/send", token="t", **templates)}
    )


def test_a_concentrator_failure_never_gets_the_power_or_fiber_template():
    incident = event("a", START, tipo=CONCENTRATOR)
    with pytest.raises(DispatchRefused, match="nenhum modelo configurado para concentrador"):
        choose_template(settings(), incident, None)
    for choice in ("LOS", "POWER", "114"):
        with pytest.raises(DispatchRefused, match="concentrador"):
            choose_template(settings(template_concentrator="120"), incident, choice)
    assert choose_template(settings(template_concentrator="120"), incident, None).name == "120"


def test_a_mixed_incident_sends_each_part_its_own_template():
    parts = (
        {"tipo": POWER, "local": "PONs 0/1/1 e 0/1/2", "logins": ["a", "b"]},
        {"tipo": CONCENTRATOR, "local": "PON 0/1/5", "logins": ["c"]},
    )
    incident = event("m", START, tipo=MIXED, partes=parts)
    template = choose_template(settings(template_concentrator="120"), incident, None)
    names = {login: template.for_customer(Customer("", "", "", "", "", login=login)) for login in "abc"}
    assert names == {"a": "116", "b": "116", "c": "120"}
    keys = cooldown_keys(incident, template)
    assert keys == ["OLT-SUL|0/1/1|MISTO", "OLT-SUL|0/1/1|POWER", "OLT-SUL|0/1/1|CONCENTRADOR"]


def test_a_part_of_unknown_cause_needs_the_operators_choice():
    parts = (
        {"tipo": LOS, "local": "PON 0/1/1", "logins": ["a"]},
        {"tipo": UNKNOWN, "local": "PON 0/1/2", "logins": ["b"]},
    )
    incident = event("m", START, tipo=MIXED, partes=parts)
    with pytest.raises(DispatchRefused, match="PON 0/1/2 tem causa indeterminada"):
        choose_template(settings(), incident, None)
    template = choose_template(settings(), incident, "POWER")
    assert template.by_login == {"a": "114", "b": "116"}


def test_a_block_reads_as_a_place_and_a_cause():
    assert block_words("OLT-SUL|0/1/1|LOS") == "OLT-SUL PON 0/1/1 (rompimento de fibra)"
    assert block_words("OLT-SUL|0/1/1,0/1/2|POWER") == "OLT-SUL PONs 0/1/1, 0/1/2 (falta de energia)"
