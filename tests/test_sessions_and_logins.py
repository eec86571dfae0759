"""Customer data needs a login, sessions end on the server, and logins are throttled per
user and address without ever locking the NOC out."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from outage.config import Settings
from outage.web import auth
from outage.web.app import create_app
from tests.clocks import HandClock
from tests.test_auth import ADMIN_PASSWORD, ERP, _db, _login_form_token, login, session_csrf

pytestmark = pytest.mark.both_databases

CUSTOMER_ROUTES = (
    "/api/incidentes",
    "/api/detalhes/1",
    "/api/historico",
    "/api/historico?formato=csv",
    "/api/saude",
    "/api/ciclos",
    "/metrics",
    "/eventos/1",
)
COOKIE = "painel_sessao"
NOC = "10.0.0.5"
ATTACKER = "203.0.113.9"


@pytest.fixture
def hand() -> HandClock:
    return HandClock()


@pytest.fixture
def app(make_settings: Callable[..., Settings], hand: HandClock) -> Flask:
    settings = make_settings(
        **ERP, ADMIN_USERNAME="chefe", ADMIN_PASSWORD=ADMIN_PASSWORD, SESSION_IDLE_MINUTES="30"
    )
    built = create_app(settings, clock=hand.clock())
    built.config["TESTING"] = True
    return built


def client_at(app: Flask, address: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def cookie_of(client: FlaskClient) -> str:
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None
    return cookie.value


@pytest.mark.parametrize("path", CUSTOMER_ROUTES)
def test_customer_data_needs_a_login_even_without_an_api_token(app: Flask, path: str) -> None:
    response = app.test_client().get(path)
    assert response.status_code == 401
    assert "autenticação necessária" in response.get_json()["erro"]


def test_monitor_service_read_only_lists_stay_open_without_a_token(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/eventos/ativos").status_code == 200
    assert client.get("/eventos").status_code == 200


def test_anonymous_health_gives_the_verdict_without_details(app: Flask) -> None:
    anonymous = app.test_client().get("/healthz").get_json()
    assert set(anonymous) <= {"status", "problemas"}
    client = app.test_client()
    login(client, "chefe", ADMIN_PASSWORD)
    assert "ultimo_ciclo" in client.get("/healthz").get_json()


def test_an_old_cookie_stops_working_after_logout_csrf_posts_included(app: Flask) -> None:
    client = app.test_client()
    login(client, "chefe", ADMIN_PASSWORD)
    stolen_cookie, stolen_csrf = cookie_of(client), session_csrf(client)
    client.post("/sair", data={"csrf_token": stolen_csrf})
    replay = app.test_client()
    replay.set_cookie(COOKIE, stolen_cookie)
    assert replay.get("/api/saude").status_code == 401
    assert replay.get("/painel/").status_code == 302
    response = replay.post(
        "/api/acao", json={"id": "1", "acao": "negar"}, headers={"X-CSRF-Token": stolen_csrf}
    )
    assert response.status_code == 401


def test_an_old_cookie_stops_working_after_a_password_change(app: Flask) -> None:
    client = app.test_client()
    login(client, "chefe", ADMIN_PASSWORD)
    stolen_cookie = cookie_of(client)
    auth.set_password(_db(app), "chefe", "nova-senha-longa")
    replay = app.test_client()
    replay.set_cookie(COOKIE, stolen_cookie)
    assert replay.get("/api/saude").status_code == 401


def test_a_session_expires_after_its_idle_time_and_activity_keeps_it(app: Flask, hand: HandClock) -> None:
    client = app.test_client()
    login(client, "chefe", ADMIN_PASSWORD)
    for _ in range(4):
        hand.advance(20 * 60)
        assert client.get("/api/saude").status_code == 200
    hand.advance(31 * 60)
    assert client.get("/api/saude").status_code == 401


def test_a_session_survives_a_wall_clock_jump_back(app: Flask, hand: HandClock) -> None:
    client = app.test_client()
    login(client, "chefe", ADMIN_PASSWORD)
    hand.jump(-3600)
    assert client.get("/api/saude").status_code == 200


def test_a_wall_clock_jump_ahead_keeps_the_session_and_its_real_idle_time(
    app: Flask, hand: HandClock
) -> None:
    client = app.test_client()
    login(client, "chefe", ADMIN_PASSWORD)
    assert client.get("/api/saude").status_code == 200
    hand.jump(3600)  # an hour ahead on the wall clock, a second of real time
    assert client.get("/api/saude").status_code == 200
    hand.advance(20 * 60)
    assert client.get("/api/saude").status_code == 200  # 20 real minutes idle: under the 30 allowed
    hand.jump(-3600)
    hand.advance(31 * 60)
    assert client.get("/api/saude").status_code == 401  # 31 real minutes idle, whatever the wall says


def test_failures_elsewhere_never_delay_the_right_password_from_a_known_address(app: Flask) -> None:
    noc = client_at(app, NOC)
    assert login(noc, "chefe", ADMIN_PASSWORD).status_code == 302
    noc.post("/sair", data={"csrf_token": session_csrf(noc)})
    attacker = client_at(app, ATTACKER)
    statuses = {login(attacker, "chefe", f"chute-{n}").status_code for n in range(30)}
    assert statuses == {401, 429}
    assert login(noc, "chefe", ADMIN_PASSWORD).status_code == 302


def test_failures_delay_the_same_user_and_address_with_growing_waits(app: Flask, hand: HandClock) -> None:
    client = client_at(app, ATTACKER)
    for n in range(5):
        assert login(client, "chefe", f"chute-{n}").status_code == 401
    first = login(client, "chefe", ADMIN_PASSWORD)
    assert first.status_code == 429 and first.headers["Retry-After"] == "30"
    hand.advance(31)
    assert login(client, "chefe", "chute-6").status_code == 401
    second = login(client, "chefe", ADMIN_PASSWORD)
    assert second.status_code == 429 and second.headers["Retry-After"] == "60"
    hand.advance(61)
    assert login(client, "chefe", ADMIN_PASSWORD).status_code == 302


def test_parallel_attempts_never_get_more_than_the_limit_evaluated(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="outage.web.auth")
    clients = [client_at(app, ATTACKER) for _ in range(40)]
    tokens = [_login_form_token(c) for c in clients]
    go = threading.Barrier(len(clients))
    statuses: list[int] = []

    def attempt(client: FlaskClient, token: str) -> None:
        go.wait()
        form = {"usuario": "chefe", "senha": "senha-errada", "csrf_token": token}
        statuses.append(client.post("/entrar", data=form).status_code)

    threads = [threading.Thread(target=attempt, args=pair) for pair in zip(clients, tokens, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    evaluated = [r for r in caplog.records if r.getMessage().startswith("falha de login")]
    assert len(statuses) == 40
    assert len(evaluated) == statuses.count(401) <= 5
    assert statuses.count(429) >= 35


def test_a_non_ascii_csrf_token_or_bearer_is_refused_not_a_crash(app: Flask) -> None:
    client = app.test_client()
    form = {"usuario": "chefe", "senha": ADMIN_PASSWORD, "csrf_token": "ção✓"}
    _login_form_token(client)
    assert client.post("/entrar", data=form).status_code == 400
    login(client, "chefe", ADMIN_PASSWORD)
    refused = client.post("/api/acao", json={}, headers={"X-CSRF-Token": "tökén"})
    assert refused.status_code == 403
    bearer = app.test_client().get("/api/saude", headers={"Authorization": "Bearer çãõ€"})
    assert bearer.status_code == 401 and "erro" in bearer.get_json()


def test_the_start_up_log_says_what_needs_a_login(
    make_settings: Callable[..., Settings], caplog: pytest.LogCaptureFixture
) -> None:
    from outage import process

    caplog.set_level(logging.INFO, logger="monitor_service")
    process._warn_about(make_settings(**ERP))
    assert "dados de clientes" in caplog.text and "exigem login no painel" in caplog.text
    assert "só GET /eventos/ativos e GET /eventos ficam abertos" in caplog.text
