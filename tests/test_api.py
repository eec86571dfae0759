"""The REST API: the original's `/eventos/ativos` shape, history filters, auth, health."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import replace

import pytest

from outage.adapters.erp.base import Observation
from outage.core.model import Subscriber
from outage.db import open_database
from outage.monitor import Monitor, resolve_by_operator
from outage.storage import cycles
from outage.web.app import create_app

pytestmark = pytest.mark.both_databases


class StaticReader:
    """An in-process ERP reader (the HTTP side is covered by the cycle tests).

    Each connection is one OLT whose logins share one CTO, so a few drops together are an
    incident. Sessions end 30 s before `clock()`.
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.offline: dict[str, Subscriber] = {}
        self.online: set[str] = set()
        self.clock = clock

    def drop(self, conexao: str, *numbers: int) -> None:
        for n in numbers:
            login = f"{conexao.lower()}-{n}"
            self.offline[login] = Subscriber(
                login=login,
                conexao=conexao,
                id=str(n),
                id_transmissor=conexao,
                interface_transmissao="0/1/0",
                id_caixa_ftth=f"{conexao}-cto",
                session_end=self.clock() - 30,
            )
            self.online.discard(login)

    def restore(self, conexao: str, *numbers: int) -> None:
        for n in numbers:
            login = f"{conexao.lower()}-{n}"
            self.offline.pop(login, None)
            self.online.add(login)

    def read(self, candidates: Mapping[str, str]) -> Observation:
        return Observation(dict(self.offline), frozenset(self.online & set(candidates)))

    def read_population(self) -> dict[str, int]:
        return {}


@pytest.fixture
def populated(make_settings):
    """Two events: OLT-A active (5 logins, 2 back), OLT-B resolved."""
    settings = make_settings(IXCSOFT_SERVICE_URL="http://127.0.0.1:9", API_TOKEN="segredo-da-api")
    reader = StaticReader()
    monitor = Monitor(settings, reader, None, [])
    conn = open_database(settings.database)
    monitor.run_cycle(conn)
    reader.drop("OLT-B", 1, 2, 3, 4)
    monitor.run_cycle(conn)
    reader.restore("OLT-B", 1, 2, 3, 4)
    reader.drop("OLT-A", 1, 2, 3, 4, 5)
    monitor.run_cycle(conn)
    reader.restore("OLT-A", 1, 2)
    monitor.run_cycle(conn)
    conn.close()
    return settings


@pytest.fixture
def client(populated):
    app = create_app(populated)
    return app.test_client()


AUTH = {"Authorization": "Bearer segredo-da-api"}


def test_active_events_keep_monitor_service_shape(client):
    response = client.get("/eventos/ativos", headers=AUTH)
    assert response.status_code == 200
    events = response.get_json()["eventos_ativos"]
    assert len(events) == 1
    event = events[0]
    assert {"id", "conexao", "timestamp", "status", "logins"} <= set(event)
    assert event["conexao"] == "OLT-A" and event["status"] == "ativo"
    assert len(event["logins"]) == 5
    assert sorted(event["logins_offline"]) == ["olt-a-3", "olt-a-4", "olt-a-5"]
    assert event["motivo"] == "indeterminado" and event["resolvido_em"] is None


def test_history_lists_active_first_and_filters(client):
    body = client.get("/eventos", headers=AUTH).get_json()
    assert [e["conexao"] for e in body["eventos"]] == ["OLT-A", "OLT-B"]
    assert body["total"] == 2
    resolved = client.get("/eventos?status=resolvido", headers=AUTH).get_json()["eventos"]
    assert [e["conexao"] for e in resolved] == ["OLT-B"]
    assert resolved[0]["resolvido_em"] is not None
    by_name = client.get("/eventos?conexao=OLT-B&limite=1&pagina=1", headers=AUTH).get_json()
    assert [e["conexao"] for e in by_name["eventos"]] == ["OLT-B"]
    future = client.get("/eventos?desde=2099-01-01", headers=AUTH).get_json()
    assert future["eventos"] == []


@pytest.mark.parametrize(
    "query",
    ["status=aberto", "limite=0", "limite=abc", "limite=9999", "pagina=-1", "desde=ontem", "ate=31/12/2026"],
)
def test_bad_filters_are_a_400_with_a_json_error(client, query):
    response = client.get(f"/eventos?{query}", headers=AUTH)
    assert response.status_code == 400
    assert "erro" in response.get_json()


def test_one_event_with_its_logins_and_alerts(client):
    event_id = client.get("/eventos/ativos", headers=AUTH).get_json()["eventos_ativos"][0]["id"]
    body = client.get(f"/eventos/{event_id}", headers=AUTH).get_json()
    assert body["id"] == event_id
    assert len(body["clientes"]) == 5
    assert "alertas" in body


def test_an_unknown_event_is_a_404_in_json(client):
    response = client.get("/eventos/nao-existe", headers=AUTH)
    assert response.status_code == 404
    assert response.get_json() == {"erro": "evento não encontrado"}


def test_events_need_the_token_when_it_is_set(client):
    assert client.get("/eventos/ativos").status_code == 401
    assert client.get("/eventos/ativos", headers={"Authorization": "Bearer errado"}).status_code == 401
    assert client.get("/eventos", headers={"Authorization": "Basic abc"}).status_code == 401


def test_events_are_open_without_a_token(make_settings):
    app = create_app(make_settings(IXCSOFT_SERVICE_URL="http://127.0.0.1:9"))
    assert app.test_client().get("/eventos/ativos").status_code == 200


def test_unknown_routes_and_methods_answer_json(client):
    assert client.get("/eventos/ativos/extra", headers=AUTH).get_json() == {"erro": "recurso não encontrado"}
    response = client.post("/eventos/ativos", headers=AUTH)
    assert response.status_code == 405 and "erro" in response.get_json()


def test_health_is_ok_after_a_recent_good_cycle(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["status"] == "ok"


def test_health_fails_when_the_last_good_cycle_is_old(populated):
    conn = open_database(populated.database)
    conn.execute("UPDATE cycles SET finished_at = finished_at - 10000, started_at = started_at - 10000")
    conn.close()
    response = create_app(populated).test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["problemas"]


def test_metrics_are_read_from_the_database(client):
    response = client.get("/metrics", headers=AUTH)
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert 'outage_events{status="ativo"} 1.0' in text
    assert 'outage_events{status="resolvido"} 1.0' in text
    assert "outage_offline_logins 3.0" in text


def test_an_operator_can_close_an_event_stuck_in_unknown_status(populated):
    app = create_app(populated)
    client = app.test_client()
    event_id = client.get("/eventos/ativos", headers=AUTH).get_json()["eventos_ativos"][0]["id"]
    response = client.post(f"/eventos/{event_id}/resolver", headers=AUTH)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "resolvido" and body["resolvido_por"] == "api"
    assert client.get("/eventos/ativos", headers=AUTH).get_json()["eventos_ativos"] == []
    assert client.post(f"/eventos/{event_id}/resolver", headers=AUTH).status_code == 409
    assert client.post("/eventos/nao-existe/resolver", headers=AUTH).status_code == 404


def test_closing_needs_an_operator(populated):
    client = create_app(populated).test_client()
    event_id = client.get("/eventos/ativos", headers=AUTH).get_json()["eventos_ativos"][0]["id"]
    assert client.post(f"/eventos/{event_id}/resolver").status_code == 401


def test_a_cycle_racing_a_manual_close_retries_on_the_fresh_state(make_settings):
    settings = make_settings(IXCSOFT_SERVICE_URL="http://127.0.0.1:9")
    reader = StaticReader()
    monitor = Monitor(settings, reader, None, ["telegram:-1"])
    conn = open_database(settings.database)
    monitor.run_cycle(conn)
    reader.drop("OLT-A", 1, 2, 3, 4, 5)
    monitor.run_cycle(conn)
    event_id = conn.execute("SELECT id FROM events").fetchone()[0]
    read = reader.read

    def read_while_an_operator_closes_the_event(candidates):
        resolve_by_operator(conn, event_id, "ana", time.time(), ["telegram:-1"])
        return read(candidates)

    reader.read = read_while_an_operator_closes_the_event  # after the poller loaded its state
    reader.drop("OLT-A", 6)
    result = monitor.run_cycle(conn)
    # the logins still offline are not new drops: one new drop, no event
    assert (result.counts.novas_quedas, result.counts.abertos, result.counts.crescidos) == (1, 0, 0)
    assert [tuple(r) for r in conn.execute("SELECT status, resolvido_por FROM events")] == [
        ("resolvido", "ana")
    ]
    normalization = conn.execute("SELECT payload FROM outbox WHERE kind = 'normalizacao'").fetchone()[0]
    assert '"resolvido_por": "ana"' in normalization
    conn.close()


def test_active_events_answer_304_to_a_client_that_has_them(client):
    first = client.get("/eventos/ativos", headers=AUTH)
    assert first.headers["ETag"]
    again = client.get("/eventos/ativos", headers={**AUTH, "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_active_events_change_as_soon_as_the_events_do(populated):
    app = create_app(populated)
    client = app.test_client()
    before = client.get("/eventos/ativos", headers=AUTH).get_json()["eventos_ativos"]
    client.post(f"/eventos/{before[0]['id']}/resolver", headers=AUTH)
    assert client.get("/eventos/ativos", headers=AUTH).get_json()["eventos_ativos"] == []


def test_health_tells_which_instance_is_active_and_what_this_one_is(populated):
    app = create_app(replace(populated, instance_name="monitor-b"))
    client = app.test_client()
    conn = open_database(populated.database)
    cycles.take_lease(conn, "monitor-a:4242:abcd1234", time.time(), 30)
    body = client.get("/healthz", headers=AUTH).get_json()
    assert body["instancia"]["esta"] == f"monitor-b:{os.getpid()}"  # no background service here
    assert body["instancia"]["nome"] == "monitor-b"
    assert (body["instancia"]["ativa"], body["instancia"]["papel"]) == ("monitor-a:4242:abcd1234", "reserva")
    assert 25 < body["instancia"]["lease_vence_em_s"] <= 30

    app.config["LEASE_HOLDER"] = "monitor-b:77:feedbeef"  # set by the process that runs the service
    cycles.release_lease(conn, "monitor-a:4242:abcd1234")
    cycles.take_lease(conn, "monitor-b:78:cafecafe", time.time(), 30)  # another worker of this instance
    body = client.get("/healthz", headers=AUTH).get_json()
    assert (body["instancia"]["esta"], body["instancia"]["papel"]) == ("monitor-b:77:feedbeef", "ativa")

    cycles.take_lease(conn, "monitor-b:78:cafecafe", time.time() - 60, 30)  # its term ended: a crash
    body = client.get("/healthz", headers=AUTH).get_json()
    assert body["instancia"]["ativa"] is None and body["instancia"]["papel"] == "reserva"
    assert body["instancia"]["lease_vence_em_s"] is None
    conn.close()
    assert "instancia" not in client.get("/healthz").get_json()  # details need a session or the token
