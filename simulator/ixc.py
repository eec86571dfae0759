"""A fake IXCSoft webservice (`POST /webservice/v1/<table>`), faithful to the real one.

Serves `radusuarios` and `cliente` from a `Network` (live: incidents show up on the next
request) or from static records given with `set_records`. Speaks IXC's quirks: Basic auth
over exactly `<id>:<hash>` (the token as IXC shows it; anything else is refused), the
`ixcsoft: listar` header, `qtype`/`query`/`oper` plus `grid_param`
filters, string `page`/`total`, every value a string, HTTP-200 errors.

Faults (`fail(kind, count=1, page=None)`) hit the next `count` matching requests (`count=None`:
until `clear_faults()`); with `page`, only requests for that page match. Kinds: see `FAULT_KINDS`.
`refuse` shuts the client socket down from inside the request (werkzeug exposes it as
`environ["werkzeug.socket"]`) and then raises `ConnectionAbortedError`, which the werkzeug
dev server treats as a dropped connection: the client sees the connection closed with no answer.

The fault machinery (`Faults`, `RestartableServer`) is shared with `simulator.middleware`.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import socket
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Self

import orjson
from flask import Flask, Response, request

from simulator.httpserver import FakeHTTPServer
from simulator.network import (
    RADUSUARIOS_FIELDS,
    Client,
    Customer,
    Network,
    cliente_record,
    cliente_value,
    radusuarios_record,
    radusuarios_value,
)

FAULT_KINDS = ("http500", "type_error", "html", "invalid_json", "slow", "missing_page", "short", "refuse")
OPERATORS = ("=", "!=", "L", "<", "<=", ">", ">=", "IN")
TABLES = ("radusuarios", "cliente")
SHORT_TOTAL_FACTOR = 10

ERROR_HTML = (
    '<div style="border:1px solid #c00;padding:8px;color:#c00">'
    "<b>Ocorreu um erro!</b><br />Erro ao processar a requisição. Contate o suporte.</div>"
)
TRUNCATED_JSON = '{"page": "1", "total": "12", "registros": [{"id": "1", "login": "joao'


# ---------------------------------------------------------------------- shared fault machinery


@dataclass
class _Fault:
    kind: str
    remaining: int | None
    page: int | None


class Faults:
    """Pending injected faults; `take(page)` consumes and returns the kind that applies, if any."""

    def __init__(self, kinds: Sequence[str]) -> None:
        self._kinds = tuple(kinds)
        self._pending: list[_Fault] = []
        self._lock = threading.Lock()

    def add(self, kind: str, count: int | None = 1, page: int | None = None) -> None:
        if kind not in self._kinds:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {self._kinds}")
        with self._lock:
            self._pending.append(_Fault(kind, count, page))

    def clear(self) -> None:
        with self._lock:
            self._pending.clear()

    def take(self, page: int | None = None) -> str | None:
        with self._lock:
            for fault in self._pending:
                if fault.page is not None and fault.page != page:
                    continue
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._pending.remove(fault)
                return fault.kind
        return None


def drop_connection() -> None:
    """Close the client's connection without an answer (call inside a request; never returns)."""
    sock = request.environ.get("werkzeug.socket")
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    raise ConnectionAbortedError("fake: connection refused on purpose")


class RestartableServer(FakeHTTPServer):
    """A `FakeHTTPServer` that keeps its port across `stop()`/`start()` (to fake an outage).

    `stop()` then `start()` serves again at the same `url`; `slow` sleeps are woken by `stop()`.
    """

    def __init__(self, app: Flask) -> None:
        app.config["PROPAGATE_EXCEPTIONS"] = True  # lets `drop_connection` reach werkzeug
        super().__init__(app)
        self.slow_seconds = 5.0
        self._wake = threading.Event()

    @property
    def port(self) -> int:
        """The port, also while stopped (after a first start)."""
        return self._port if self._server is None and self._port else super().port

    def start(self) -> Self:
        self._wake.clear()
        super().start()
        self._port = self.port
        return self

    def stop(self) -> None:
        self._wake.set()
        super().stop()

    def sleep(self, seconds: float) -> None:
        """Sleep in a request thread; returns early when the server stops."""
        if seconds > 0:
            self._wake.wait(seconds)


def error_response(kind: str) -> Response | None:
    """The canned answer of a transport-level fault kind, or None if `kind` is not one."""
    if kind == "http500":
        return Response("<h1>500 Internal Server Error</h1>", status=500, mimetype="text/html")
    if kind == "html":
        return Response(ERROR_HTML, status=200, mimetype="text/html")
    if kind == "invalid_json":
        return Response(TRUNCATED_JSON, status=200, mimetype="application/json")
    if kind == "refuse":
        drop_connection()
    return None


# ---------------------------------------------------------------------- tables


@dataclass(frozen=True)
class Filter:
    """One filter as IXC receives it: `TB` (field, maybe `table.`-prefixed), `OP`, `P`."""

    field: str
    op: str
    value: str


@dataclass
class IxcRequest:
    """What a client asked for (kept in `FakeIXC.requests` so tests can check its paging)."""

    table: str
    page: int
    rp: int
    filters: list[Filter] = field(default_factory=list)
    sortname: str = ""
    sortorder: str = "asc"


class _Table:
    """Rows of one table and how to read a field of a row as a string."""

    def __init__(
        self,
        rows: Callable[[list[Filter]], Sequence[Any]],
        value: Callable[[Any, str], str],
        render: Callable[[Any], dict[str, str]],
    ) -> None:
        self.rows = rows
        self.value = value
        self.render = render


def _numeric_key(text: str) -> tuple[int, float, str]:
    """Sort numbers as numbers (ids), everything else as text; numbers first."""
    try:
        return (0, float(text), "")
    except ValueError:
        return (1, 0.0, text)


def _like(pattern: str) -> re.Pattern[str]:
    """IXC `L`: SQL LIKE; without `%` it is a substring match. Case-insensitive."""
    if "%" not in pattern and "_" not in pattern:
        pattern = f"%{pattern}%"
    regex = "".join(".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern)
    return re.compile(f"^{regex}$", re.IGNORECASE | re.DOTALL)


def _compare(op: str, left: str, right: str) -> bool:
    if op in ("=", "!="):
        return (left == right) == (op == "=")
    a, b = _numeric_key(left), _numeric_key(right)
    if a[0] != b[0]:
        a, b = (1, 0.0, left), (1, 0.0, right)
    if op == "<":
        return a < b
    if op == "<=":
        return a <= b
    if op == ">":
        return a > b
    return a >= b


def make_predicate(flt: Filter) -> Callable[[str], bool]:
    """A test on a field's string value for one filter (IXC's operators)."""
    if flt.op == "IN":
        allowed = {part.strip() for part in flt.value.split(",")}
        return lambda value: value in allowed
    if flt.op == "L":
        regex = _like(flt.value)
        return lambda value: regex.match(value) is not None
    return lambda value: _compare(flt.op, value, flt.value)


def _bare(name: str) -> str:
    """`radusuarios.online` -> `online`."""
    return name.rsplit(".", 1)[-1]


class IxcError(Exception):
    """A request IXC would answer with `{"type": "error", ...}` (HTTP 200)."""


# ---------------------------------------------------------------------- the server


class FakeIXC(RestartableServer):
    """The IXCSoft webservice on 127.0.0.1.

    `FakeIXC(network=None, *, user="8", token="<hash>", page_delay=0.0)`; use as a context
    manager or `start()`/`stop()`. Without a network, serve `set_records(table, rows)`.
    `user` is the IXC user id and `token` its hash: IXC shows them as `token_as_shown`.
    """

    def __init__(
        self,
        network: Network | None = None,
        *,
        user: str = "8",
        token: str = "1126d7f4c2a9e0b3",  # noqa: S107 - a fake credential for the fake server
        page_delay: float = 0.0,
    ) -> None:
        if ":" in user or ":" in token:
            raise ValueError("IXC credentials are an id and a hash, neither with ':'")
        self.network = network
        self.user = user
        self.token = token
        self.page_delay = page_delay
        self.requests: list[IxcRequest] = []
        self.faults = Faults(FAULT_KINDS)
        self._static: dict[str, list[dict[str, str]]] = {}
        self._cache: dict[tuple[Any, ...], tuple[int, list[Any]]] = {}
        self._static_version = 0
        self._lock = threading.Lock()
        app = Flask(type(self).__name__)
        app.add_url_rule("/webservice/v1/<table>", "listar", self._listar, methods=["POST", "GET"])
        super().__init__(app)

    # -- configuration used by tests

    @property
    def requests_count(self) -> int:
        with self._lock:
            return len(self.requests)

    @property
    def token_as_shown(self) -> str:
        """The token as IXC shows it to the user: `<id>:<hash>`."""
        return f"{self.user}:{self.token}"

    @property
    def auth_header(self) -> str:
        """The `Authorization` value a correct client sends (base64 of `<id>:<hash>`)."""
        return "Basic " + base64.b64encode(self.token_as_shown.encode()).decode()

    def set_records(self, table: str, records: list[dict[str, str]]) -> None:
        """Serve these rows for `table` instead of the network's."""
        with self._lock:
            self._static[table] = [dict(r) for r in records]
            self._static_version += 1

    def fail(self, kind: str, count: int | None = 1, page: int | None = None) -> None:
        """Inject `kind` (one of `FAULT_KINDS`) into the next `count` requests (for `page` only if given)."""
        self.faults.add(kind, count, page)

    def clear_faults(self) -> None:
        self.faults.clear()

    def reset(self) -> None:
        """Forget faults, the request log and delays (to share one server across tests)."""
        self.faults.clear()
        with self._lock:
            self.requests.clear()
        self.page_delay = 0.0
        self.slow_seconds = 5.0

    # -- request handling

    def _listar(self, table: str) -> Response:
        if request.headers.get("Authorization", "") != self.auth_header:
            return _json({"type": "error", "message": "Acesso negado! Usuário ou token inválido."}, 401)
        if request.headers.get("ixcsoft", "").lower() != "listar":
            return _ixc_error(
                "Requisição inválida: informe o cabeçalho ixcsoft: listar para listar registros."
            )
        try:
            asked = self._parse(table)
        except IxcError as exc:
            return _ixc_error(str(exc))
        with self._lock:
            self.requests.append(asked)
        kind = self.faults.take(asked.page)
        self.sleep(self.page_delay)
        if kind == "slow":
            self.sleep(self.slow_seconds)
        if kind == "type_error":
            return _ixc_error("Erro ao consultar a tabela: tempo limite de consulta excedido.<br />")
        canned = error_response(kind) if kind else None
        if canned is not None:
            return canned
        return _json(self._answer(asked, kind))

    def _parse(self, table: str) -> IxcRequest:
        if table not in TABLES:
            raise IxcError(f"Tabela {table} não encontrada!<br />")
        body = request.get_json(force=True, silent=True)
        if not isinstance(body, dict):
            raise IxcError("Parâmetros inválidos: corpo JSON esperado.<br />")
        try:
            page = int(str(body.get("page", "1")))
            rp = int(str(body.get("rp", "20")))
        except ValueError as exc:
            raise IxcError("Parâmetro page/rp inválido.<br />") from exc
        filters = self._filters(body)
        sortname = _bare(str(body.get("sortname", "") or "id"))
        sortorder = str(body.get("sortorder", "asc")).lower()
        return IxcRequest(table, max(page, 1), max(rp, 1), filters, sortname, sortorder)

    @staticmethod
    def _filters(body: dict[str, Any]) -> list[Filter]:
        """`qtype`/`query`/`oper` (ignored when `query` is empty) plus every `grid_param` filter."""
        filters: list[Filter] = []
        query = str(body.get("query", ""))
        oper = str(body.get("oper", "=")) or "="
        if query != "" and body.get("qtype"):
            filters.append(Filter(_bare(str(body["qtype"])), oper, query))
        grid = body.get("grid_param") or "[]"
        try:
            items = json.loads(grid) if isinstance(grid, str) else grid
            filters += [
                Filter(_bare(str(i["TB"])), str(i.get("OP", "=")), str(i.get("P", ""))) for i in items
            ]
        except (ValueError, TypeError, KeyError) as exc:
            raise IxcError("grid_param inválido.<br />") from exc
        for flt in filters:
            if flt.op not in OPERATORS:
                raise IxcError(f"Operador {flt.op} inválido.<br />")
        return filters

    def _answer(self, asked: IxcRequest, kind: str | None) -> dict[str, Any]:
        table = self._table(asked.table)
        lock = self.network.lock if self.network is not None else self._lock
        with lock:
            rows = self._selected(table, asked)
            start = (asked.page - 1) * asked.rp
            page_rows = rows[start : start + asked.rp]
            registros = [] if kind == "missing_page" else [table.render(r) for r in page_rows]
        total = len(rows) * SHORT_TOTAL_FACTOR + 1000 if kind == "short" else len(rows)
        return {"page": str(asked.page), "total": str(total), "registros": registros}

    def _selected(self, table: _Table, asked: IxcRequest) -> list[Any]:
        """Filtered and sorted rows, cached until the data changes (paging 200k rows stays cheap)."""
        version = self._data_version()
        key = (asked.table, tuple(asked.filters), asked.sortname, asked.sortorder)
        cached = self._cache.get(key)
        if cached is not None and cached[0] == version:
            return cached[1]
        rows = list(table.rows(asked.filters))
        for flt in asked.filters:
            test = make_predicate(flt)
            rows = [r for r in rows if test(table.value(r, flt.field))]
        rows.sort(
            key=lambda r: _numeric_key(table.value(r, asked.sortname)), reverse=asked.sortorder == "desc"
        )
        self._cache[key] = (version, rows)
        return rows

    def _data_version(self) -> int:
        return self._static_version + (self.network.version if self.network is not None else 0)

    def _table(self, name: str) -> _Table:
        if name in self._static or self.network is None:
            return _Table(
                lambda _f: self._static.get(name, []),
                lambda row, f: str(row.get(f, "")),
                dict,
            )
        network = self.network
        if name == "radusuarios":
            return _Table(
                lambda f: _radusuarios_candidates(network, f), radusuarios_value, radusuarios_record
            )
        return _Table(lambda _f: network.clients, _cliente_value, cliente_record)


def _cliente_value(client: Client, field_name: str) -> str:
    return cliente_value(client, field_name)


def _radusuarios_candidates(network: Network, filters: list[Filter]) -> list[Customer]:
    """Use the network's index of non-`S` customers when a filter asks for offline ones."""
    for flt in filters:
        if flt.field == "online" and flt.op == "=" and flt.value != "S":
            return network.not_online()
    return network.customers


def _json(payload: dict[str, Any], status: int = 200) -> Response:
    return Response(orjson.dumps(payload), status=status, mimetype="application/json")


def _ixc_error(message: str) -> Response:
    return _json({"type": "error", "message": message, "page": 0, "total": 0, "registros": []})


__all__ = [
    "FAULT_KINDS",
    "RADUSUARIOS_FIELDS",
    "FakeIXC",
    "Faults",
    "Filter",
    "IxcRequest",
    "RestartableServer",
]
