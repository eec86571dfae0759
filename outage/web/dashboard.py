"""The dashboard's pages (HTML shells; the data come from the JSON routes) and `/api/ciclos`.

Pages live under `/painel/...` and need a logged-in user (any role); they render no data
from outside themselves — the page scripts fetch JSON and write it with `textContent`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Blueprint, Response, abort, jsonify, redirect, render_template, request, url_for

from outage import checks, heartbeat
from outage.adapters.channels import registry as channels
from outage.adapters.channels.messages import plural
from outage.adapters.erp import configured_erp
from outage.config import Settings
from outage.storage import outbox
from outage.storage.cycles import cycles_since, last_cycle
from outage.web.api import clock, get_db, int_arg, requires, settings
from outage.web.auth import session_user

bp = Blueprint("dashboard", __name__)
F = TypeVar("F", bound=Callable[..., Any])

MAX_CHART_HOURS = 168
MAX_CHART_POINTS = 2000


def login_required(view: F) -> F:
    """Send anonymous visitors to the login page, back here afterwards."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if session_user() is None:
            return redirect(url_for("auth.login", proximo=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return cast(F, wrapper)


def _page(template: str, active: str) -> str:
    user = session_user()
    assert user is not None
    return render_template(
        template,
        ativo=active,
        usuario=user.username,
        papel=user.role,
        pode_decidir=user.role in {"operador", "admin"},
        demo=settings().demo,
        **_template_names(),
    )


def _template_names() -> dict[str, str]:
    """The customer templates an approval would use, for the confirmation text (with no
    customer channel configured, those of the first that could be)."""
    s = settings()
    kind = channels.customer_channel(s) or channels.customer_kinds()[0]
    names = kind.customers.templates(s) if kind.customers else {}
    return {
        "modelo_los": names.get("LOS", ""),
        "modelo_power": names.get("POWER", ""),
        "modelo_concentrador": names.get("CONCENTRADOR", ""),
    }


@bp.get("/")
def index() -> Response:
    return cast(Response, redirect(url_for("dashboard.monitoring")))


@bp.get("/painel/")
@login_required
def monitoring() -> str:
    return _page("monitoramento.html", "monitoramento")


@bp.get("/painel/eventos")
@login_required
def events() -> str:
    return _page("eventos.html", "eventos")


@bp.get("/painel/historico")
@login_required
def history() -> str:
    return _page("historico.html", "historico")


@bp.get("/painel/saude")
@login_required
def health() -> str:
    return _page("saude.html", "saude")


@bp.get("/painel/mensagens")
@login_required
def demo_messages() -> str:
    if not settings().demo:
        abort(404)
    return _page("mensagens.html", "mensagens")


@bp.get("/api/ciclos")
@requires("leitura")
def cycles() -> Response:
    """Cycles of the last `horas` (default 24, max 168): started_at, offline, ok, duracao."""
    hours = int_arg(request.args, "horas", 24, 1, MAX_CHART_HOURS)
    rows = cycles_since(get_db(), time.time() - hours * 3600, MAX_CHART_POINTS)
    ciclos = [
        {"started_at": r["started_at"], "offline": r["offline"], "ok": bool(r["ok"]), "duracao": r["duracao"]}
        for r in rows
    ]
    return jsonify({"ciclos": ciclos, "horas": hours})


@bp.get("/api/saude")
@requires("leitura")
def components() -> Response:
    """Each integration's state (`ok` / `erro` / `desativado`) and outbox counts per channel."""
    db = get_db()
    channels: dict[str, dict[str, Any]] = {}
    for channel, status, count in outbox.counts_by_channel(db):
        row = channels.setdefault(
            channel, {"canal": channel, "pendentes": 0, "enviados": 0, "falhas": 0, "incertos": 0}
        )
        key = {
            "pendente": "pendentes",
            "enviando": "pendentes",
            "enviado": "enviados",
            "falhou": "falhas",
            "incerto": "incertos",
        }.get(status)
        if key:
            row[key] += count
    last = last_cycle(db)
    failing = outbox.failing_destinations(db)
    alarms = heartbeat.read_alarms(db, clock()) if settings().alarms.enabled else None
    return jsonify(
        {
            "componentes": _component_states(last, failing, alarms),
            "canais": sorted(channels.values(), key=_by_name),
            "alarmes": alarms,
        }
    )


def _by_name(row: dict[str, Any]) -> str:
    return str(row["canal"])


State = tuple[str, str]  # (ok | atencao | erro | desativado, detail)


def _component_states(last: Any, failing: list[str], alarms: dict[str, Any] | None) -> list[dict[str, str]]:
    """The ERP, the cause source, the network's alarms, each channel whose `ChannelKind.health`
    shows it and the customers' notice provider, each with its state and a detail."""
    s = settings()
    rows = [("ERP", _erp_state(s, last)), ("OLT (causa)", _olt_state(s))]
    rows.append(("Alarmes da rede", alarm_state(s, alarms)))
    rows += _noc_channel_states(s, failing)
    rows.append(("Avisos aos clientes", _customer_state(s)))
    if s.olt_system_enabled:
        rows.append(("Sistema de gerência de OLT", ("ok", "incidentes das OLTs no console de disparo")))
    return [{"nome": name, "estado": state, "detalhe": detail} for name, (state, detail) in rows]


def _erp_state(s: Settings, last: Any) -> State:
    kind = configured_erp(s)
    if kind is None:
        return "desativado", "nenhuma fonte configurada"
    if last is None:
        return "atencao", f"{kind.label}: nenhum ciclo ainda"
    if last["ok"]:
        return "ok", f"{kind.label}: último ciclo concluído"
    return "erro", f"{kind.label}: {last['erro'] or 'último ciclo falhou'}"


def _olt_state(s: Settings) -> State:
    if s.olt_service_url:
        return "ok", "serviço de consulta à OLT do sistema original"
    missing = checks.inventory_warnings(s)
    if missing:
        return "atencao", missing[0]
    if s.olt_system_enabled:
        return "ok", f"inventário {s.olt_inventory} e sistema de gerência de OLT"
    return "ok", f"acesso direto às OLTs (inventário {s.olt_inventory})"


def _noc_channel_states(s: Settings, failing: list[str]) -> list[tuple[str, State]]:
    """Each channel's row (`ChannelKind.health`): off with why, failing destinations, or its detail."""
    rows: list[tuple[str, State]] = []
    for kind in channels.CHANNELS:
        line = kind.health(s)
        if line is None:
            continue
        bad = [c for c in failing if c.startswith(f"{kind.name}:")]
        if not line.on:
            rows.append((kind.label, ("desativado", line.detail)))
        elif bad:
            rows.append((kind.label, ("erro", "alertas falhando: " + ", ".join(bad))))
        else:
            rows.append((kind.label, ("ok", line.detail)))
    return rows


ALARMS_STALE = 60.0  # seconds without the poller writing the receivers' counts


def alarm_state(s: Settings, report: dict[str, Any] | None) -> State:
    """The receivers' state as their last report (`heartbeat.read_alarms`) tells it."""
    if not s.alarms.enabled:
        return "desativado", "receptores desligados (ALARM_SNMP_PORT, ALARM_SYSLOG_PORT, ALARM_RADIUS_PORT)"
    if report is None:
        return "atencao", "receptores ainda não abertos pelo processo que monitora"
    age = report.get("segundos_desde_gravacao")
    if not report.get("ativo") or age is None or age > ALARMS_STALE:
        return "erro", "receptores fechados: veja o log do processo que monitora"
    ports = ", ".join(f"{name} {port}" for name, port in sorted(report.get("portas", {}).items()))
    received = sum(source.get("recebidos", 0) for source in report.get("fontes", {}).values())
    detail = f"{plural(received, 'alarme recebido', 'alarmes recebidos')} (portas {ports})"
    silent = report.get("silenciosas") or []
    if silent:
        return "atencao", f"{detail}; sem alarmes há muito tempo: {', '.join(silent)}"
    return "ok", detail


def _customer_state(s: Settings) -> State:
    """The channel an approval sends through (`registry.customer_channel`, as the dispatch)."""
    kind = channels.customer_channel(s)
    if kind is None or kind.customers is None:
        return (
            "desativado",
            f"nenhum provedor: Aprovar e Disparar recusa (configure {channels.customer_setup()})",
        )
    names = kind.customers.templates(s)
    return "ok", f"{kind.customers.label}, modelos {names['LOS']} (LOS) e {names['POWER']} (energia)"
