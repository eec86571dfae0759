"""Accounts, sessions, CSRF, roles, rate limiting, security headers and the users CLI."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask, jsonify
from flask.testing import FlaskClient

from outage.config import Settings
from outage.db import Connection, connect
from outage.storage import users
from outage.web import auth
from outage.web.api import current_user, requires
from outage.web.app import create_app

ADMIN_PASSWORD = "senha-do-admin-1"
ERP = {"IXC_URL": "http://127.0.0.1:9", "IXC_USER": "1", "IXC_TOKEN": "x"}


def _app(settings: Settings) -> Flask:
    app = create_app(settings)

    @requires("operador")
    def decide() -> Any:
        return jsonify({"quem": current_user()})

    @requires("admin")
    def manage() -> Any:
        return jsonify({"quem": current_user()})

    app.add_url_rule("/api/teste-operador", "teste_operador", decide, methods=["POST"])
    app.add_url_rule("/api/teste-admin", "teste_admin", manage)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def app(make_settings: Callable[..., Settings]) -> Flask:
    return _app(make_settings(**ERP, ADMIN_USERNAME="chefe", ADMIN_PASSWORD=ADMIN_PASSWORD))


def _db(app: Flask) -> Connection:
    return connect(app.config["SETTINGS"].database)


def _add_user(app: Flask, name: str, role: str, password: str = "senha-segura-1") -> None:
    auth.create_user(_db(app), name, password, role, time.time())


def _login_form_token(client: FlaskClient) -> str:
    page = client.get("/entrar").get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match is not None
    return match.group(1)


def login(client: FlaskClient, name: str, password: str) -> Any:
    token = _login_form_token(client)
    return client.post("/entrar", data={"usuario": name, "senha": password, "csrf_token": token})


def session_csrf(client: FlaskClient) -> str:
    """The CSRF token a logged-in page carries (in its `csrf-token` meta tag)."""
    page = client.get("/painel/").get_data(as_text=True)
    match = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert match is not None
    return match.group(1)


def test_it_creates_the_first_admin_from_the_environment_once(app: Flask) -> None:
    user = users.find_user(_db(app), "chefe")
    assert user is not None and user.role == "admin"
    assert user.password_hash != ADMIN_PASSWORD and user.password_hash.startswith(("scrypt:", "pbkdf2:"))
    auth.set_password(_db(app), "chefe", "outra-senha-123")
    _app(app.config["SETTINGS"])  # a restart keeps the changed password
    assert auth.authenticate(_db(app), "chefe", "outra-senha-123") is not None


def test_it_logs_in_and_sets_a_protected_session_cookie(app: Flask) -> None:
    client = app.test_client()
    response = login(client, "chefe", ADMIN_PASSWORD)
    assert response.status_code == 302 and response.headers["Location"].endswith("/")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie
    assert client.get("/painel/").status_code == 200


def test_the_secure_flag_can_be_turned_off_for_plain_http(make_settings: Callable[..., Settings]) -> None:
    app = _app(
        make_settings(
            **ERP, ADMIN_USERNAME="chefe", ADMIN_PASSWORD=ADMIN_PASSWORD, SESSION_COOKIE_SECURE="false"
        )
    )
    response = login(app.test_client(), "chefe", ADMIN_PASSWORD)
    assert "Secure" not in response.headers["Set-Cookie"]


def test_pages_send_anonymous_visitors_to_the_login_page(app: Flask) -> None:
    response = app.test_client().get("/painel/historico")
    assert response.status_code == 302
    assert "/entrar?proximo=/painel/historico" in response.headers["Location"]


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(app: Flask) -> None:
    client = app.test_client()
    for name in ("chefe", "ninguem"):
        response = login(client, name, "senha-errada")
        assert response.status_code == 401
        assert "Usuário ou senha incorretos." in response.get_data(as_text=True)


def test_login_is_rate_limited_after_repeated_failures(app: Flask) -> None:
    client = app.test_client()
    for _ in range(5):
        assert login(client, "chefe", "senha-errada").status_code == 401
    response = login(client, "chefe", ADMIN_PASSWORD)
    assert response.status_code == 429
    assert "Muitas tentativas" in response.get_data(as_text=True)


def test_the_login_form_needs_its_csrf_token(app: Flask) -> None:
    client = app.test_client()
    client.get("/entrar")
    response = client.post("/entrar", data={"usuario": "chefe", "senha": ADMIN_PASSWORD})
    assert response.status_code == 400


def test_login_never_redirects_to_another_site(app: Flask) -> None:
    client = app.test_client()
    token = _login_form_token(client)
    response = client.post(
        "/entrar",
        data={
            "usuario": "chefe",
            "senha": ADMIN_PASSWORD,
            "csrf_token": token,
            "proximo": "//evil.example/x",
        },
    )
    assert response.status_code == 302 and "evil" not in response.headers["Location"]


def test_a_logged_in_post_without_the_csrf_token_is_refused(app: Flask) -> None:
    client = app.test_client()
    login(client, "chefe", ADMIN_PASSWORD)
    refused = client.post("/api/teste-operador", json={})
    assert refused.status_code == 403 and "CSRF" in refused.get_json()["erro"]
    wrong = client.post("/api/teste-operador", json={}, headers={"X-CSRF-Token": "outro"})
    assert wrong.status_code == 403
    ok = client.post("/api/teste-operador", json={}, headers={"X-CSRF-Token": session_csrf(client)})
    assert ok.status_code == 200 and ok.get_json() == {"quem": "chefe"}


def test_a_reader_cannot_use_operator_routes(app: Flask) -> None:
    _add_user(app, "ana", "leitura")
    client = app.test_client()
    login(client, "ana", "senha-segura-1")
    response = client.post("/api/teste-operador", json={}, headers={"X-CSRF-Token": session_csrf(client)})
    assert response.status_code == 403 and "operador" in response.get_json()["erro"]
    assert client.get("/eventos/ativos").status_code == 200


def test_an_operator_is_not_an_admin(app: Flask) -> None:
    _add_user(app, "op", "operador")
    client = app.test_client()
    login(client, "op", "senha-segura-1")
    assert client.get("/api/teste-admin").status_code == 403


def test_nobody_logged_in_reads_openly_but_never_decides_without_api_token(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/eventos/ativos").status_code == 200
    response = client.post("/api/teste-operador", json={})
    assert response.status_code == 401 and "autenticação" in response.get_json()["erro"]


def test_the_bearer_token_needs_no_csrf_and_acts_as_api(make_settings: Callable[..., Settings]) -> None:
    app = _app(make_settings(**ERP, API_TOKEN="t" * 24))
    client = app.test_client()
    assert client.get("/eventos/ativos").status_code == 401
    headers = {"Authorization": "Bearer " + "t" * 24}
    assert client.get("/eventos/ativos", headers=headers).status_code == 200
    response = client.post("/api/teste-operador", json={}, headers=headers)
    assert response.get_json() == {"quem": "api"}
    bad = client.post("/api/teste-operador", json={}, headers={"Authorization": "Bearer errado"})
    assert bad.status_code == 401


def test_logout_ends_the_session_and_needs_the_csrf_token(app: Flask) -> None:
    client = app.test_client()
    login(client, "chefe", ADMIN_PASSWORD)
    assert client.post("/sair").status_code == 403
    response = client.post("/sair", data={"csrf_token": session_csrf(client)})
    assert response.status_code == 302 and response.headers["Location"].endswith("/entrar")
    assert client.get("/painel/").status_code == 302


def test_changing_a_password_or_removing_a_user_ends_their_sessions(app: Flask) -> None:
    _add_user(app, "ana", "operador")
    client = app.test_client()
    login(client, "ana", "senha-segura-1")
    auth.set_password(_db(app), "ana", "nova-senha-123")
    assert client.get("/painel/").status_code == 302
    login(client, "ana", "nova-senha-123")
    auth.remove_user(_db(app), "ana")
    assert client.get("/painel/").status_code == 302


def test_every_response_carries_the_security_headers(app: Flask) -> None:
    for path in ("/entrar", "/eventos/ativos", "/static/css/app.css"):
        headers = app.test_client().get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "same-origin"


def test_user_rules_refuse_bad_input(app: Flask) -> None:
    conn = _db(app)
    with pytest.raises(auth.UserError, match="curta"):
        auth.create_user(conn, "joao", "curta", "leitura", 0)
    with pytest.raises(auth.UserError, match="papel"):
        auth.create_user(conn, "joao", "senha-longa-1", "dono", 0)
    with pytest.raises(auth.UserError, match="já existe"):
        auth.create_user(conn, "chefe", "senha-longa-1", "leitura", 0)
    with pytest.raises(auth.UserError, match="inválido"):
        auth.create_user(conn, "<script>", "senha-longa-1", "leitura", 0)


def test_the_cli_creates_lists_changes_and_removes_users(app: Flask) -> None:
    runner = app.test_cli_runner()
    created = runner.invoke(
        args=["usuarios", "criar", "maria", "--papel", "operador", "--senha-stdin"], input="senha-da-maria\n"
    )
    assert created.exit_code == 0, created.output
    assert "Usuário maria criado (operador)." in created.output
    listed = runner.invoke(args=["usuarios", "listar"])
    assert "maria\toperador" in listed.output and "chefe\tadmin" in listed.output
    prompted = runner.invoke(args=["usuarios", "senha", "maria"], input="outra-senha-1\noutra-senha-1\n")
    assert prompted.exit_code == 0, prompted.output
    assert auth.authenticate(_db(app), "maria", "outra-senha-1") is not None
    duplicate = runner.invoke(args=["usuarios", "criar", "maria", "--senha-stdin"], input="senha-da-maria\n")
    assert duplicate.exit_code != 0 and "já existe" in duplicate.output
    removed = runner.invoke(args=["usuarios", "remover", "maria"])
    assert removed.exit_code == 0 and users.find_user(_db(app), "maria") is None
