"""The synthetic ISP: shapes as in REFERENCE.md §1, incidents agree on both sides, seeded."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from simulator.network import CLIENTE_FIELDS, NEVER, RADUSUARIOS_FIELDS, Network

NOW = 1_767_225_600.0  # 2026-01-01 00:00:00 UTC = 2025-12-31 21:00:00 in São Paulo
LOCAL_TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


class Clock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def network(clock: Clock) -> Network:
    return Network(customers=2000, seed=1, clock=clock)


def test_it_builds_the_requested_number_of_customers_with_unique_ids_logins_and_serials(network):
    assert len(network.customers) == 2000
    assert len({c.id for c in network.customers}) == 2000
    assert len(network.by_login) == 2000
    assert len({c.onu_mac for c in network.customers}) == 2000
    assert network.by_id["17"].id == "17"
    assert network.by_login[network.customers[5].login] is network.customers[5]


def test_every_radusuarios_value_is_a_string_with_every_reference_field(network):
    records = network.radusuarios_records()
    assert len(records) == 2000
    for record in records:
        assert tuple(record) == RADUSUARIOS_FIELDS
        assert all(isinstance(v, str) for v in record.values())
    assert "modelo_tranmissor" in records[0]


def test_every_cliente_value_is_a_string_with_the_contact_fields(network):
    records = network.cliente_records()
    for record in records:
        assert tuple(record) == CLIENTE_FIELDS
        assert all(isinstance(v, str) for v in record.values())


def test_logins_look_like_pppoe_logins(network):
    assert all(re.fullmatch(r"[a-z_]+\.[a-z_]+\d+", c.login) for c in network.customers)


def test_serials_carry_the_vendor_prefix_in_hex(network):
    for customer in network.customers:
        assert re.fullmatch(r"[0-9A-F]{16}", customer.onu_mac)
        prefix = "48575443" if customer.vendor == "huawei" else "5A544547"
        assert customer.onu_mac.startswith(prefix)


def test_ports_follow_each_vendor_format(network):
    vendors = {olt.vendor for olt in network.olts}
    assert vendors == {"huawei", "zte"}
    for customer in network.customers:
        if customer.vendor == "huawei":
            assert re.fullmatch(r"0/\d+/\d+", customer.port)
            assert customer.interface_transmissao == customer.port
        else:
            assert re.fullmatch(r"1/\d+/\d+", customer.port)
            assert customer.interface_transmissao == f"gpon-olt_{customer.port}"


def test_connections_are_one_per_olt_with_several_olts_per_pop(network):
    assert len({olt.conexao for olt in network.olts}) == len(network.olts)
    per_pop = Counter(olt.pop for olt in network.olts)
    assert max(per_pop.values()) >= 2


def test_ctos_hold_at_most_16_customers_and_some_customers_have_no_cto_data(network):
    assert all(1 <= len(cto.customers) <= 16 for cto in network.ctos.values())
    missing = [c for c in network.customers if c.id_caixa_ftth == "0"]
    assert 0 < len(missing) < 0.1 * len(network.customers)


def test_online_states_have_a_realistic_mix(network):
    states = Counter(c.online for c in network.customers)
    assert set(states) == {"S", "N", "SS", ""}
    assert states["S"] > 0.8 * 2000
    assert 0.05 * 2000 < states["SS"] < 0.15 * 2000
    assert states["N"] < 0.05 * 2000


def test_times_are_local_strings_and_never_is_all_zeros(network):
    records = network.radusuarios_records()
    finals = [r["ultima_conexao_final"] for r in records]
    assert all(LOCAL_TIME.match(v) for v in finals)
    assert NEVER in finals
    assert all(r["ultima_conexao_inicial"] <= "2025-12-31 21:00:00" for r in records)


def test_names_include_hostile_characters_for_escaping_tests(network):
    names = [c.name for c in network.customers]
    assert any("<img src=x onerror=alert(1)>" in n for n in names)
    assert any("&" in n for n in names)
    assert any(re.search("[áéíóúãõç]", n) for n in names)


def test_phones_come_in_many_brazilian_formats_some_missing_some_invalid_some_shared():
    clients = Network(customers=5000, seed=3).cliente_records()
    mobiles = [c["telefone_celular"] for c in clients]
    assert any(re.fullmatch(r"\(\d{2}\) 9\d{4}-\d{4}", m) for m in mobiles)
    assert any(re.fullmatch(r"\d{11}", m) for m in mobiles)
    assert any(m.startswith("+55 ") for m in mobiles)
    assert "" in mobiles
    assert "123" in mobiles
    assert any(re.fullmatch(r"\(\d{2}\) [2-5]\d{3}-\d{4}", c["fone"]) for c in clients)
    repeated = Counter(m for m in mobiles if len(m) > 8)
    assert any(n >= 2 for n in repeated.values())


def test_some_clients_hold_two_contracts(network):
    per_client = Counter(c.id_cliente for c in network.customers)
    assert any(n >= 2 for n in per_client.values())
    assert len(network.cliente_records()) == len(per_client)


def test_the_same_seed_and_clock_build_the_same_network():
    first = Network(customers=500, seed=7, clock=Clock())
    second = Network(customers=500, seed=7, clock=Clock())
    assert first.radusuarios_records() == second.radusuarios_records()
    assert first.cliente_records() == second.cliente_records()


def test_another_seed_builds_another_network():
    first = Network(customers=500, seed=7, clock=Clock())
    other = Network(customers=500, seed=8, clock=Clock())
    assert first.radusuarios_records() != other.radusuarios_records()


def test_a_fiber_cut_takes_every_onu_of_the_pon_down_with_los_on_both_sides(network, clock):
    key, members = next(iter(network.pons().items()))
    before = {c.login: c.online for c in members}
    clock.now = NOW + 60
    incident = network.fiber_cut(key[0], key[1])
    affected = {c.login for c in network.affected(incident)}
    assert affected == {login for login, state in before.items() if state != "N"}
    for customer in network.affected(incident):
        view = network.onu_view(customer)
        assert customer.online == "N"
        assert customer.ultima_conexao_final == "2025-12-31 21:01:00"
        assert view["run_state"] == "offline"
        assert view["last_down_cause"] == "LOS"
        assert view["last_down_time"] == "2025-12-31 21:01:00-03:00"


def test_an_olt_name_works_as_well_as_its_id_for_a_fiber_cut(network):
    key = next(iter(network.pons()))
    olt = network.olt(key[0])
    incident = network.fiber_cut(olt.name, key[1])
    assert network.affected(incident)


def test_recovery_brings_the_affected_customers_back_online(network, clock):
    key, members = next(iter(network.pons().items()))
    before = {c.login: c.online for c in members}
    incident = network.fiber_cut(*key)
    clock.now = NOW + 600
    network.recover(incident)
    # sessions that come back are accounted again (`S`); the already offline stay as they were
    assert {c.login: c.online for c in members} == {
        login: "N" if state == "N" else "S" for login, state in before.items()
    }
    for customer in network.affected(incident):
        view = network.onu_view(customer)
        assert view["run_state"] == "online"
        assert view["last_up_time"] == "2025-12-31 21:10:00-03:00"
        assert customer.ultima_conexao_inicial == "2025-12-31 21:10:00"


def test_a_customer_in_two_incidents_stays_down_until_both_recover(network):
    cut = network.fiber_cut(*next(iter(network.pons())))
    cto = network.affected(cut)[0].cto
    box = network.cto_failure(cto.id)
    network.recover(cut)
    assert all(c.online == "N" for c in network.affected(box))
    network.recover(box)
    assert all(c.online != "N" for c in network.affected(box))


def test_a_power_outage_leaves_dying_gasp_on_most_onus_of_the_pons(network):
    keys = list(network.pons())[:3]
    incident = network.power_outage(keys)
    affected = network.affected(incident)
    members = [c for k in keys for c in network.pons()[k]]
    assert 0.75 * len(members) < len(affected) < len(members)
    assert all(network.onu_view(c)["last_down_cause"] == "dying-gasp" for c in affected)


def test_a_cto_failure_affects_at_most_16_customers(network):
    cto = next(iter(network.ctos.values()))
    affected = network.affected(network.cto_failure(cto.id))
    assert 0 < len(affected) <= 16
    assert all(network.onu_view(c)["last_down_cause"] == "LOS" for c in affected)


def test_a_concentrator_failure_drops_sessions_but_keeps_the_onus_up(network):
    conexao = network.olts[0].conexao
    affected = network.affected(network.concentrator_failure(conexao))
    assert affected and all(c.conexao == conexao and c.online == "N" for c in affected)
    assert all(network.onu_view(c)["run_state"] == "online" for c in affected)


def test_churn_drops_exactly_n_single_customers(network):
    affected = network.affected(network.churn(25))
    assert len(affected) == 25
    assert all(c.online == "N" for c in affected)


def test_a_flap_ends_with_the_pon_back_up_and_los_recorded(network):
    key = next(iter(network.pons()))
    incident = network.flap(key)
    assert all(c.online != "N" for c in network.affected(incident))
    assert all(network.onu_view(c)["last_down_cause"] == "LOS" for c in network.affected(incident))


def test_recover_all_clears_every_incident(network):
    keys = list(network.pons())[:2]
    network.fiber_cut(*keys[0])
    network.power_outage([keys[1]])
    offline_during = len(network.offline())
    network.recover_all()
    assert len(network.offline()) < offline_during


def test_set_state_changes_the_erp_and_with_a_cause_the_onu(network):
    first, second = network.customers[0], network.customers[1]
    network.set_state([first.login], "N", cause="dying-gasp")
    network.set_state([second.login], "N")
    assert network.onu_view(first)["last_down_cause"] == "dying-gasp"
    assert network.onu_view(first)["run_state"] == "offline"
    assert network.onu_view(second)["run_state"] == "online"
    network.set_state([first.login], "SS")
    assert first.online == "SS"
    assert first in network.not_online()


def test_the_non_online_index_follows_every_change(network):
    assert {c.index for c in network.not_online()} == {c.index for c in network.customers if c.online != "S"}
    incident = network.fiber_cut(*next(iter(network.pons())))
    assert {c.index for c in network.not_online()} == {c.index for c in network.customers if c.online != "S"}
    network.recover(incident)
    assert {c.index for c in network.not_online()} == {c.index for c in network.customers if c.online != "S"}


def test_every_mutation_bumps_the_version(network):
    version = network.version
    network.churn(1)
    assert network.version > version


def test_the_onu_view_has_what_an_olt_emulator_needs(network):
    view = network.onu_view(network.customers[0])
    assert set(view) >= {
        "vendor", "olt", "fsp", "ont_id", "sn", "description", "run_state",
        "last_down_cause", "last_down_time", "last_up_time",
    }  # fmt: skip
    assert view["description"] == network.customers[0].login


def test_a_200k_customer_network_builds():
    network = Network(customers=200_000, seed=2)
    assert len(network.customers) == 200_000
    assert len(network.not_online()) < 40_000
