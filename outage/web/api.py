"""The REST API: events (`monitor_service`'s `/eventos/ativos` and more) and `/healthz`, plus the
web helpers every blueprint shares (database per request, guards, parsing, errors).

Errors are JSON in Portuguese, `{"erro": "..."}`: 4xx for anything the client sent,
503 when the database cannot take the request (full disk, a lock held too long) — bad
input never gives a 5xx. Everything that shows a customer needs a dashboard session or
`Authorization: Bearer <token>`, always; only `monitor_service`'s read-only lists (`GET
/eventos/ativos`, `GET /eventos`) stay open while no API token is configured, as the
original had them (see `outage.web.auth`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict
from datetime import datetime
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import HTTPException

from outage import heartbeat, lease
from outage.clock import SYSTEM_CLOCK, Clock
from outage.config import Settings
from outage.core.localtime import LOCAL_TZ
from outage.db import (
    Connection,
    DatabaseError,
    OperationalError,
    Record,
    connect,
    describe_failure,
    storage_problems,
)
from outage.storage import cycles, incidents, outbox
from outage.storage.incidents import EventFilter

log = logging.getLogger(__name__)
bp = Blueprint("api", __name__)
F = TypeVar("F", bound=Callable[..., Any])

MAX_LIMIT = 500
MAX_BODY_BYTES = 64 * 1024  # the largest legitimate body (a decision with its comment) is ~1 KB
MAX_JSON_DEPTH = 32
# An active event without any change (drop, return, cause) for this long is stuck: typically
# logins left without a status (`SS`) in the ERP, which the monitor can never see come back.
# Only then do the dashboard's operators get the button to close it by hand.
STUCK_AFTER = 3600.0
_ASCII_INT = re.compile(r"[0-9]{1,9}")
_EPOCH = re.compile(r"[0-9]{1,11}(\.[0-9]{1,9})?")
_HTTP_MESSAGES = {
    400: "requisição inválida",
    401: "autenticação necessária",
    403: "acesso negado",
    404: "recurso não encontrado",
    405: "método não permitido",
    406: "formato de resposta não disponível",
    408: "tempo esgotado ao receber a requisição",
    409: "conflito com o estado atual",
    411: "informe o tamanho do corpo (Content-Length)",
    412: "pré-condição não atendida",
    413: "requisição grande demais",
    414: "endereço grande demais",
    415: "tipo de conteúdo não suportado",
    416: "intervalo não disponível",
    422: "conteúdo inválido",
    428: "pré-condição necessária",
    429: "muitas requisições: tente novamente em instantes",
    431: "cabeçalhos grandes demais",
}


class ApiError(Exception):
    """A request refused with `status` and a message in Portuguese (`{"erro": message}`)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def settings() -> Settings:
    return cast(Settings, current_app.config["SETTINGS"])


def clock() -> Clock:
    """The app's clocks (`app.config["CLOCK"]`; tests inject their own)."""
    return cast(Clock, current_app.config.get("CLOCK", SYSTEM_CLOCK))


def get_db() -> Connection:
    """One connection per request, closed at teardown."""
    if "db" not in g:
        g.db = connect(settings().database)
    return cast(Connection, g.db)


def close_db(_: BaseException | None = None) -> None:
    db = g.pop("db", None)
    if db is not None:
        db.close()


def error(message: str, status: int) -> tuple[Response, int]:
    return jsonify({"erro": message}), status


def requires(role: str, *, open_without_token: bool = False) -> Callable[[F], F]:
    """Guard a view: `leitura` < `operador` < `admin`, by dashboard session or Bearer token.

    `app.config["AUTH_CHECK"]` (installed by `outage.web.auth`) decides; without it every
    guarded route is refused. `open_without_token` lets anonymous readers in while no API
    token is configured — only for `monitor_service`'s own read-only routes. `current_user()`
    then names who acted.
    """

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            check = current_app.config.get("AUTH_CHECK")
            if check is None:
                return error("autenticação não configurada", 401)
            denied = check(role, open_without_token=open_without_token)
            if denied is not None:
                return denied
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorator


requires_reader = requires("leitura")


def allowed(role: str) -> bool:
    """Whether this request's session or token has `role` (no refusal is sent)."""
    check = current_app.config.get("AUTH_CHECK")
    return check is not None and check(role) is None


def current_user() -> str:
    """Who is acting: the dashboard user, `api` for a Bearer token, `anonimo` on open routes."""
    return str(g.get("user", "anonimo"))


def same_secret(sent: str, expected: str) -> bool:
    """Constant-time comparison of two texts of any characters (never raises)."""
    return hmac.compare_digest(
        sent.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass")
    )


def bearer_ok() -> bool:
    token = settings().api_token
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return bool(token) and scheme.lower() == "bearer" and same_secret(value.strip(), token)


def int_arg(args: Mapping[str, str], name: str, default: int, minimum: int, maximum: int) -> int:
    """The query parameter `name` as an integer in [minimum, maximum]: ASCII digits only
    (`²` or `١` are not numbers here); `ApiError` 400 otherwise; `default` when absent."""
    value = args.get(name)
    if value is None or value == "":
        return default
    if not _ASCII_INT.fullmatch(value) or not minimum <= int(value) <= maximum:
        raise ApiError(f"{name} inválido: use um número inteiro entre {minimum} e {maximum}")
    return int(value)


class LimitedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, refusing bodies larger than `MAX_BODY_BYTES` or nested deeper than
    `MAX_JSON_DEPTH` as invalid JSON (`ValueError`, so `get_json(silent=True)` gives None)."""

    sort_keys = False

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        if len(s) > MAX_BODY_BYTES:
            raise ValueError("JSON grande demais")
        try:
            value = json.loads(s, **kwargs)
        except RecursionError as exc:
            raise ValueError("JSON aninhado demais") from exc
        if _nested_deeper(value, MAX_JSON_DEPTH):
            raise ValueError("JSON aninhado demais")
        return value


def _nested_deeper(value: Any, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def json_object() -> dict[str, Any]:
    """The request's JSON object, or `ApiError` 400 for anything else (invalid, too deep,
    an array, a string...)."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError("corpo inválido: envie um objeto JSON")
    return body


class _ActiveEventsCache:
    """The last `/eventos/ativos` body of this process, keyed by what can change it.

    Dashboards poll this route every few seconds while the list changes once per cycle:
    the body is rebuilt only when a cycle, a cause or an operator changed the events (the
    key below), or after `MAX_AGE` seconds so `duracao` stays fresh.
    """

    MAX_AGE = 5.0

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entry: tuple[tuple[Any, ...], float, bytes, str] | None = None

    def get(self, key: tuple[Any, ...]) -> tuple[bytes, str] | None:
        with self._lock:
            entry = self._entry
        if entry is None or entry[0] != key or time.monotonic() - entry[1] > self.MAX_AGE:
            return None
        return entry[2], entry[3]

    def put(self, key: tuple[Any, ...], body: bytes) -> str:
        etag = hashlib.sha256(body).hexdigest()[:32]
        with self._lock:
            self._entry = (key, time.monotonic(), body, etag)
        return etag


_active_cache = _ActiveEventsCache()


@bp.get("/eventos/ativos")
@requires("leitura", open_without_token=True)
def active_events() -> Response:
    db = get_db()
    key = incidents.active_events_version(db)
    cached = _active_cache.get(key)
    if cached is None:
        rows = incidents.active_events(db)
        body = json.dumps({"eventos_ativos": serialize_events(db, rows)}, ensure_ascii=False).encode()
        cached = body, _active_cache.put(key, body)
    body, etag = cached
    response = Response(body, mimetype="application/json")
    response.set_etag(etag)
    response.make_conditional(request)
    return response


@bp.get("/eventos")
@requires("leitura", open_without_token=True)
def events() -> Response:
    wanted, limit, page = _event_filters(request.args)
    db = get_db()
    total, rows = incidents.find_events(db, wanted, limit, (page - 1) * limit)
    return jsonify({"eventos": serialize_events(db, rows), "total": total, "pagina": page, "limite": limit})


@bp.get("/eventos/<event_id>")
@requires_reader
def event_detail(event_id: str) -> Response | tuple[Response, int]:
    db = get_db()
    row = incidents.event_row(db, event_id)
    if row is None:
        return error("evento não encontrado", 404)
    event = serialize_events(db, [row])[0]
    back = incidents.reconnections(db, event_id)
    event["clientes"] = [
        {**asdict(sub), "caiu_em": dropped_at, "reconectou_em": back.get(sub.login)}
        for sub, dropped_at in incidents.event_subscribers(db, event_id)
    ]
    event["alertas"] = outbox.alerts_of_event(db, event_id)
    event["alertas_retidos"] = incidents.held_alerts(db, event_id)
    return jsonify(event)


@bp.post("/eventos/<event_id>/resolver")
@requires("operador")
def resolve_event(event_id: str) -> Response | tuple[Response, int]:
    """Close an event by hand (its logins stuck in an unknown status, for one)."""
    from outage.adapters.channels.registry import configured_channels
    from outage.monitor import resolve_by_operator

    try:
        resolve_by_operator(get_db(), event_id, current_user(), time.time(), configured_channels(settings()))
    except KeyError:
        return error("evento não encontrado", 404)
    except ValueError:
        return error("o evento já está resolvido", 409)
    return event_detail(event_id)


def serialize_events(db: Connection, rows: list[Record]) -> list[dict[str, Any]]:
    """Events as the API shows them: `monitor_service`'s fields first, then ours."""
    ids = [row["id"] for row in rows]
    back = incidents.returned_logins(db, ids)
    held = incidents.held_openings(db, ids)
    now = time.time()
    result = []
    for row in rows:
        logins = json.loads(row["logins"])
        end = row["resolvido_em"] or now
        stragglers = json.loads(row["retardatarios"])
        returned = back[row["id"]]
        result.append(
            {
                "id": row["id"],
                "conexao": row["conexao"],
                "timestamp": row["timestamp"],
                "status": row["status"],
                "logins": logins,
                "motivo": row["motivo"],
                "causa_explicacao": row["causa_explicacao"],
                "causas": json.loads(row["causas"] or "[]"),
                "relacionado": row["relacionado"] or None,
                "origem": row["origem"],
                "percebido_em_s": round(row["timestamp"] - row["primeira_queda"], 1)
                if row["primeira_queda"] is not None
                else None,
                "causa_status": row["causa_status"],
                "local": row["local"],
                "local_detalhe": json.loads(row["local_detalhe"]),
                "evidencias": json.loads(row["evidencias"]),
                "votos": json.loads(row["votos"]),
                "escopo": row["escopo"],
                "total_logins": len(logins),
                "logins_offline": (
                    [login for login in logins if login not in returned]
                    if row["status"] == "ativo"
                    else stragglers
                ),
                "logins_de_volta": sorted(returned),
                "retardatarios": stragglers,
                "inicio_queda": row["primeira_queda"],
                "recorrencia": row["recorrencia"],
                "resolvido_em": row["resolvido_em"],
                "resolvido_por": row["resolvido_por"],
                "duracao": round(
                    max(0.0, end - row["timestamp"]), 1
                ),  # never negative, whatever the clock did
                "atualizado_em": row["atualizado_em"],
                "preso": row["status"] == "ativo" and now - row["atualizado_em"] >= STUCK_AFTER,
                "alerta_suprimido": held.get(row["id"]) if not row["aviso"] else None,
            }
        )
    return result


def _event_filters(args: Any) -> tuple[EventFilter, int, int]:
    status = args.get("status") or None
    if status and status not in {"ativo", "resolvido"}:
        raise ApiError("status inválido: use ativo ou resolvido")
    since, until = (
        _parse_time(name, args[name], end_of_day=name == "ate") if args.get(name) else None
        for name in ("desde", "ate")
    )
    limit = int_arg(args, "limite", 50, 1, MAX_LIMIT)
    page = int_arg(args, "pagina", 1, 1, 1_000_000)
    return EventFilter(status, args.get("conexao") or None, since, until), limit, page


def _parse_time(name: str, value: str, *, end_of_day: bool) -> float:
    """Epoch seconds (ASCII digits), or an ISO date/datetime in America/Sao_Paulo."""
    if _EPOCH.fullmatch(value):
        return float(value)
    try:
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=LOCAL_TZ)
        stamp = parsed.timestamp()
    except (ValueError, OverflowError, OSError) as exc:
        raise ApiError(f"{name} inválido: use AAAA-MM-DD, AAAA-MM-DDTHH:MM ou segundos desde 1970") from exc
    return stamp + 86_399.999 if end_of_day and len(value) == 10 else stamp


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """200 while the poller's last good cycle ended within 3 x CHECK_INTERVAL, no cycle has
    run longer than that, and alerts are being delivered; else 503 with `problemas` (and
    why the database cannot take writes, when that is the reason).

    Ages come from the poller's heartbeat on the monotonic clock, so a wall-clock jump
    either way neither fakes nor hides a stall. Anyone gets the verdict; the details (last
    cycle, its error, the alert queue) need a session or the token.
    """
    s = settings()
    limit = 3.0 * s.check_interval
    try:
        db = get_db()
        verdict, details = _poller_health(db, limit)
        outbox_check = current_app.config.get("OUTBOX_HEALTH")
        if outbox_check is not None:
            report = outbox_check(db, clock().wall(), s.check_interval)
            details["alertas"] = report
            if not report.get("healthy", True):
                verdict.problems.append("há alertas sem entrega há mais de 3 ciclos")
        if s.alarms.enabled:
            details["alarmes"] = heartbeat.read_alarms(db, clock())
    except DatabaseError as exc:
        log.error(
            "healthz: banco de dados indisponível: %s (%s)",
            describe_failure(exc, settings().database),
            exc,
        )
        problems = [f"banco de dados indisponível: {describe_failure(exc, settings().database)}"]
        return jsonify({"status": "erro", "problemas": problems}), 503
    problems = verdict.problems
    if problems:
        problems += storage_problems(s.database)
    body: dict[str, Any] = {"status": "erro" if problems else verdict.status}
    if problems:
        body["problemas"] = problems
    if allowed("leitura"):
        body.update(details)
    return jsonify(body), 503 if problems else 200


def _poller_health(db: Connection, limit: float) -> tuple[heartbeat.Verdict, dict[str, Any]]:
    """The heartbeat's verdict and the details shown to logged-in callers."""
    c = clock()
    beat = cycles.read_beat(db)
    since_ok = heartbeat.since_last_ok(db, beat, c)
    running_for = heartbeat.ages(beat, c).running_for
    uptime = c.monotonic() - float(current_app.config.get("STARTED_MONO", c.monotonic()))
    details: dict[str, Any] = {
        "ultimo_ciclo_ok": cycles.last_ok_finished_at(db),
        "ultimo_ciclo": cycles.last_cycle(db),
        "segundos_desde_ultimo_ciclo_ok": None if since_ok is None else round(since_ok, 1),
        "ciclo_em_andamento_ha": None if running_for is None else round(running_for, 1),
        "ultimo_erro": beat.last_error if beat is not None else None,
        "instancia": _instance(db),
    }
    return heartbeat.assess(since_ok, running_for, uptime, limit), details


def _instance(db: Connection) -> dict[str, Any]:
    """Which instance polls and what this one is: `esta` (this process's lease holder id, or
    instance:pid where no background service runs), `nome` (INSTANCE_NAME), `ativa` (the
    holder of a lease still in its term, None between a crash and the takeover), `papel`
    (`ativa` when the holder is a process of this instance -- any gunicorn worker of it --,
    else `reserva`) and `lease_vence_em_s` (seconds left in the holder's term)."""
    name = settings().instance_name
    holder, left = cycles.live_lease(db, clock().wall()) or (None, None)
    return {
        "esta": current_app.config.get("LEASE_HOLDER") or f"{name}:{os.getpid()}",
        "nome": name,
        "ativa": holder,
        "papel": "ativa" if holder is not None and lease.instance_of(holder) == name else "reserva",
        "lease_vence_em_s": None if left is None else round(left, 1),
    }


def install_error_handlers(app: Flask) -> None:
    """One JSON shape for every error: client errors 4xx, database trouble 503, bugs 500."""
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(ApiError, _api_error)
    for kind in OperationalError:
        app.register_error_handler(kind, _database_error)
    app.register_error_handler(Exception, _unexpected_error)


def _http_error(exc: HTTPException) -> Any:
    code = exc.code or 500
    if code < 400:
        return exc.get_response()  # routing redirects (a missing trailing slash)
    fallback = "requisição inválida" if code < 500 else "erro no servidor"
    response, status = error(_HTTP_MESSAGES.get(code, fallback), code)
    for name, value in exc.get_headers():
        if name.lower() in ("allow", "retry-after"):
            response.headers[name] = value
    return response, status


def _api_error(exc: ApiError) -> tuple[Response, int]:
    return error(exc.message, exc.status)


def _database_error(exc: Exception) -> tuple[Response, int]:
    reason = describe_failure(exc, settings().database)
    log.error("%s %s: %s (%s)", request.method, request.path, reason, exc)
    response, status = error(f"{reason}: tente novamente em instantes", 503)
    response.headers["Retry-After"] = "30"
    return response, status


def _unexpected_error(exc: Exception) -> tuple[Response, int]:
    log.exception("erro inesperado em %s %s", request.method, request.path)
    return error("erro interno: o incidente foi registrado no log", 500)
