"""Demo-only routes (registered by `create_app` only when `settings.demo` is true).

- `GET /api/demo/mensagens` → `{"clientes": [{"telefone", "nome", "template", "canal", "quando"}],
  "noc": [{"canal", "texto", "quando"}]}`: what the simulated customers and NOC received
  (read from the fakes' records through the simulator's control endpoint), newest first.
- `POST /api/demo/incidente` `{"tipo": "fiber_cut"}` → starts an incident in the simulator now
  (`fiber_cut`, `power_outage`, `cto_failure`, `concentrator_failure`, `churn`, `flap`).

The simulator runs in the demo process; these routes reach it through `DEMO_CONTROL_URL`,
so they also work from any worker process.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from outage import http
from outage.web.api import error, json_object, requires, settings

bp = Blueprint("demo", __name__)

CONTROL_TIMEOUT = 10.0


def _control(method: str, path: str, **kwargs: Any) -> ResponseReturnValue:
    base = settings().demo_control_url
    if not base:
        return error("simulador da demonstração não configurado (DEMO_CONTROL_URL)", 503)
    try:
        response = http.call(method, base + path, timeout=CONTROL_TIMEOUT, retries=0, **kwargs)
    except http.TransportError as exc:
        return error(f"simulador da demonstração não respondeu: {exc}", 503)
    try:
        body = response.json()
    except ValueError:
        return error("simulador da demonstração respondeu algo que não é JSON", 502)
    return jsonify(body), response.status_code


@bp.get("/api/demo/mensagens")
@requires("leitura")
def messages() -> ResponseReturnValue:
    return _control("GET", "/mensagens")


@bp.get("/api/demo/incidentes")
@requires("leitura")
def incidents() -> ResponseReturnValue:
    return _control("GET", "/incidentes")


@bp.post("/api/demo/incidente")
@requires("operador")
def trigger() -> ResponseReturnValue:
    body = json_object() if request.is_json else {}
    kind = str(body.get("tipo") or request.form.get("tipo") or "fiber_cut")
    return _control("POST", "/incidente", json={"tipo": kind})
