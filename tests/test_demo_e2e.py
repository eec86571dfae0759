"""End to end over the demo wiring: a fiber cut in the simulated ISP, detected, explained,
alerted, approved and sent to the customers, every external system a real local server."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from outage.adapters.channels import hsm_provider
from outage.adapters.channels.registry import CHANNELS
from outage.adapters.erp import ERPS
from outage.config import Settings, load_settings
from outage.db import open_database
from outage.service import build_monitor, build_sender
from outage.web.app import create_app
from simulator.demo import NOC_CHAT_ID, DemoSimulator
from simulator.network import INSTANT
from simulator.ports import free_port

TOKEN = "token-de-teste-e2e"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoSimulator]:
    demo_dir = tmp_path_factory.mktemp("demo")
    with DemoSimulator(demo_dir, customers=300, seed=3, scenario=False, churn=False, timing=INSTANT) as sim:
        yield sim


@pytest.fixture(scope="module")
def settings(demo: DemoSimulator) -> Settings:
    env = demo.env(port=free_port())
    env["MONITOR_API_TOKEN"] = TOKEN
    built, problems = load_settings(env, demo=True, channels=CHANNELS, erps=ERPS)
    assert problems == []
    return built


@pytest.fixture(scope="module")
def app(settings: Settings) -> Flask:
    return create_app(settings)


@pytest.fixture(scope="module")
def cut(demo: DemoSimulator, settings: Settings) -> dict[str, Any]:
    """Baseline cycle, a fiber cut, the cycle that sees it, then the NOC alerts delivered."""
    conn = open_database(settings.database)
    monitor = build_monitor(settings, "e2e", fenced=False)
    monitor.run_cycle(conn)
    incident = demo.scenario.trigger("fiber_cut")
    monitor.run_cycle(conn)
    build_sender(settings, "e2e").deliver_due(max_wait=15)
    conn.close()
    return incident


def _client(app: Flask) -> FlaskClient:
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {TOKEN}"
    return client


def _events(settings: Settings) -> list[sqlite3.Row]:
    conn = open_database(settings.database)
    try:
        return list(conn.execute("SELECT conexao, motivo, local, status FROM events"))
    finally:
        conn.close()


def test_a_fiber_cut_becomes_an_event_with_cause_loss_and_its_place(
    cut: dict[str, Any], settings: Settings, demo: DemoSimulator
) -> None:
    events = _events(settings)
    assert len(events) == 1
    conexao, motivo, local, status = events[0]
    assert (motivo, status) == ("loss", "ativo")
    olt_name, _, pon = cut["local"].partition(" PON ")
    assert conexao == olt_name
    assert pon in local and olt_name in local


def test_the_noc_gets_the_alert_on_telegram(cut: dict[str, Any], demo: DemoSimulator) -> None:
    olt_name = cut["local"].partition(" PON ")[0]
    texts = demo.telegram.texts(NOC_CHAT_ID)
    assert any("Queda massiva" in t and olt_name in t for t in texts)
    assert any("Rompimento de fibra" in t for t in texts)


def test_the_incident_is_listed_and_approving_it_sends_the_hsm_notices(
    cut: dict[str, Any], app: Flask, settings: Settings, demo: DemoSimulator
) -> None:
    client = _client(app)
    listed = client.get("/api/incidentes")
    assert listed.status_code == 200
    incidents = listed.get_json()
    assert incidents, listed.get_json()
    pon = cut["local"].partition(" PON ")[2]
    chosen = next(
        (i for i in incidents if pon in str(i.get("slot_pon", "")) + str(i.get("local", ""))), incidents[0]
    )
    approved = client.post("/api/acao", json={"id": chosen["id"], "acao": "aprovar"})
    assert approved.status_code == 200, approved.get_json()
    assert approved.get_json()["success"] is True
    build_sender(settings, "e2e").deliver_due(max_wait=15)
    assert len(demo.hsm.messages) > 0
    assert {str(m["hsm"]) for m in demo.hsm.messages} == {hsm_provider.settings_of(settings).template_los}
    assert all(m["contato"]["telefone"].startswith("55") for m in demo.hsm.messages)


def test_the_demo_page_data_shows_what_customers_and_the_noc_received(
    cut: dict[str, Any], app: Flask, demo: DemoSimulator
) -> None:
    body = _client(app).get("/api/demo/mensagens").get_json()
    assert {m["canal"] for m in body["noc"]} >= {"telegram"}
    for message in body["clientes"]:
        assert set(message) >= {"telefone", "nome", "template", "quando"}
        assert message["telefone"].startswith("55")


def test_an_incident_can_be_triggered_through_the_demo_route(app: Flask, demo: DemoSimulator) -> None:
    response = _client(app).post("/api/demo/incidente", json={"tipo": "cto_failure"})
    assert response.status_code == 201
    created = response.get_json()
    assert created["tipo"] == "cto_failure"
    assert created["id"] in {i["id"] for i in demo.incidents.listing()}
    assert any(
        a["alert_type"] == "cto_loss" and a["end_date"] is None for a in demo.olt_system.alerts.values()
    )
    demo.incidents.recover(created["id"])
    assert all(
        a["end_date"] is not None for a in demo.olt_system.alerts.values() if a["alert_type"] == "cto_loss"
    )


def test_an_unknown_incident_kind_is_refused_in_portuguese(app: Flask) -> None:
    response = _client(app).post("/api/demo/incidente", json={"tipo": "meteoro"})
    assert response.status_code == 400
    assert "tipo desconhecido" in response.get_json()["erro"]


def test_the_inventory_points_at_the_running_emulators(demo: DemoSimulator) -> None:
    import json

    entries = json.loads(Path(demo.inventory_path).read_text())
    assert {e["id_transmissor"] for e in entries} == {o.id for o in demo.network.olts}
    assert {e["port"] for e in entries} == {olt.port for olt in demo.olts.values()}


def test_the_messages_page_shows_telegram_text_as_the_chat_would():
    from simulator.demo import telegram_as_seen

    shown = telegram_as_seen(
        "🚨 <b>Queda</b> — <b>POP &lt;Sul&gt; &amp; Cia</b>\n• <code>joao</code> 22/11 03:10"
    )
    assert shown == "🚨 Queda — POP <Sul> & Cia\n• joao 22/11 03:10"
