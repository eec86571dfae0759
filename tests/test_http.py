"""The one HTTP helper: timeouts, retries, proxies read once, secrets redacted, JSON bodies."""

from __future__ import annotations

import pytest
from flask import Flask, Response

from outage.http import TransportError, call, decode_json, new_session, redact, register_secret
from simulator.httpserver import FakeHTTPServer


@pytest.fixture
def server():
    app = Flask(__name__)
    app.add_url_rule("/ok", "ok", lambda: "ok")
    bodies = {
        "utf8": ('{"nome": "João", "id": 9007199254740993}'.encode(), "application/json"),
        "latin1": ('{"nome": "João"}'.encode("latin-1"), "text/html; charset=ISO-8859-1"),
        "bare": ('{"nome": "João"}'.encode(), "text/html"),
        "html": (b"<h1>Erro</h1>", "text/html"),
        "unknown": (b"{}", "application/json; charset=x-nada"),
    }
    for name, (body, kind) in bodies.items():
        app.add_url_rule(f"/{name}", name, lambda body=body, kind=kind: Response(body, content_type=kind))
    with FakeHTTPServer(app) as running:
        yield running


def test_a_proxy_from_the_environment_is_used(monkeypatch, server):
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with pytest.raises(TransportError):
        call("GET", f"{server.url}/ok", session=new_session(), retries=0, timeout=2)


def test_no_proxy_is_honoured(monkeypatch, server):
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    response = call("GET", f"{server.url}/ok", session=new_session(), retries=0, timeout=2)
    assert response.text == "ok"


def test_without_proxies_calls_go_straight(monkeypatch, server):
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    assert call("GET", f"{server.url}/ok", session=new_session(), retries=0).text == "ok"


def test_a_refused_connection_is_a_transient_failure():
    with pytest.raises(TransportError) as failure:
        call("GET", "http://127.0.0.1:9/", session=new_session(), retries=1, backoff=0.01, timeout=1)
    assert failure.value.permanent is False


def test_secrets_are_redacted_from_messages():
    register_secret("8:k4n8wkSEGREDO")
    text = "POST https://api.telegram.org/bot123456:ABC/sendMessage Authorization: Bearer xyz 8:k4n8wkSEGREDO"
    cleaned = redact(text)
    assert "123456:ABC" not in cleaned and "xyz" not in cleaned and "k4n8wkSEGREDO" not in cleaned


def test_json_is_utf8_unless_the_answer_declares_another_charset(server):
    def body(name: str) -> object:
        return decode_json(call("GET", f"{server.url}/{name}", session=new_session(), retries=0))

    assert body("utf8") == {"nome": "João", "id": 9007199254740993}
    assert body("latin1") == {"nome": "João"}
    assert body("bare") == {"nome": "João"}  # text/html without a charset: JSON's own UTF-8
    for broken in ("html", "unknown"):
        with pytest.raises(ValueError):
            body(broken)
