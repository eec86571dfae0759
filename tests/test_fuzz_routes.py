"""Every route, fed hostile input, answers 4xx at worst — never a 5xx.

The routes come from `app.url_map`, so a new route is fuzzed without touching this file.
Requests come anonymous, from a live admin session (with or without its CSRF token) and
with a right or wrong Bearer token; paths, query strings, headers and bodies (JSON of any
shape and depth, forms, raw bytes) are drawn by hypothesis. The demo routes talk to a
stand-in for the simulator's control endpoint, a real local server.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from flask import Flask, jsonify, request
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.routing import Rule

from outage.adapters.channels.registry import CHANNELS
from outage.adapters.erp import ERPS
from outage.config import load_settings
from outage.db import open_database
from outage.web import auth
from outage.web.app import create_app
from simulator.httpserver import FakeHTTPServer

TOKEN = "token-da-api-para-o-fuzz"
EXAMPLES = 3000
QUERY_KEYS = (
    "limite",
    "pagina",
    "horas",
    "status",
    "conexao",
    "de",
    "ate",
    "formato",
    "proximo",
    "tipo",
    "id",
)
HOSTILE = (
    "²",
    "١٢",
    "-1",
    "0",
    "99999999999999999999",
    "-9999999999999999999",
    str(2**63),
    str(-(2**63) - 1),
    "1e9",
    " 7",
    "=1+1",
    "\x00",
    "/x\r\ny",
    "/x%0d%0ay",
    "/\x07a",
    "𝟗",
    "NaN",
    "9" * 400,
)


def simulator_control() -> Flask:
    """The simulator's control endpoint as other processes see it (`simulator/demo.py`)."""
    app = Flask("controle")

    @app.post("/incidente")
    def incident() -> Any:
        body = request.get_json(silent=True) or {}
        if body.get("tipo") not in ("fiber_cut", "power_outage"):
            return jsonify({"erro": f"tipo desconhecido {body.get('tipo')!r}"}), 400
        return jsonify({"tipo": body["tipo"], "id": 1}), 201

    app.add_url_rule("/incidentes", "incidentes", lambda: jsonify({"incidentes": []}))
    app.add_url_rule("/mensagens", "mensagens", lambda: jsonify({"noc": [], "clientes": []}))
    return app


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    folder: Path = tmp_path_factory.mktemp("fuzz")
    with FakeHTTPServer(simulator_control()) as control:
        env = {
            "DATABASE_PATH": str(folder / "monitor.db"),
            "LOG_DIR": str(folder / "logs"),
            "SECRET_KEY": "k" * 32,
            "OLT_INVENTORY": str(folder / "olts.json"),
            "IXCSOFT_SERVICE_URL": "http://127.0.0.1:9",
            "API_TOKEN": TOKEN,
            "ADMIN_USERNAME": "chefe",
            "ADMIN_PASSWORD": "senha-do-admin-1",
            "DEMO_CONTROL_URL": control.url,
        }
        built, problems = load_settings(env, demo=True, channels=CHANNELS, erps=ERPS)
        assert problems == []
        yield create_app(built)


def admin_cookie(app: Flask) -> tuple[str, str]:
    """A fresh session of the admin (the fuzz may log out) and its CSRF token."""
    conn = open_database(app.config["SETTINGS"].database)
    try:
        token = auth.open_session(conn, "chefe", "127.0.0.1", time.time(), 3600)
        csrf = conn.execute("SELECT csrf FROM sessions ORDER BY created_at DESC LIMIT 1").fetchone()[0]
    finally:
        conn.close()
    signed = app.session_interface.get_signing_serializer(app).dumps({"sid": token})  # type: ignore[attr-defined]
    return signed, str(csrf)


def routes(app: Flask) -> list[tuple[Rule, str]]:
    return sorted(
        (
            (rule, method)
            for rule in app.url_map.iter_rules()
            for method in rule.methods or ()
            if method != "OPTIONS"
        ),
        key=lambda pair: (pair[0].rule, pair[1]),
    )


def deep_json(depth: int) -> str:
    return "[" * depth + "]" * depth


huge_integers = st.sampled_from((2**63, 2**63 - 1, -(2**63) - 1, 10**30, -(10**30)))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | huge_integers | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
texts = st.text(max_size=30) | st.sampled_from(HOSTILE)
bodies = st.one_of(
    st.none(),
    json_values.map(lambda v: ("json", json.dumps(v))),
    st.dictionaries(
        st.sampled_from(("id", "acao", "template", "comentario", "tipo", "decisao_id")),
        json_values,
        max_size=4,
    ).map(lambda v: ("json", json.dumps(v))),
    st.integers(min_value=30, max_value=50_000).map(lambda depth: ("json", deep_json(depth))),
    st.binary(max_size=200).map(lambda raw: ("json", raw)),
    st.dictionaries(
        st.sampled_from(("usuario", "senha", "csrf_token", "tipo", "proximo")), texts, max_size=4
    ).map(lambda form: ("form", form)),
)


@st.composite
def requests_to(draw: st.DrawFn, pairs: list[tuple[Rule, str]]) -> dict[str, Any]:
    rule, method = draw(st.sampled_from(pairs))
    values = {arg: draw(texts.filter(bool)) for arg in rule.arguments}
    path = rule.rule
    for arg, value in values.items():
        path = path.replace(f"<{arg}>", quote(value, safe="")).replace(f"<path:{arg}>", quote(value))
    query = draw(st.dictionaries(st.sampled_from(QUERY_KEYS) | st.text(max_size=6), texts, max_size=4))
    return {
        "method": method,
        "path": path + ("?" + urlencode(query) if query else ""),
        "who": draw(st.sampled_from(("anonimo", "sessao", "sessao-sem-csrf", "token", "token-errado"))),
        "csrf": draw(st.none() | texts),
        "bearer": draw(texts),
        "body": draw(bodies),
    }


def on_the_wire(text: str) -> str:
    """`text` as a header value arrives over HTTP: its UTF-8 bytes read as Latin-1, one line."""
    raw = text.encode("utf-8", "surrogatepass").decode("latin-1")
    return raw.replace("\r", "").replace("\n", "")


def send(client: FlaskClient, app: Flask, case: dict[str, Any]) -> Any:
    headers: dict[str, str] = {}
    if case["who"].startswith("sessao"):
        cookie, csrf = admin_cookie(app)
        client.set_cookie("painel_sessao", cookie)
        if case["who"] == "sessao":
            headers["X-CSRF-Token"] = csrf
    elif case["who"] == "token":
        headers["Authorization"] = f"Bearer {TOKEN}"
    elif case["who"] == "token-errado":
        headers["Authorization"] = "Bearer " + on_the_wire(case["bearer"])
    if case["csrf"] is not None and "X-CSRF-Token" not in headers:
        headers["X-CSRF-Token"] = on_the_wire(case["csrf"])
    kwargs: dict[str, Any] = {"headers": headers}
    if case["body"] is not None:
        kind, payload = case["body"]
        if kind == "json":
            kwargs.update(data=payload, content_type="application/json")
        else:
            kwargs["data"] = payload
    return client.open(case["path"], method=case["method"], **kwargs)


def test_the_fuzzer_sees_every_route(app: Flask) -> None:
    paths = {rule.rule for rule, _ in routes(app)}
    assert {
        "/api/acao",
        "/eventos/<event_id>",
        "/api/demo/incidente",
        "/entrar",
        "/healthz",
        "/metrics",
    } <= paths


def test_no_request_to_any_route_gets_a_5xx(app: Flask) -> None:
    pairs = routes(app)
    client = app.test_client()
    seen: list[int] = []

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(requests_to(pairs))
    def fuzz(case: dict[str, Any]) -> None:
        client.delete_cookie("painel_sessao")
        response = send(client, app, case)
        seen.append(response.status_code)
        assert response.status_code < 500, (case, response.status_code, response.get_data(as_text=True)[:300])
        if (
            response.status_code >= 400
            and response.mimetype == "application/json"
            and case["method"] != "HEAD"
        ):
            assert isinstance(response.get_json().get("erro"), str)

    fuzz()
    assert len(seen) >= EXAMPLES * 0.9
    assert any(code < 300 for code in seen) and any(code >= 400 for code in seen)


def test_a_deeply_nested_body_is_a_400_not_a_crash(app: Flask) -> None:
    cookie, csrf = admin_cookie(app)
    client = app.test_client()
    client.set_cookie("painel_sessao", cookie)
    response = client.post(
        "/api/acao",
        data=deep_json(100_000)[:60_000],
        content_type="application/json",
        headers={"X-CSRF-Token": csrf},
    )
    assert response.status_code == 400 and "erro" in response.get_json()
    nested = client.post(
        "/api/acao", data=deep_json(5_000), content_type="application/json", headers={"X-CSRF-Token": csrf}
    )
    assert nested.status_code == 400


def test_a_body_over_the_limit_is_a_413_in_json(app: Flask) -> None:
    response = app.test_client().post(
        "/api/acao",
        data="x" * 200_000,
        content_type="application/json",
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert response.status_code == 413 and response.get_json() == {"erro": "requisição grande demais"}


@pytest.mark.parametrize(
    "query", ["/eventos?limite=²", "/eventos?pagina=١٢", "/api/ciclos?horas=²", "/api/historico?limite=𝟗"]
)
def test_unicode_digits_are_not_numbers(app: Flask, query: str) -> None:
    response = app.test_client().get(query, headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 400 and "inválido" in response.get_json()["erro"]


def test_a_demo_route_refuses_json_that_is_not_an_object(app: Flask) -> None:
    response = app.test_client().post(
        "/api/demo/incidente",
        data="[1, 2]",
        content_type="application/json",
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert response.status_code == 400 and "objeto JSON" in response.get_json()["erro"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/detalhes/-9999999999999999999", None),
        ("GET", f"/api/detalhes/{2**64}", None),
        ("POST", "/api/acao", {"id": "-99999999999999999999", "acao": "negar"}),
        ("POST", "/api/acao", {"id": 2**64, "acao": "aprovar"}),
        ("POST", "/api/painel/incertos/reenviar", {"decisao_id": 2**63}),
        ("POST", "/api/painel/incertos/reenviar", {"decisao_id": -(2**63) - 1}),
    ],
)
def test_ids_out_of_range_are_a_4xx_in_portuguese(app: Flask, method: str, path: str, body: Any) -> None:
    answer = app.test_client().open(
        path, method=method, json=body, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert 400 <= answer.status_code < 500
    assert answer.get_json()["erro"]


def test_control_characters_in_the_login_redirect_stay_out_of_the_headers(app: Flask) -> None:
    client = app.test_client()
    page = client.get("/entrar?proximo=/x%0d%0ay")
    assert page.status_code == 200 and "/x\r\ny" not in page.get_data(as_text=True)
    cookie, _ = admin_cookie(app)
    client.set_cookie("painel_sessao", cookie)
    answer = client.get("/entrar?proximo=/x%0d%0aSet-Cookie:%20a=b")
    assert answer.status_code in (302, 303) and "\n" not in answer.headers["Location"]
    assert "Set-Cookie" not in answer.headers["Location"]
