"""Fakes of the seed's three middleware services (REFERENCE.md §2, compatibility mode).

- `FakeIxcMiddleware(network)`: `GET /clientes/offline` and `GET /clientes/online`.
- `FakeAlertMiddleware()`: `POST /alerta/telegram` and `POST /alerta/whatsapp`, recording bodies.
- `FakeOltMiddleware(network)`: `POST /consulta/olt`, the cause by majority of the sample.

Each has `fail(kind, count=1)` with kinds `http500`, `html`, `invalid_json`, `slow`, `refuse`
(same meaning as in `simulator.ixc`), `slow_seconds`, and `stop()`/`start()` on the same port.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from typing import Any

from flask import Flask, Response, request

from simulator.ixc import Faults, RestartableServer, error_response
from simulator.network import CAUSE_DYING_GASP, Customer, Network, radusuarios_record

MIDDLEWARE_FAULT_KINDS = ("http500", "html", "invalid_json", "slow", "refuse")

CAUSE_POWER = "energia"
CAUSE_LOS = "loss"
CAUSE_UNKNOWN = "indeterminado"
LOSS_CAUSES = ("LOS", "LOSi/LOBi", "LOFi", "LOBi", "LOSi")


def _json(payload: Any, status: int = 200) -> Response:
    return Response(json.dumps(payload, ensure_ascii=False), status=status, mimetype="application/json")


class _FaultyServer(RestartableServer):
    """A fake whose every route first consults the injected faults (and an optional delay)."""

    def __init__(self, app: Flask) -> None:
        super().__init__(app)
        self.faults = Faults(MIDDLEWARE_FAULT_KINDS)
        self.delay = 0.0
        self.requests_count = 0
        self._count_lock = threading.Lock()

    def fail(self, kind: str, count: int | None = 1) -> None:
        """Inject `kind` (one of `MIDDLEWARE_FAULT_KINDS`) into the next `count` requests."""
        self.faults.add(kind, count)

    def clear_faults(self) -> None:
        self.faults.clear()

    def _fault_response(self) -> Response | None:
        """Apply delay and the next fault; a Response to send instead of the real one, or None."""
        with self._count_lock:
            self.requests_count += 1
        self.sleep(self.delay)
        kind = self.faults.take()
        if kind == "slow":
            self.sleep(self.slow_seconds)
            return None
        return error_response(kind) if kind else None


class FakeIxcMiddleware(_FaultyServer):
    """The seed's IXC service: `{"clientes": [radusuarios rows]}` of active customers by state.

    `/clientes/offline` lists `online == "N"`; `/clientes/online` lists `online == "S"`
    (`SS` and empty are in neither, as the real service filters on `online`).
    """

    def __init__(self, network: Network) -> None:
        self.network = network
        app = Flask(type(self).__name__)
        app.add_url_rule("/clientes/<state>", "clientes", self._clientes, methods=["GET"])
        super().__init__(app)

    def _clientes(self, state: str) -> Response:
        canned = self._fault_response()
        if canned is not None:
            return canned
        if state not in ("offline", "online"):
            return _json({"erro": "rota não encontrada"}, 404)
        with self.network.lock:
            if state == "offline":
                chosen = self.network.offline()
            else:
                chosen = [c for c in self.network.customers if c.online == "S"]
            rows = [radusuarios_record(c) for c in chosen if c.ativo == "S"]
        return _json({"clientes": rows})


class FakeAlertMiddleware(_FaultyServer):
    """The seed's alert service; `received` is a list of `(route, body)` in arrival order."""

    def __init__(self) -> None:
        self.received: list[tuple[str, Any]] = []
        self._received_lock = threading.Lock()
        app = Flask(type(self).__name__)
        app.add_url_rule("/alerta/<channel>", "alerta", self._alerta, methods=["POST"])
        super().__init__(app)

    def _alerta(self, channel: str) -> Response:
        canned = self._fault_response()
        if canned is not None:
            return canned
        if channel not in ("telegram", "whatsapp"):
            return _json({"erro": "canal desconhecido"}, 404)
        body = request.get_json(force=True, silent=True)
        if body is None:
            return _json({"erro": "JSON inválido"}, 400)
        with self._received_lock:
            self.received.append((f"/alerta/{channel}", body))
        return _json({"status": "ok"})

    def bodies(self, channel: str) -> list[Any]:
        """The bodies received on `/alerta/<channel>`."""
        with self._received_lock:
            return [body for route, body in self.received if route == f"/alerta/{channel}"]


def classify_onu(view: dict[str, str]) -> str:
    """`energia` for dying-gasp, `loss` for optical loss, else `indeterminado` (also if online)."""
    if view["run_state"] == "online":
        return CAUSE_UNKNOWN
    cause = view["last_down_cause"]
    if cause == CAUSE_DYING_GASP:
        return CAUSE_POWER
    if cause in LOSS_CAUSES:
        return CAUSE_LOS
    return CAUSE_UNKNOWN


def majority(causes: list[str]) -> str:
    """The cause held by a strict majority (2 of 3), else `indeterminado`."""
    if not causes:
        return CAUSE_UNKNOWN
    cause, votes = Counter(causes).most_common(1)[0]
    return cause if votes * 2 > len(causes) else CAUSE_UNKNOWN


class FakeOltMiddleware(_FaultyServer):
    """The seed's OLT service: asks the network's ONUs and decides by majority.

    `detalhes` has one entry per login: `login`, `id_transmissor`, `olt`, `status`
    (`online`/`offline`/`nao_encontrado`), `causa_olt` (the raw last down cause) and `motivo`.
    """

    def __init__(self, network: Network, delay: float = 0.0) -> None:
        self.network = network
        app = Flask(type(self).__name__)
        app.add_url_rule("/consulta/olt", "consulta", self._consulta, methods=["POST"])
        super().__init__(app)
        self.delay = delay
        self.queries: list[dict[str, Any]] = []

    def _consulta(self) -> Response:
        canned = self._fault_response()
        if canned is not None:
            return canned
        body = request.get_json(force=True, silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("logins"), list):
            return _json({"erro": "informe logins (lista) e id_transmissor"}, 400)
        self.queries.append(body)
        detalhes = [self._detail(str(login)) for login in body["logins"]]
        motivo = majority([d["motivo"] for d in detalhes])
        return _json({"motivo_final": motivo, "detalhes": detalhes})

    def _detail(self, login: str) -> dict[str, str]:
        customer: Customer | None = self.network.by_login.get(login)
        if customer is None:
            return {"login": login, "status": "nao_encontrado", "causa_olt": "", "motivo": CAUSE_UNKNOWN}
        view = self.network.onu_view(customer)
        return {
            "login": login,
            "id_transmissor": view["olt_id"],
            "olt": view["olt"],
            "status": view["run_state"],
            "causa_olt": view["last_down_cause"],
            "motivo": classify_onu(view),
        }
