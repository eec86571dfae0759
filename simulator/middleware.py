"""Fakes of the original monitor's three services (compatibility mode), as
their code behaves -- not as their READMEs say.

- `FakeIxcMiddleware(network)`: `GET /clientes/offline` and `GET /clientes/online`, seven
  fields per client. When IXC fails the original still answers HTTP 200 with the list it had
  so far: faults `ixc_down` (`{"clientes": []}`) and `ixc_partial` (the first third).
- `FakeAlertMiddleware()`: `POST /alerta/telegram` and `POST /alerta/whatsapp`. It calls
  `cliente.get("login")` on every listed client (a string makes it answer HTTP 500), writes
  the Telegram Markdown the original writes and checks it as Telegram would (entities
  closed, at most 4,096 characters); a refusal, or the faults `telegram_down` /
  `telegram_rejects`, comes back as HTTP 200 `[{"error": ...}, 500]`. An empty list answers
  200 "Nenhum cliente para alertar" and sends nothing. WhatsApp goes to each number of
  `destinations`; faults `whatsapp_down` (every number fails) and `whatsapp_partial` (all
  but the first) come back inside HTTP 200 too.
- `FakeOltMiddleware(network)`: `POST /consulta/olt`, the cause by majority of the sample.

Every request body that arrives is kept in `received`; what reached Telegram or WhatsApp in
`telegram_texts` / `whatsapp_sent`. Each fake has `fail(kind, count=1)` with kinds
`http500`, `html`, `invalid_json`, `slow`, `refuse` (as in `simulator.ixc`) plus its own,
`slow_seconds`, and `stop()`/`start()` on the same port.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Sequence
from typing import Any

from flask import Flask, Response, request

from simulator.ixc import Faults, RestartableServer, error_response
from simulator.network import CAUSE_DYING_GASP, Customer, Network, radusuarios_record

MIDDLEWARE_FAULT_KINDS = ("http500", "html", "invalid_json", "slow", "refuse")
IXC_FAULT_KINDS = (*MIDDLEWARE_FAULT_KINDS, "ixc_down", "ixc_partial")
ALERT_FAULT_KINDS = (
    *MIDDLEWARE_FAULT_KINDS,
    "telegram_down",
    "telegram_rejects",
    "whatsapp_down",
    "whatsapp_partial",
)
SEED_IXC_FIELDS = (
    "id_cliente",
    "login",
    "conexao",
    "ultima_conexao_final",
    "id_transmissor",
    "latitude",
    "longitude",
)
SERVICE_MAX_CLIENTS = 50
TELEGRAM_LIMIT = 4096
TELEGRAM_URL = "https://api.telegram.org/bot123456:SEGREDO/sendMessage"
NOTHING_SENT = "Nenhum cliente para alertar"

CAUSE_POWER = "energia"
CAUSE_LOS = "loss"
CAUSE_UNKNOWN = "indeterminado"
LOSS_CAUSES = ("LOS", "LOSi/LOBi", "LOFi", "LOBi", "LOSi")


def _json(payload: Any, status: int = 200) -> Response:
    return Response(json.dumps(payload, ensure_ascii=False), status=status, mimetype="application/json")


class _FaultyServer(RestartableServer):
    """A fake whose every route first consults the injected faults (and an optional delay)."""

    def __init__(self, app: Flask, kinds: Sequence[str] = MIDDLEWARE_FAULT_KINDS) -> None:
        super().__init__(app)
        self.faults = Faults(kinds)
        self.delay = 0.0
        self.requests_count = 0
        self._count_lock = threading.Lock()

    def fail(self, kind: str, count: int | None = 1) -> None:
        """Inject `kind` (one of this fake's kinds) into the next `count` requests."""
        self.faults.add(kind, count)

    def clear_faults(self) -> None:
        self.faults.clear()

    def _next_fault(self) -> tuple[Response | None, str | None]:
        """Apply delay and the next fault: (a canned transport answer, or the fault kind the
        route itself must act out)."""
        with self._count_lock:
            self.requests_count += 1
        self.sleep(self.delay)
        kind = self.faults.take()
        if kind == "slow":
            self.sleep(self.slow_seconds)
            return None, None
        canned = error_response(kind) if kind else None
        return canned, None if canned is not None else kind


class FakeIxcMiddleware(_FaultyServer):
    """The original IXC service: `{"clientes": [seven fields]}` of active customers by state.

    `/clientes/offline` lists `online == "N"`; `/clientes/online` lists `online == "S"`
    (`SS` and empty are in neither, as the real service filters on `online`).
    """

    def __init__(self, network: Network) -> None:
        self.network = network
        app = Flask(type(self).__name__)
        app.add_url_rule("/clientes/<state>", "clientes", self._clientes, methods=["GET"])
        super().__init__(app, IXC_FAULT_KINDS)

    def _clientes(self, state: str) -> Response:
        canned, kind = self._next_fault()
        if canned is not None:
            return canned
        if state not in ("offline", "online"):
            return _json({"erro": "rota não encontrada"}, 404)
        if kind == "ixc_down":
            return _json({"clientes": []})
        with self.network.lock:
            if state == "offline":
                chosen = self.network.offline()
            else:
                chosen = [c for c in self.network.customers if c.online == "S"]
            rows = [_original_record(c) for c in chosen if c.ativo == "S"]
        if kind == "ixc_partial":
            rows = rows[: len(rows) // 3]
        return _json({"clientes": rows})


def _original_record(customer: Customer) -> dict[str, str]:
    full = radusuarios_record(customer)
    return {name: full[name] for name in SEED_IXC_FIELDS}


class FakeAlertMiddleware(_FaultyServer):
    """The original alert service; see the module docstring."""

    def __init__(self, destinations: Sequence[str] = ("5511900000002",)) -> None:
        self.destinations = list(destinations)
        self.received: list[tuple[str, Any]] = []
        self.telegram_texts: list[str] = []
        self.whatsapp_sent: list[dict[str, Any]] = []
        self._received_lock = threading.Lock()
        app = Flask(type(self).__name__)
        app.add_url_rule("/alerta/telegram", "telegram", self._telegram, methods=["POST"])
        app.add_url_rule("/alerta/whatsapp", "whatsapp", self._whatsapp, methods=["POST"])
        super().__init__(app, ALERT_FAULT_KINDS)

    def bodies(self, channel: str) -> list[Any]:
        """The bodies received on `/alerta/<channel>`."""
        with self._received_lock:
            return [body for route, body in self.received if route == f"/alerta/{channel}"]

    def _arrived(self, route: str) -> tuple[Response | None, str | None, Any]:
        canned, kind = self._next_fault()
        if canned is not None:
            return canned, None, None
        body = request.get_json(force=True, silent=True)
        if not isinstance(body, dict):  # the original's `data.get(...)` raises: Flask answers 500
            return Response("<h1>Internal Server Error</h1>", status=500, mimetype="text/html"), None, None
        with self._received_lock:
            self.received.append((route, body))
        return None, kind, body

    def _telegram(self) -> Response:
        canned, kind, body = self._arrived("/alerta/telegram")
        if canned is not None:
            return canned
        clientes = body.get("clientes", [])
        if not clientes:
            return _json({"message": NOTHING_SENT})
        listed = clientes if len(clientes) <= SERVICE_MAX_CLIENTS else clientes[:SERVICE_MAX_CLIENTS]
        if not all(isinstance(c, dict) for c in listed):  # `cliente.get("login")` on a str
            return Response("<h1>Internal Server Error</h1>", status=500, mimetype="text/html")
        text = original_markdown(
            clientes, body.get("status"), body.get("conexao"), body.get("mensagem_personalizada")
        )
        problem = {"telegram_down": "connection", "telegram_rejects": "400"}.get(
            kind or ""
        ) or markdown_error(text)
        if problem == "connection":
            error = "HTTPSConnectionPool(host='api.telegram.org', port=443): Max retries exceeded"
            return _json([{"error": error}, 500])
        if problem:
            return _json([{"error": f"400 Client Error: Bad Request for url: {TELEGRAM_URL}"}, 500])
        with self._received_lock:
            self.telegram_texts.append(text)
        return _json({"message": "Alerta enviado com sucesso no Telegram"})

    def _whatsapp(self) -> Response:
        canned, kind, body = self._arrived("/alerta/whatsapp")
        if canned is not None:
            return canned
        params = [
            str(body.get("total_clientes")),
            body.get("conexao"),
            body.get("motivo_final") or body.get("motivo"),
        ]
        answers = []
        for n, number in enumerate(self.destinations):
            if kind == "whatsapp_down" or (kind == "whatsapp_partial" and n > 0):
                answers.append({"destination": number, "error": "503 Server Error: Service Unavailable"})
                continue
            with self._received_lock:
                self.whatsapp_sent.append({"destination": number, "params": params})
            answers.append({"destination": number, "message": "Enviado com sucesso"})
        return _json(answers)


def original_markdown(clientes: list[Any], status: Any, conexao: Any, custom: Any) -> str:
    """The Telegram text the original alert service writes (its code, line by line)."""
    total = len(clientes)
    if custom:
        text = f"{custom}\n"
    elif status == "offline":
        text = f"🚨 *Alerta: {total} clientes offline detectados na conexão {conexao}.*\n"
    elif status == "online":
        text = f"✅ *Alerta: Todos os clientes voltaram a ficar online na conexão {conexao}.*\n"
    else:
        text = f"*Alerta: {total} clientes com status desconhecido na conexão {conexao}.*\n"
    if total > SERVICE_MAX_CLIENTS:
        text += "Listando alguns clientes:\n"
    for cliente in clientes[:SERVICE_MAX_CLIENTS]:
        text += f"- *Login:* `{cliente.get('login', 'N/A')}`\n"
        text += f"  *Última conexão:* {cliente.get('ultima_conexao_final', 'N/A')}\n"
    if total > SERVICE_MAX_CLIENTS:
        text += f"... e mais {total - SERVICE_MAX_CLIENTS} clientes."
    return text


def markdown_error(text: str) -> str | None:
    """Telegram's complaint about a legacy-Markdown text, or None when it would be accepted.

    Entities `*bold*`, `_italic_`, `` `code` ``, ```` ```pre``` ```` and `[text](url)` must be
    closed and are not nested; `\\` escapes `_ * ` [` outside them.
    """
    shown = 0
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text) and text[i + 1] in "_*`[":
            shown += 1
            i += 2
            continue
        if char in "*_`[":
            closing = {"*": "*", "_": "_", "`": "`", "[": "]"}[char]
            opener = "```" if text.startswith("```", i) else char
            end = text.find("```" if opener == "```" else closing, i + len(opener))
            if end < 0:
                return f"Bad Request: can't parse entities: Can't find end of the entity starting at byte offset {i}"
            shown += len(text[i + len(opener) : end])
            i = end + len(opener if opener == "```" else closing)
            continue
        shown += len(char.encode("utf-16-le")) // 2
        i += 1
    return "Bad Request: message is too long" if shown > TELEGRAM_LIMIT else None


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
    """The original monitor's OLT service: asks the network's ONUs and decides by majority.

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
        canned, _ = self._next_fault()
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
