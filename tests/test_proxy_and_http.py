"""Behind a reverse proxy: forwarded headers believed only from `TRUSTED_PROXIES`, so the
login throttle counts the client; a production login over plain HTTP says why it cannot
work and what to do."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from outage.adapters.channels.registry import CHANNELS
from outage.adapters.erp import ERPS
from outage.config import Settings, load_settings
from outage.web.app import create_app
from outage.web.proxies import is_trusted, parse_networks
from tests.test_auth import ADMIN_PASSWORD, ERP, _login_form_token

PROXY = "172.18.0.2"
CLIENT = "198.51.100.7"


def _app(make_settings: Callable[..., Settings], **env: str) -> Flask:
    settings = make_settings(**ERP, ADMIN_USERNAME="chefe", ADMIN_PASSWORD=ADMIN_PASSWORD, **env)
    app = create_app(settings)
    app.config["TESTING"] = True
    return app


class ClientAt(FlaskClient):
    """A test client whose requests go to `base_url` (scheme and host name), from `peer`."""

    def __init__(self, *args: Any, base_url: str, peer: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.base_url = base_url
        self.environ_base["REMOTE_ADDR"] = peer

    def open(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("base_url", self.base_url)
        return super().open(*args, **kwargs)


def _client(app: Flask, peer: str, base_url: str = "http://painel.provedor.com.br") -> FlaskClient:
    app.test_client_class = ClientAt
    return app.test_client(base_url=base_url, peer=peer)


def _throttle_keys(app: Flask) -> list[str]:
    conn = sqlite3.connect(app.config["SETTINGS"].database)
    try:
        return [row[0] for row in conn.execute("SELECT key FROM login_throttle ORDER BY key")]
    finally:
        conn.close()


def _wrong_login(client: FlaskClient, headers: dict[str, str]) -> int:
    token = _login_form_token(client)
    answer = client.post(
        "/entrar", data={"usuario": "chefe", "senha": "errada-123", "csrf_token": token}, headers=headers
    )
    return answer.status_code


FORWARDED = {"X-Forwarded-For": f"203.0.113.66, {CLIENT}", "X-Forwarded-Proto": "https"}


def test_a_listed_proxy_tells_the_clients_address_to_the_login_throttle(make_settings) -> None:
    app = _app(make_settings, TRUSTED_PROXIES=f"127.0.0.1, {PROXY}")
    client = _client(app, PROXY)
    client.environ_base.update({"HTTP_X_FORWARDED_FOR": FORWARDED["X-Forwarded-For"]})
    client.environ_base.update({"HTTP_X_FORWARDED_PROTO": "https"})
    assert _wrong_login(client, {}) == 401
    assert _throttle_keys(app) == [f"ip:{CLIENT}", f"par:chefe|{CLIENT}", "usuario:chefe"]


def test_forwarded_headers_from_an_unlisted_peer_are_ignored_and_logged_once(
    make_settings, caplog: pytest.LogCaptureFixture
) -> None:
    app = _app(make_settings, TRUSTED_PROXIES="127.0.0.1")
    client = _client(app, PROXY)
    client.environ_base.update({"HTTP_X_FORWARDED_FOR": CLIENT, "HTTP_X_FORWARDED_PROTO": "https"})
    with caplog.at_level(logging.WARNING, logger="outage.web.proxies"):
        assert _wrong_login(client, {}) == 401
        assert _wrong_login(client, {}) == 401
    assert _throttle_keys(app) == [f"ip:{PROXY}", f"par:chefe|{PROXY}", "usuario:chefe"]
    warnings = [r.getMessage() for r in caplog.records if r.name == "outage.web.proxies"]
    assert len(warnings) == 1 and PROXY in warnings[0] and "TRUSTED_PROXIES" in warnings[0]


def test_without_trusted_proxies_nobody_can_choose_the_address_the_throttle_counts(make_settings) -> None:
    app = _app(make_settings)
    client = _client(app, CLIENT)
    client.environ_base["HTTP_X_FORWARDED_FOR"] = "10.9.9.9"
    _wrong_login(client, {})
    assert all("10.9.9.9" not in key for key in _throttle_keys(app))


@pytest.mark.parametrize(
    ("peer", "listed", "trusted"),
    [
        ("127.0.0.1", "127.0.0.1", True),
        ("::ffff:172.18.0.9", "172.18.0.0/16", True),
        ("::1", "::1", True),
        ("172.19.0.9", "172.18.0.0/16", False),
        ("não-é-ip", "0.0.0.0/0", False),
    ],
)
def test_a_peer_is_trusted_only_inside_a_listed_network(peer: str, listed: str, trusted: bool) -> None:
    assert is_trusted(peer, parse_networks([listed])) is trusted


def test_trusted_proxies_and_the_cookie_setting_are_checked_with_a_hint() -> None:
    _, problems = load_settings(
        {
            **ERP,
            "SECRET_KEY": "k" * 32,
            "TRUSTED_PROXIES": "127.0.0.1, proxy.local",
            "SESSION_COOKIE_SECURE": "x",
        },
        channels=CHANNELS,
        erps=ERPS,
    )
    assert any("TRUSTED_PROXIES" in p and "proxy.local" in p and "172.18.0.0/16" in p for p in problems)
    assert any("SESSION_COOKIE_SECURE" in p and "auto" in p for p in problems)


def test_a_production_login_page_over_plain_http_says_https_is_needed(make_settings) -> None:
    app = _app(make_settings)
    page = _client(app, CLIENT).get("/entrar").get_data(as_text=True)
    assert 'id="login-aviso-http"' in page and "só mantém a sessão por HTTPS" in page
    assert "APP_ENV=development" in page


def test_the_notice_is_not_shown_where_browsers_keep_the_secure_cookie(make_settings) -> None:
    app = _app(make_settings, TRUSTED_PROXIES=PROXY)
    local = _client(app, "127.0.0.1", "http://127.0.0.1:5010").get("/entrar").get_data(as_text=True)
    behind_proxy = _client(app, PROXY)
    behind_proxy.environ_base.update({"HTTP_X_FORWARDED_PROTO": "https", "HTTP_X_FORWARDED_FOR": CLIENT})
    proxied = behind_proxy.get("/entrar").get_data(as_text=True)
    assert "login-aviso-http" not in local
    assert "login-aviso-http" not in proxied


def test_a_proxy_missing_from_the_list_does_not_make_the_page_ask_for_https(make_settings) -> None:
    app = _app(make_settings)
    client = _client(app, PROXY)
    client.environ_base.update({"HTTP_X_FORWARDED_PROTO": "https", "HTTP_X_FORWARDED_FOR": CLIENT})
    assert "login-aviso-http" not in client.get("/entrar").get_data(as_text=True)


def test_a_login_whose_cookie_never_came_back_over_http_is_refused_with_the_reason(make_settings) -> None:
    app = _app(make_settings)
    token = _login_form_token(_client(app, CLIENT))
    browser = _client(app, CLIENT)  # over HTTP the browser dropped the Secure cookie
    answer = browser.post("/entrar", data={"usuario": "chefe", "senha": ADMIN_PASSWORD, "csrf_token": token})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert "Login recusado" in page and "https://" in page
    assert "Sessão expirada" not in page


def test_an_expired_form_over_https_still_says_the_session_expired(make_settings) -> None:
    app = _app(make_settings)
    client = _client(app, CLIENT, "https://painel.provedor.com.br")
    _login_form_token(client)
    answer = client.post("/entrar", data={"usuario": "chefe", "senha": ADMIN_PASSWORD, "csrf_token": "velho"})
    assert answer.status_code == 400
    assert "Sessão expirada" in answer.get_data(as_text=True)


def test_development_takes_logins_over_plain_http_for_a_lan_trial(make_settings) -> None:
    app = _app(make_settings, APP_ENV="development")
    client = _client(app, CLIENT)
    assert "login-aviso-http" not in client.get("/entrar").get_data(as_text=True)
    token = _login_form_token(client)
    answer = client.post("/entrar", data={"usuario": "chefe", "senha": ADMIN_PASSWORD, "csrf_token": token})
    assert answer.status_code == 302
    assert client.get("/painel/").status_code == 200
