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

from outage.alerts import outbox
from outage.alerts.messages import plural
from outage.api import get_db, int_arg, requires, settings
from outage.auth import session_user

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
    """The customer templates an approval would use, for the confirmation text."""
    s = settings()
    if s.hsm_provider_enabled or not s.whatsapp_cloud_enabled:
        return {"modelo_los": s.hsm_template_los, "modelo_power": s.hsm_template_power}
    return {"modelo_los": s.whatsapp_template_los, "modelo_power": s.whatsapp_template_power}


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
    rows = (
        get_db()
        .execute(
            "SELECT started_at, offline, ok, duracao FROM cycles"
            " WHERE started_at >= ? ORDER BY started_at DESC LIMIT ?",
            (time.time() - hours * 3600, MAX_CHART_POINTS),
        )
        .fetchall()
    )
    ciclos = [
        {"started_at": r["started_at"], "offline": r["offline"], "ok": bool(r["ok"]), "duracao": r["duracao"]}
        for r in reversed(rows)
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
    last = db.execute("SELECT ok, erro, started_at FROM cycles ORDER BY id DESC LIMIT 1").fetchone()
    failing = outbox.failing_destinations(db)
    return jsonify(
        {"componentes": _component_states(last, failing), "canais": sorted(channels.values(), key=_by_name)}
    )


def _by_name(row: dict[str, Any]) -> str:
    return str(row["canal"])


def _component_states(last: Any, failing: list[str]) -> list[dict[str, str]]:
    s = settings()
    erp_names = {"direct": "IXCSoft (acesso direto)", "middleware": "serviço intermediário do IXCSoft"}
    if s.erp_mode == "none":
        erp = ("desativado", "nenhuma fonte configurada")
    elif last is None:
        erp = ("atencao", f"{erp_names[s.erp_mode]}: nenhum ciclo ainda")
    elif last["ok"]:
        erp = ("ok", f"{erp_names[s.erp_mode]}: último ciclo concluído")
    else:
        erp = ("erro", f"{erp_names[s.erp_mode]}: {last['erro'] or 'último ciclo falhou'}")
    if s.olt_system_enabled:
        olt = ("ok", "sistema de gerência de OLT configurado")
    elif s.olt_service_url:
        olt = ("ok", "serviço intermediário de OLT configurado")
    else:
        olt = ("atencao", f"acesso direto por SSH (inventário {s.olt_inventory})")

    def channel_state(prefixes: tuple[str, ...], enabled: bool, label: str) -> tuple[str, str]:
        if not enabled:
            return "desativado", "não configurado"
        bad = [c for c in failing if c.startswith(prefixes)]
        return ("erro", "alertas falhando: " + ", ".join(bad)) if bad else ("ok", label)

    telegram = channel_state(
        ("telegram",), s.telegram_enabled, plural(len(s.telegram_chat_ids), "grupo do NOC", "grupos do NOC")
    )
    whatsapp = channel_state(
        ("whatsapp", "hsm"),
        s.whatsapp_cloud_enabled or s.hsm_provider_enabled,
        "API oficial da Meta" if s.whatsapp_cloud_enabled else "provedor HSM",
    )
    rows = [("ERP", erp), ("OLT (causa)", olt), ("Telegram", telegram), ("WhatsApp", whatsapp)]
    return [{"nome": name, "estado": state, "detalhe": detail} for name, (state, detail) in rows]
