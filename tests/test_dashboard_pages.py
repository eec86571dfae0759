"""The dashboard's pages and its small JSON routes (`/api/ciclos`, `/api/saude`)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from outage.config import Settings
from outage.db import connect
from outage.web.app import create_app

ERP = {"IXC_URL": "http://127.0.0.1:9", "IXC_USER": "1", "IXC_TOKEN": "x"}
ADMIN = {"ADMIN_USERNAME": "chefe", "ADMIN_PASSWORD": "senha-do-admin-1"}


@pytest.fixture
def app(make_settings: Callable[..., Settings]) -> Flask:
    return create_app(make_settings(**ERP, **ADMIN, SESSION_COOKIE_SECURE="false"))


def logged_in(app: Flask) -> FlaskClient:
    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/entrar").get_data(as_text=True))
    assert token is not None
    client.post(
        "/entrar", data={"usuario": "chefe", "senha": ADMIN["ADMIN_PASSWORD"], "csrf_token": token.group(1)}
    )
    return client


def test_every_page_renders_for_a_logged_in_user_with_scripts_from_static_only(app: Flask) -> None:
    client = logged_in(app)
    for path in ("/painel/", "/painel/eventos", "/painel/historico", "/painel/saude"):
        html = client.get(path).get_data(as_text=True)
        assert 'name="csrf-token"' in html
        assert re.findall(r"<script(?![^>]*\bsrc=)", html) == [], path  # no inline scripts
        assert "http://" not in html and "https://" not in html  # nothing from the internet


def test_the_demo_messages_page_exists_only_in_demo_mode(app: Flask) -> None:
    client = logged_in(app)
    assert "Mensagens (demo)" not in client.get("/painel/").get_data(as_text=True)
    assert client.get("/painel/mensagens").status_code == 404


def test_the_root_sends_to_the_monitor(app: Flask) -> None:
    assert app.test_client().get("/").headers["Location"].endswith("/painel/")


def test_cycles_of_the_last_hours_come_oldest_first(app: Flask) -> None:
    conn = connect(app.config["SETTINGS"].database)
    now = time.time()
    for age, offline, ok in ((30 * 3600, 9, 1), (7200, 50, 1), (3600, 70, 0), (60, 40, 1)):
        conn.execute(
            "INSERT INTO cycles (started_at, ok, offline, duracao) VALUES (?, ?, ?, 1.5)",
            (now - age, ok, offline),
        )
    client = logged_in(app)
    body = client.get("/api/ciclos?horas=24").get_json()
    assert [c["offline"] for c in body["ciclos"]] == [50, 70, 40]
    assert [c["ok"] for c in body["ciclos"]] == [True, False, True]
    assert client.get("/api/ciclos?horas=0").status_code == 400


def test_health_lists_each_integration_and_the_outbox_per_channel(app: Flask) -> None:
    body = logged_in(app).get("/api/saude").get_json()
    states = {c["nome"]: c["estado"] for c in body["componentes"]}
    assert states == {
        "ERP": "atencao",
        "OLT (causa)": "atencao",
        "Alarmes da rede": "desativado",
        "Telegram (NOC)": "desativado",
        "Avisos aos clientes": "desativado",
    }
    assert body["canais"] == []


def test_health_shows_every_configured_channel_for_the_noc_and_for_the_customers(make_settings) -> None:
    settings = make_settings(
        IXCSOFT_SERVICE_URL="http://127.0.0.1:5001",
        **ADMIN,
        SESSION_COOKIE_SECURE="false",
        TELEGRAM_BOT_TOKEN="123:abc",
        TELEGRAM_CHAT_ID="-1001,-1002",
        URL_HSM="http://127.0.0.1:5005/enviar",
        TOKEN_HSM="t" * 20,
        HSM_NOC_TEMPLATE="120",
        WHATSAPP_NOC_NUMBERS="5511987654321",
        WHATSAPP_TOKEN="w" * 20,
        WHATSAPP_PHONE_NUMBER_ID="1234567890",
        ALERT_SERVICE_URL="http://127.0.0.1:5002",
    )
    app = create_app(settings)
    conn = connect(settings.database)
    conn.execute(
        "INSERT INTO outbox (channel, kind, payload, status, attempts, next_attempt_at, created_at)"
        " VALUES ('hsm:5511987654321', 'abertura', '{}', 'falhou', 5, 0, 0)"
    )
    components = {c["nome"]: c for c in logged_in(app).get("/api/saude").get_json()["componentes"]}
    assert components["Telegram (NOC)"]["detalhe"] == "2 grupos do NOC"
    assert components["WhatsApp do NOC (API oficial)"]["estado"] == "ok"
    hsm_noc = components["WhatsApp do NOC (provedor HSM)"]
    assert hsm_noc["estado"] == "erro" and "hsm:5511987654321" in hsm_noc["detalhe"]
    assert components["Serviço de alertas do sistema original"]["detalhe"] == "/alerta/whatsapp"
    customers = components["Avisos aos clientes"]
    assert customers["estado"] == "ok" and customers["detalhe"].startswith("provedor HSM, modelos 114 (LOS)")
