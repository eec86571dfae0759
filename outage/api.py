"""The REST API: events (the seed's `/eventos/ativos` and more) and `/healthz`.

Errors are JSON in Portuguese, `{"erro": "..."}`, with a 4xx status; bad input never
gives a 500. When `API_TOKEN` is set, `/eventos*` needs `Authorization: Bearer <token>`
(or a logged-in dashboard session, see `outage.auth`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Blueprint, Response, current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException

from outage import store
from outage.config import Settings
from outage.db import connect
from outage.localtime import LOCAL_TZ

bp = Blueprint("api", __name__)
F = TypeVar("F", bound=Callable[..., Any])

MAX_LIMIT = 500
_EVENT_COLUMNS = (
    "id, conexao, timestamp, status, logins, motivo, causa_status, local, local_detalhe, evidencias, votos,"
    " resolvido_em, resolvido_por, atualizado_em, escopo, aviso, recorrencia, retardatarios, primeira_queda"
)


class BadRequest(Exception):
    """A request we refuse with 400 and a message in Portuguese."""


def settings() -> Settings:
    return cast(Settings, current_app.config["SETTINGS"])


def get_db() -> sqlite3.Connection:
    """One connection per request, closed at teardown."""
    if "db" not in g:
        g.db = connect(settings().database_path)
    return cast(sqlite3.Connection, g.db)


def close_db(_: BaseException | None = None) -> None:
    db = g.pop("db", None)
    if db is not None:
        db.close()


def error(message: str, status: int) -> tuple[Response, int]:
    return jsonify({"erro": message}), status


def requires(role: str) -> Callable[[F], F]:
    """Guard a view: `leitura` < `operador` < `admin`.

    When the dashboard's auth is installed (`app.config["AUTH_CHECK"]`, see `outage.auth`)
    it decides (session or Bearer token). Otherwise a Bearer `API_TOKEN` is required when
    set, and the routes are open when it is not (as in the seed). `current_user()` then
    names who acted.
    """

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            check = current_app.config.get("AUTH_CHECK")
            if check is not None:
                denied = check(role)
                if denied is not None:
                    return denied
            elif settings().api_token:
                if not bearer_ok():
                    return error("autenticação necessária: envie Authorization: Bearer <API_TOKEN>", 401)
                g.user = "api"
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorator


requires_reader = requires("leitura")


def current_user() -> str:
    """Who is acting: the dashboard user, `api` for a Bearer token, `anonimo` on open routes."""
    return str(g.get("user", "anonimo"))


def bearer_ok() -> bool:
    token = settings().api_token
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return bool(token) and scheme.lower() == "bearer" and hmac.compare_digest(value.strip(), token)


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
@requires_reader
def active_events() -> Response:
    db = get_db()
    key = tuple(
        db.execute(
            "SELECT (SELECT value FROM meta WHERE key = 'state_version'),"
            " (SELECT MAX(atualizado_em) FROM events WHERE status = 'ativo'),"
            " (SELECT COUNT(*) FROM events WHERE status = 'ativo')"
        ).fetchone()
    )
    cached = _active_cache.get(key)
    if cached is None:
        rows = db.execute(
            f"SELECT {_EVENT_COLUMNS} FROM events WHERE status = 'ativo' ORDER BY timestamp DESC"  # noqa: S608
        ).fetchall()
        body = json.dumps({"eventos_ativos": serialize_events(db, rows)}, ensure_ascii=False).encode()
        cached = body, _active_cache.put(key, body)
    body, etag = cached
    response = Response(body, mimetype="application/json")
    response.set_etag(etag)
    response.make_conditional(request)
    return response


@bp.get("/eventos")
@requires_reader
def events() -> Response | tuple[Response, int]:
    try:
        where, params, limit, page = _event_filters(request.args)
    except BadRequest as exc:
        return error(str(exc), 400)
    db = get_db()
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    total = db.execute(f"SELECT COUNT(*) FROM events{clause}", params).fetchone()[0]  # noqa: S608
    rows = db.execute(
        f"SELECT {_EVENT_COLUMNS} FROM events{clause}"  # noqa: S608
        " ORDER BY CASE status WHEN 'ativo' THEN 0 ELSE 1 END, timestamp DESC LIMIT ? OFFSET ?",
        [*params, limit, (page - 1) * limit],
    ).fetchall()
    return jsonify({"eventos": serialize_events(db, rows), "total": total, "pagina": page, "limite": limit})


@bp.get("/eventos/<event_id>")
@requires_reader
def event_detail(event_id: str) -> Response | tuple[Response, int]:
    db = get_db()
    row = db.execute(f"SELECT {_EVENT_COLUMNS} FROM events WHERE id = ?", (event_id,)).fetchone()  # noqa: S608
    if row is None:
        return error("evento não encontrado", 404)
    event = serialize_events(db, [row])[0]
    back = dict(
        db.execute(
            "SELECT login, reconectou_em FROM event_reconnections WHERE event_id = ?", (event_id,)
        ).fetchall()
    )
    event["clientes"] = [
        {**asdict(sub), "caiu_em": dropped_at, "reconectou_em": back.get(sub.login)}
        for sub, dropped_at in store.event_subscribers(db, event_id)
    ]
    event["alertas"] = [
        dict(r)
        for r in db.execute(
            "SELECT id, channel AS canal, kind AS tipo, status, attempts AS tentativas, created_at AS criado_em,"
            " sent_at AS enviado_em, last_error AS erro FROM outbox WHERE event_id = ? ORDER BY id",
            (event_id,),
        )
    ]
    event["alertas_retidos"] = [
        dict(r)
        for r in db.execute(
            "SELECT kind AS tipo, motivo, created_at AS criado_em FROM held_alerts WHERE event_id = ? ORDER BY id",
            (event_id,),
        )
    ]
    return jsonify(event)


@bp.post("/eventos/<event_id>/resolver")
@requires("operador")
def resolve_event(event_id: str) -> Response | tuple[Response, int]:
    """Close an event by hand (its logins stuck in an unknown status, for one)."""
    from outage.channels.registry import configured_channels

    try:
        store.resolve_by_operator(
            get_db(), event_id, current_user(), time.time(), configured_channels(settings())
        )
    except KeyError:
        return error("evento não encontrado", 404)
    except ValueError:
        return error("o evento já está resolvido", 409)
    return event_detail(event_id)


def serialize_events(db: sqlite3.Connection, rows: list[sqlite3.Row]) -> list[dict[str, Any]]:
    """Events as the API shows them: the seed's fields first, then ours."""
    ids = [row["id"] for row in rows]
    back: dict[str, set[str]] = {event_id: set() for event_id in ids}
    held: dict[str, str] = {}
    for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
        marks = ",".join("?" for _ in chunk)
        for event_id, login in db.execute(
            f"SELECT event_id, login FROM event_reconnections WHERE event_id IN ({marks})",  # noqa: S608
            chunk,
        ):
            back[event_id].add(login)
        for event_id, reason in db.execute(
            f"SELECT event_id, motivo FROM held_alerts WHERE kind = 'abertura' AND event_id IN ({marks})"  # noqa: S608
            " ORDER BY id",
            chunk,
        ):
            held[event_id] = reason
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
                "duracao": round(end - row["timestamp"], 1),
                "atualizado_em": row["atualizado_em"],
                "alerta_suprimido": held.get(row["id"]) if not row["aviso"] else None,
            }
        )
    return result


def _event_filters(args: Any) -> tuple[list[str], list[Any], int, int]:
    where: list[str] = []
    params: list[Any] = []
    status = args.get("status")
    if status:
        if status not in {"ativo", "resolvido"}:
            raise BadRequest("status inválido: use ativo ou resolvido")
        where.append("status = ?")
        params.append(status)
    conexao = args.get("conexao")
    if conexao:
        where.append("conexao = ?")
        params.append(conexao)
    for name, op in (("desde", ">="), ("ate", "<=")):
        value = args.get(name)
        if value:
            where.append(f"timestamp {op} ?")
            params.append(_parse_time(name, value, end_of_day=name == "ate"))
    limit = _positive_int(args, "limite", 50, MAX_LIMIT)
    page = _positive_int(args, "pagina", 1, 1_000_000)
    return where, params, limit, page


def _parse_time(name: str, value: str, *, end_of_day: bool) -> float:
    """Epoch seconds, or an ISO date/datetime in America/Sao_Paulo."""
    try:
        return float(value)
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise BadRequest(f"{name} inválido: use AAAA-MM-DD, AAAA-MM-DDTHH:MM ou segundos desde 1970") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=LOCAL_TZ)
    if end_of_day and len(value) == 10:
        return parsed.timestamp() + 86_399.999
    return parsed.timestamp()


def _positive_int(args: Any, name: str, default: int, maximum: int) -> int:
    value = args.get(name)
    if value is None or value == "":
        return default
    if not value.isdigit() or not 1 <= int(value) <= maximum:
        raise BadRequest(f"{name} inválido: use um número inteiro entre 1 e {maximum}")
    return int(value)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """200 when the database answers and the last good cycle is recent; else 503 with why."""
    s = settings()
    now = time.time()
    body: dict[str, Any] = {"status": "ok"}
    problems: list[str] = []
    try:
        db = get_db()
        last_ok = db.execute("SELECT MAX(finished_at) FROM cycles WHERE ok = 1").fetchone()[0]
        last = db.execute(
            "SELECT started_at, finished_at, ok, erro, duracao, offline FROM cycles ORDER BY id DESC LIMIT 1"
        ).fetchone()
    except sqlite3.Error as exc:
        return jsonify({"status": "erro", "problemas": [f"banco de dados indisponível: {exc}"]}), 503
    limit = 3 * s.check_interval
    started = float(current_app.config.get("STARTED_AT", now))
    body["ultimo_ciclo_ok"] = last_ok
    body["ultimo_ciclo"] = dict(last) if last is not None else None
    if last_ok is None:
        if now - started > limit:
            problems.append(f"nenhum ciclo concluído com sucesso desde o início ({int(now - started)} s)")
        else:
            body["status"] = "iniciando"
    elif now - last_ok > limit:
        problems.append(f"último ciclo bem-sucedido há {int(now - last_ok)} s (limite {limit} s)")
    outbox_check = current_app.config.get("OUTBOX_HEALTH")
    if outbox_check is not None:
        report = outbox_check(db, now, s.check_interval)
        body["alertas"] = report
        if not report.get("healthy", True):
            problems.append("há alertas sem entrega há mais de 3 ciclos")
    if problems:
        body["status"] = "erro"
        body["problemas"] = problems
        return jsonify(body), 503
    return jsonify(body), 200


def json_error_handler(exc: HTTPException) -> Response | tuple[Response, int]:
    """JSON errors for the API routes (HTML pages keep Flask's default)."""
    messages = {
        400: "requisição inválida",
        401: "autenticação necessária",
        403: "acesso negado",
        404: "recurso não encontrado",
        405: "método não permitido",
        413: "requisição grande demais",
        415: "tipo de conteúdo não suportado",
        429: "muitas requisições: tente novamente em instantes",
    }
    code = exc.code or 500
    return error(messages.get(code, exc.description or "erro"), code)
