"""The original monitor's middleware fakes answer in the shapes the real services use."""

from __future__ import annotations

import pytest
import requests

from simulator.middleware import FakeAlertMiddleware, FakeIxcMiddleware, FakeOltMiddleware, majority
from simulator.network import INSTANT, Network

NOW = 1_767_225_600.0


@pytest.fixture
def network() -> Network:
    return Network(customers=600, seed=5, clock=lambda: NOW, churn=None, timing=INSTANT)


@pytest.fixture(scope="module")
def alerts():
    with FakeAlertMiddleware() as server:
        yield server


def online_logins(network: Network, n: int) -> list[str]:
    return [c.login for c in network.customers if c.online == "S"][:n]


def test_the_ixc_service_lists_offline_customers_with_monitor_service_fields(network):
    with FakeIxcMiddleware(network) as service:
        clientes = requests.get(f"{service.url}/clientes/offline", timeout=5).json()["clientes"]
    expected = [c.login for c in network.customers if c.online == "N" and c.ativo == "S"]
    assert [c["login"] for c in clientes] == expected
    for cliente in clientes:
        assert set(cliente) == {
            "id_cliente",
            "login",
            "conexao",
            "ultima_conexao_final",
            "id_transmissor",
            "latitude",
            "longitude",
        }
        assert all(isinstance(v, str) for v in cliente.values())


def test_the_ixc_service_answers_200_with_an_empty_or_partial_list_when_ixc_fails(network):
    with FakeIxcMiddleware(network) as service:
        full = requests.get(f"{service.url}/clientes/online", timeout=5).json()["clientes"]
        service.fail("ixc_down")
        down = requests.get(f"{service.url}/clientes/online", timeout=5)
        service.fail("ixc_partial")
        partial = requests.get(f"{service.url}/clientes/online", timeout=5).json()["clientes"]
    assert (down.status_code, down.json()) == (200, {"clientes": []})
    assert 0 < len(partial) < len(full) / 2


def test_the_alert_service_answers_500_to_logins_given_as_strings(alerts):
    body = {"clientes": ["a", "b"], "status": "offline", "conexao": "OLT-1", "mensagem_personalizada": ""}
    assert requests.post(f"{alerts.url}/alerta/telegram", json=body, timeout=5).status_code == 500


def test_the_alert_service_sends_nothing_for_an_empty_list(alerts):
    sent = len(alerts.telegram_texts)
    body = {"clientes": [], "status": "online", "conexao": "OLT-1"}
    answer = requests.post(f"{alerts.url}/alerta/telegram", json=body, timeout=5)
    assert (answer.status_code, answer.json()) == (200, {"message": "Nenhum cliente para alertar"})
    assert len(alerts.telegram_texts) == sent


@pytest.mark.parametrize("kind", ["telegram_down", "telegram_rejects"])
def test_a_telegram_failure_comes_back_inside_an_http_200(alerts, kind):
    alerts.fail(kind)
    body = {"clientes": [{"login": "a"}], "status": "offline", "conexao": "OLT-1"}
    answer = requests.post(f"{alerts.url}/alerta/telegram", json=body, timeout=5)
    assert answer.status_code == 200 and "error" in answer.json()[0]


def test_text_telegram_cannot_parse_as_markdown_is_refused_inside_an_http_200(alerts):
    body = {
        "clientes": [{"login": "a"}],
        "status": "offline",
        "conexao": "OLT_1",
        "mensagem_personalizada": "x_y",
    }
    answer = requests.post(f"{alerts.url}/alerta/telegram", json=body, timeout=5)
    assert answer.status_code == 200 and "400" in answer.json()[0]["error"]


def test_the_ixc_service_follows_incidents(network):
    with FakeIxcMiddleware(network) as service:
        before = len(requests.get(f"{service.url}/clientes/online", timeout=5).json()["clientes"])
        incident = network.fiber_cut(*next(iter(network.pons())))
        after = requests.get(f"{service.url}/clientes/online", timeout=5).json()["clientes"]
    cut = {c.login for c in network.affected(incident)}
    assert len(after) < before
    assert not cut & {c["login"] for c in after}


@pytest.mark.parametrize("kind", ["http500", "html", "invalid_json"])
def test_the_ixc_service_can_fail(network, kind):
    with FakeIxcMiddleware(network) as service:
        service.fail(kind)
        response = requests.get(f"{service.url}/clientes/offline", timeout=5)
        with pytest.raises(ValueError):
            response.json()["clientes"]
        assert requests.get(f"{service.url}/clientes/offline", timeout=5).status_code == 200


def test_the_ixc_service_can_refuse_and_be_slow(network):
    with FakeIxcMiddleware(network) as service:
        service.fail("refuse")
        with pytest.raises(requests.ConnectionError):
            requests.get(f"{service.url}/clientes/offline", timeout=5)
        service.slow_seconds = 2
        service.fail("slow")
        with pytest.raises(requests.Timeout):
            requests.get(f"{service.url}/clientes/offline", timeout=0.2)


def test_the_alert_service_records_every_body(alerts):
    alerts.received.clear()
    telegram = {
        "clientes": [{"login": "a", "ultima_conexao_final": ""}, {"login": "b"}],
        "status": "offline",
        "conexao": "OLT-1",
        "mensagem_personalizada": "",
    }
    whatsapp = {"total_clientes": 2, "conexao": "OLT-1", "motivo": "loss"}
    assert requests.post(f"{alerts.url}/alerta/telegram", json=telegram, timeout=5).status_code == 200
    assert requests.post(f"{alerts.url}/alerta/whatsapp", json=whatsapp, timeout=5).status_code == 200
    assert alerts.received == [("/alerta/telegram", telegram), ("/alerta/whatsapp", whatsapp)]
    assert alerts.bodies("whatsapp") == [whatsapp]


def test_the_alert_service_can_fail_without_recording(alerts):
    alerts.received.clear()
    alerts.fail("http500", count=2)
    statuses = [
        requests.post(f"{alerts.url}/alerta/telegram", json={}, timeout=5).status_code for _ in range(3)
    ]
    assert statuses == [500, 500, 200]
    assert len(alerts.received) == 1


def test_the_alert_service_can_refuse(alerts):
    alerts.fail("refuse")
    with pytest.raises(requests.ConnectionError):
        requests.post(f"{alerts.url}/alerta/whatsapp", json={}, timeout=5)


def test_the_olt_service_says_loss_after_a_fiber_cut(network):
    incident = network.fiber_cut(*next(iter(network.pons())))
    sample = [c.login for c in network.affected(incident)][:3]
    with FakeOltMiddleware(network) as service:
        answer = requests.post(
            f"{service.url}/consulta/olt", json={"logins": sample, "id_transmissor": "1"}, timeout=5
        ).json()
    assert answer["motivo_final"] == "loss"
    assert [d["login"] for d in answer["detalhes"]] == sample
    assert all(d["causa_olt"] == "LOS" for d in answer["detalhes"])


def test_the_olt_service_says_energia_on_a_majority_of_dying_gasps(network):
    logins = online_logins(network, 3)
    network.set_state(logins[:2], "N", cause="dying-gasp")
    network.set_state(logins[2:], "N", cause="LOS")
    with FakeOltMiddleware(network) as service:
        answer = requests.post(f"{service.url}/consulta/olt", json={"logins": logins}, timeout=5).json()
    assert answer["motivo_final"] == "energia"


def test_the_olt_service_says_indeterminado_without_a_majority(network):
    logins = online_logins(network, 3)
    network.set_state(logins[:1], "N", cause="dying-gasp")
    network.set_state(logins[1:2], "N", cause="LOS")
    network.set_state(logins[2:], "N", cause="reset ONT")
    with FakeOltMiddleware(network) as service:
        answer = requests.post(f"{service.url}/consulta/olt", json={"logins": logins}, timeout=5).json()
    assert answer["motivo_final"] == "indeterminado"


def test_the_olt_service_sees_online_onus_after_a_bng_failure(network):
    incident = network.concentrator_failure(network.olts[0].conexao)
    sample = [c.login for c in network.affected(incident)][:3]
    with FakeOltMiddleware(network) as service:
        answer = requests.post(f"{service.url}/consulta/olt", json={"logins": sample}, timeout=5).json()
    assert answer["motivo_final"] == "indeterminado"
    assert {d["status"] for d in answer["detalhes"]} == {"online"}


def test_the_olt_service_handles_unknown_logins_and_faults(network):
    with FakeOltMiddleware(network) as service:
        answer = requests.post(f"{service.url}/consulta/olt", json={"logins": ["nobody"]}, timeout=5).json()
        assert answer["detalhes"][0]["status"] == "nao_encontrado"
        service.fail("html")
        response = requests.post(f"{service.url}/consulta/olt", json={"logins": []}, timeout=5)
        assert response.text.startswith("<div")


def test_majority_needs_more_than_half():
    assert majority(["loss", "loss", "energia"]) == "loss"
    assert majority(["loss", "energia"]) == "indeterminado"
    assert majority([]) == "indeterminado"
