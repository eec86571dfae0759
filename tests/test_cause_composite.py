"""Inventory validation, place, voting, and the HTTP backends (the original OLT service, OLT system)."""

from __future__ import annotations

import json
import time

from flask import Flask, jsonify, request

from outage.adapters.cause import build_analyzer, validate_inventory
from outage.adapters.cause.analyzer import choose_sample
from outage.adapters.cause.olt_system import OltSystemClient
from outage.adapters.cause.place import describe_place
from outage.config import Settings
from outage.core.model import Subscriber
from simulator.httpserver import FakeHTTPServer
from simulator.olt_system import OltSystemFake


def sub(login: str, ident: str = "1", interface: str = "", cto: str = "", onu_mac: str = "") -> Subscriber:
    return Subscriber(
        login=login, id_transmissor=ident, interface_transmissao=interface, id_caixa_ftth=cto, onu_mac=onu_mac
    )


def write_inventory(tmp_path, entries) -> str:
    path = tmp_path / "olts.json"
    path.write_text(entries if isinstance(entries, str) else json.dumps(entries))
    return str(path)


GOOD = {
    "id_transmissor": "1",
    "name": "OLT-CENTRO",
    "vendor": "huawei",
    "host": "10.0.0.1",
    "username": "noc",
}


# --- inventory ------------------------------------------------------------------------


def test_a_missing_inventory_file_is_an_empty_inventory(tmp_path):
    settings = Settings(olt_inventory=str(tmp_path / "nao-existe.json"))
    assert validate_inventory(settings, {}) == []


def test_it_lists_every_inventory_problem_naming_the_entry(tmp_path):
    entries = [
        {**GOOD, "password_env": "OLT_CENTRO_PASSWORD"},
        {**GOOD, "name": "OLT-DUP", "password": "x"},
        {
            "id_transmissor": "3",
            "name": "OLT-X",
            "vendor": "nokia",
            "host": "h",
            "username": "u",
            "password": "p",
        },
        {"id_transmissor": "4", "name": "OLT-SEM-HOST", "vendor": "zte", "username": "u", "password": "p"},
        {"id_transmissor": "5", "name": "OLT-PORTA", **{k: GOOD[k] for k in ("vendor", "host", "username")}},
    ]
    entries[4]["port"] = "22"
    problems = validate_inventory(Settings(olt_inventory=write_inventory(tmp_path, entries)), {})
    text = "\n".join(problems)
    assert "OLT OLT-CENTRO (id_transmissor 1): password_env=OLT_CENTRO_PASSWORD" in text
    assert "OLT OLT-DUP (id_transmissor 1): id_transmissor 1 repetido" in text
    assert "OLT OLT-X (id_transmissor 3): vendor 'nokia' desconhecido" in text
    assert "OLT OLT-SEM-HOST (id_transmissor 4): falta o campo 'host'" in text
    assert "OLT OLT-PORTA (id_transmissor 5): port '22' inválida" in text
    assert "OLT OLT-PORTA (id_transmissor 5): informe password ou password_env" in text


def test_bad_json_is_reported_with_its_position(tmp_path):
    problems = validate_inventory(Settings(olt_inventory=write_inventory(tmp_path, "[{,}]")), {})
    assert len(problems) == 1 and "JSON inválido na linha 1" in problems[0]


OLT_SYSTEM_SETTINGS = {
    "api_base_url": "http://127.0.0.1:9/",
    "api_auth_url": "http://127.0.0.1:9/auth",
    "api_user": "noc",
    "api_pass": "segredo",
}


def test_the_example_inventory_is_valid_when_its_variables_are_set():
    env = {"OLT_CENTRO_PASSWORD": "a", "OLT_NORTE_PASSWORD": "b", "OLT_LESTE_PASSWORD": "c"}
    settings = Settings(olt_inventory="olts.example.json", **OLT_SYSTEM_SETTINGS)
    assert validate_inventory(settings, env) == []


def test_an_entry_whose_source_is_not_configured_is_reported_with_the_settings_it_needs():
    env = {"OLT_CENTRO_PASSWORD": "a", "OLT_NORTE_PASSWORD": "b", "OLT_LESTE_PASSWORD": "c"}
    problems = validate_inventory(Settings(olt_inventory="olts.example.json"), env)
    assert problems == [
        "OLT OLT-SUL (id_transmissor 3): backend olt_system precisa do sistema de gerência de OLT: "
        "defina API_BASE_URL, API_AUTH_URL, API_USER e API_PASS."
    ]


def test_a_zte_model_outside_the_known_families_is_refused(tmp_path):
    entry = {**GOOD, "vendor": "zte", "model": "C999", "password": "x"}
    problems = validate_inventory(Settings(olt_inventory=write_inventory(tmp_path, [entry])), {})
    assert len(problems) == 1 and "model 'C999' não é uma OLT ZTE conhecida" in problems[0]


# --- sampling, voting, place ------------------------------------------------------------


def test_the_sample_is_spread_across_pons():
    subs = [sub(f"a{i}", interface="0/1/0") for i in range(10)] + [
        sub(f"b{i}", interface="0/1/1") for i in range(10)
    ]
    sample = choose_sample(subs, 5)
    assert [s.login for s in sample] == ["a0", "b0", "a1", "b1", "a2"]


def test_the_place_is_the_narrowest_common_element():
    names = {"1": "OLT-CENTRO", "2": "OLT-NORTE"}
    cto = [sub("a", cto="123", interface="0/1/2"), sub("b", cto="123", interface="0/1/2")]
    assert describe_place(cto, [], names, "loss") == (
        "CTO 123",
        {"nivel": "cto", "cto": "123", "onus": 2, "olt": "OLT-CENTRO", "pon": "0/1/2"},
    )
    pon = [sub("a", cto="1", interface="0/1/2"), sub("b", cto="2", interface="0/ 1/2")]
    assert describe_place(pon, [], names, "energia")[0] == "PON 0/1/2 da OLT-CENTRO"
    pons = [sub("a", interface="0/1/2"), sub("b", interface="0/1/3")]
    assert describe_place(pons, [], names, "loss")[0] == "PONs 0/1/2 e 0/1/3 da OLT-CENTRO"
    whole = [sub(f"x{i}", interface=f"0/1/{i}") for i in range(6)]
    assert describe_place(whole, [], names, "loss")[0] == "OLT-CENTRO inteira (6 PONs)"
    olts = [sub("a"), sub("b", ident="2")]
    assert describe_place(olts, [], names, "loss")[0] == "2 OLTs: OLT-CENTRO, OLT-NORTE"


def test_the_pon_comes_from_the_olt_when_the_erp_lacks_it_and_small_pon_losses_are_probably_a_cto():
    subs = [sub("a"), sub("b")]
    evidences = [{"login": "a", "pon": "0/1/5"}, {"login": "b", "pon": "0/1/5"}]
    local, detail = describe_place(subs, evidences, {"1": "OLT-CENTRO"}, "loss")
    assert local == "PON 0/1/5 da OLT-CENTRO (provavelmente uma CTO: até 16 ONUs)"
    assert detail["provavel_cto"] is True
    big = [sub(f"c{i}", interface="0/1/5") for i in range(20)]
    assert "provavelmente" not in describe_place(big, [], {"1": "OLT-CENTRO"}, "loss")[0]


# --- the original OLT service and routing ---------------------------------------------------------


def middleware_app(answer: dict, calls: list) -> Flask:
    app = Flask("olt_middleware")

    @app.post("/consulta/olt")
    def consulta():
        calls.append(request.get_json())
        return jsonify(answer)

    return app


def test_ids_outside_the_inventory_go_to_the_original_olt_service_with_three_logins(tmp_path):
    calls: list = []
    answer = {"motivo_final": "energia", "detalhes": [{"login": "a", "causa": "dying-gasp"}]}
    with FakeHTTPServer(middleware_app(answer, calls)) as mw:
        settings = Settings(olt_inventory=str(tmp_path / "none.json"), olt_service_url=mw.url)
        report = build_analyzer(settings, {}).analyze([sub(x, "7") for x in "abcde"], time.monotonic() + 10)
    assert calls == [{"logins": ["a", "b", "c"], "id_transmissor": "7"}]
    assert report.motivo == "energia" and report.votos["energia"] == 3
    assert report.evidencias[0]["causa_bruta"] == "dying-gasp"


def test_an_unknown_id_without_middleware_is_indeterminado_with_a_reason(tmp_path):
    settings = Settings(olt_inventory=str(tmp_path / "none.json"))
    report = build_analyzer(settings, {}).analyze([sub("a", "9"), sub("b", "9")], time.monotonic() + 5)
    assert report.motivo == "indeterminado"
    assert "id_transmissor 9 não está no inventário" in report.erros[0]


def test_a_broken_middleware_is_indeterminado_not_an_exception(tmp_path):
    app = Flask("broken")

    @app.post("/consulta/olt")
    def consulta():
        return "<html>erro</html>", 200

    with FakeHTTPServer(app) as mw:
        settings = Settings(olt_inventory=str(tmp_path / "none.json"), olt_service_url=mw.url)
        report = build_analyzer(settings, {}).analyze([sub("a", "7"), sub("b", "7")], time.monotonic() + 5)
    assert report.motivo == "indeterminado" and report.erros


# --- OLT management system -------------------------------------------------------------


def devices(*serials: str) -> list[dict]:
    return [
        {"client_id": i, "sn_onu": s, "client_name": f"c{i}", "status": "offline"}
        for i, s in enumerate(serials)
    ]


def test_the_olt_system_alerts_give_the_cause_and_the_cto(tmp_path):
    inventory = write_inventory(
        tmp_path, [{"id_transmissor": "3", "name": "OLT-SUL", "backend": "olt_system"}]
    )
    with OltSystemFake(page_size=1) as api:
        api.add_alert({"alert_type": "onu_offline", "olt_name": "OLT-SUL"}, devices("HWTC00000001"))
        api.add_alert(
            {"alert_type": "pon_no_power", "olt_name": "OLT-SUL", "slot_pon": "0/1/3", "cto_name": "CTO-88"},
            devices("HWTC00000001", "485754430000000A"),
        )
        resolved = api.add_alert({"alert_type": "pon_loss", "olt_name": "OLT-SUL"}, devices("HWTC00000001"))
        api.resolve_alert(resolved)
        settings = Settings(
            olt_inventory=inventory,
            api_base_url=api.url,
            api_auth_url=api.auth_url,
            api_user="api",
            api_pass="api-secret",
        )
        subs = [sub("a", "3", onu_mac="4857544300000001"), sub("b", "3", onu_mac="HWTC0000000A")]
        report = build_analyzer(settings, {}).analyze(subs, time.monotonic() + 10)
    assert report.motivo == "energia" and report.votos["energia"] == 2
    assert report.local == "CTO-88"
    assert report.evidencias[0]["tipo_alerta"] == "pon_no_power"


def test_with_only_the_dispatch_consoles_token_the_cause_asks_the_olt_system_with_that_bearer(tmp_path):
    inventory = write_inventory(
        tmp_path, [{"id_transmissor": "3", "name": "OLT-SUL", "backend": "olt_system"}]
    )
    with OltSystemFake() as api:
        api.add_alert(
            {"alert_type": "pon_loss", "olt_name": "OLT-SUL", "slot_pon": "0/1/3"},
            devices("HWTC00000001", "HWTC00000002"),
        )
        token = OltSystemClient(api.url, api.auth_url, "api", "api-secret").login()  # what API_TOKEN holds
        settings = Settings(olt_inventory=inventory, api_base_url=api.url, olt_system_token=token)
        subs = [sub("a", "3", onu_mac="HWTC00000001"), sub("b", "3", onu_mac="HWTC00000002")]
        report = build_analyzer(settings, {}).analyze(subs, time.monotonic() + 10)
        assert api.logins == 1  # ours above: the analyzer never logged in
    assert report.motivo == "loss" and report.votos["loss"] == 2


def test_the_olt_system_client_logs_in_again_after_a_401_and_follows_pages():
    with OltSystemFake(page_size=1) as api:
        for n in range(3):
            api.add_alert({"alert_type": "pon_loss", "olt_name": f"OLT-{n}"})
        api.set_client(42, "Maria", "5511987654321")
        client = OltSystemClient(api.url, api.auth_url, "api", "api-secret")
        assert len(client.open_alerts()) == 3
        api.expire_tokens()
        assert client.client(42) == {"name": "Maria", "contact": "5511987654321"}
        assert api.logins == 2


def test_wrong_olt_system_credentials_are_a_reason_not_an_exception(tmp_path):
    inventory = write_inventory(
        tmp_path, [{"id_transmissor": "3", "name": "OLT-SUL", "backend": "olt_system"}]
    )
    with OltSystemFake() as api:
        settings = Settings(
            olt_inventory=inventory,
            api_base_url=api.url,
            api_auth_url=api.auth_url,
            api_user="api",
            api_pass="errada",
        )
        report = build_analyzer(settings, {}).analyze([sub("a", "3")], time.monotonic() + 5)
    assert report.motivo == "indeterminado"
    assert any("Login no sistema de gerência de OLT recusado" in e for e in report.erros)
    assert not any("errada" in e for e in report.erros)


def test_pons_known_only_from_the_sample_are_marked_as_such():
    subs = [sub("a"), sub("b"), sub("c")]
    evidences = [{"login": "a", "pon": "0/1/5"}, {"login": "b", "pon": "0/1/6"}]
    local, detail = describe_place(subs, evidences, {"1": "OLT-CENTRO"}, "energia")
    assert local == "PONs 0/1/5 e 0/1/6 da OLT-CENTRO (pela amostra)"
    assert detail["pon_pela_amostra"] is True
