"""The HSM dispatch console's routes (the original `disparo_hsm`), a blueprint of the app.

`disparo_hsm`'s routes keep its answers' shapes exactly, our fields beside its own (the
field lists are in `outage.hsm.disparo_shape` and `outage.hsm.history`):

- `GET /api/incidentes` -> a bare array of the incidents pending a decision (neither
  decided nor in cooldown): `id` (a number: the OLT system's own id, or −N for a monitor
  event), `alert_type`, `initial_date`, `total_devices_count`, `olt_name`, `slot_pon`, then
  ours (`incidente`, `fonte`, `tipo`, `afetados`, `inicio`, `causa_provavel`, `local`, `chave`).
- `GET /api/detalhes/<id>` -> `{"info": {...}, "clientes": [{"client_id", "sn_onu",
  "client_name", "status", "slot_pon", "contact", "ultimo_aviso", "erro"}]}`.
- `POST /api/acao` `{"id", "acao": "aprovar" | "negar", "comentario"?, "template"?}` ->
  `{"success", "msg", "enviados", "falhas", "incertos", "sem_telefone", "ignorados",
  "repetido"}`; refusals carry `success: false`, `msg` and `erro`: 404 unknown id, 400 bad
  body/action, 409 key in cooldown, 502 OLT system unreadable, 503 no WhatsApp provider.
- `GET /api/historico[?limite=N]` -> a bare array of decisions; `&formato=csv` for CSV (one
  line per decision), `&formato=csv-destinatarios` (one line per customer of each approval);
  see `outage.hsm.history`.

An id may be written as the number (`7`, `-3`) or as our `ev-<event id>`.

The console's own routes, for our dashboard:

- `GET /api/painel/incidentes` -> `{"incidentes": [...], "em_cooldown": [...] (with
  `liberado_em`), "avisos": [...], "incertos": {"total", "aguardando_confirmacao",
  "decisoes": [...]}}` (`aguardando_confirmacao`: uncertain WhatsApp Cloud API notices Meta
  may still confirm, not offered for a resend yet; see `outage.hsm.dispatch.CONFIRMATION_WAIT`).
- `POST /api/painel/incertos/reenviar` `{"decisao_id"?}` (operator) -> sends again the
  notices a crash left uncertain (all, or one decision's), but those Meta may still confirm:
  `{"success", "msg", "reenviados", "aguardando_confirmacao"}`.

Approval sends synchronously for up to `DISPATCH_WAIT` seconds through the fast path of
`outage.hsm.delivery` (1,000 notices to a provider answering in 50 ms take about 2.5 s);
whatever is left (time ran out, transient failures) is delivered by the background engine,
so the request never waits long and nothing is lost.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from typing import Any

from flask import Blueprint, Response, jsonify, request

from outage.adapters.cause.olt_system import OltSystemError
from outage.adapters.channels.messages import br_number, plural
from outage.db import MAX_INTEGER
from outage.hsm import dispatch, history
from outage.hsm.delivery import deliver_rows
from outage.hsm.disparo_shape import disparo_incident, with_disparo_fields
from outage.hsm.enrich import customers_of, member_key, members_of
from outage.hsm.incidents import Incident, console_number, find_incident, open_incidents
from outage.storage import hsm
from outage.web.api import clock, current_user, error, get_db, int_arg, requires, settings

log = logging.getLogger(__name__)

bp = Blueprint("hsm_dispatch", __name__)
DISPATCH_WAIT = 3.0
MAX_COMMENT = 1000
MAX_HISTORY = 5000


@bp.get("/api/incidentes")
@requires("leitura")
def incidents() -> Response:
    pending, _blocked, _warnings = _listing()
    return jsonify(pending)


@bp.get("/api/painel/incidentes")
@requires("leitura")
def console_incidents() -> Response:
    affected: set[str] = set()
    pending, blocked, warnings = _listing(affected)
    uncertain = _uncertain()
    blocks = [
        {"chave": key, "local": dispatch.block_words(key), "liberado_em": until}
        for key, until in sorted(hsm.active_cooldowns(get_db(), time.time()).items(), key=lambda kv: kv[1])
    ]
    return jsonify(
        {
            "incidentes": pending,
            "em_cooldown": blocked,
            "bloqueios": blocks,
            "clientes_afetados": len(affected),
            "avisos": warnings,
            "incertos": uncertain,
        }
    )


def _listing(
    affected: set[str] | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    """(pending, in cooldown, warnings): the open incidents not yet decided — neither themselves
    nor any of their twins — by start, each counted as its detail lists it (`members_of`);
    `affected` gathers the distinct customers of the pending ones."""
    db = get_db()
    now = time.time()
    listing = open_incidents(db, settings())
    open_olt = {i.id for i in listing.incidents if i.fonte == "olt"} if listing.olt_read else None
    dispatch.settle_normalized(db, settings(), open_olt, now)
    decided = hsm.decided_ids(
        db, [i for incident in listing.incidents for i in (incident.id, *incident.gemeos)]
    )
    cooling = hsm.active_cooldowns(db, now)
    pending: list[dict[str, Any]] = []
    blocked: list[dict[str, Any]] = []
    for incident in listing.incidents:
        if decided & {incident.id, *incident.gemeos}:
            continue
        try:
            members = members_of(db, settings(), incident)
        except OltSystemError:
            members = []
        if members:
            incident = replace(incident, afetados=len(members))
        until = cooling.get(incident.key)
        shown = with_disparo_fields(incident.as_json())
        if until is None:
            pending.append({**shown, "em_cooldown": False})
            if affected is not None:
                affected.update(member_key(m) for m in members)
        else:
            blocked.append({**shown, "em_cooldown": True, "liberado_em": until})
    return pending, blocked, listing.warnings


def _uncertain() -> dict[str, Any]:
    db = get_db()
    decisions = [
        {
            **disparo_incident({**item["snapshot"], "numero": console_number(db, item["incidente"])}),
            "decisao_id": item["decisao_id"],
            "incertos": item["incertos"],
            "aguardando_confirmacao": item["aguardando_confirmacao"],
        }
        for item in dispatch.uncertain_notices(db, settings(), clock().wall())
    ]
    return {
        "total": sum(d["incertos"] for d in decisions),
        "aguardando_confirmacao": sum(d["aguardando_confirmacao"] for d in decisions),
        "decisoes": decisions,
    }


@bp.get("/api/detalhes/<incident_id>")
@requires("leitura")
def details(incident_id: str) -> Response | tuple[Response, int]:
    db = get_db()
    try:
        incident = find_incident(db, settings(), incident_id.strip())
        if incident is None:
            return error("incidente não encontrado", 404)
        customers = customers_of(db, settings(), incident)
    except OltSystemError as exc:
        return error(str(exc), 502)
    return jsonify({"info": _info(incident), "clientes": [c.as_json() for c in customers]})


def _info(incident: Incident) -> dict[str, Any]:
    db = get_db()
    until = hsm.blocked_until(db, [incident.key], time.time())
    decided = dispatch.existing_decision(db, incident.id)
    return {
        **with_disparo_fields(incident.as_json()),
        "em_cooldown": until is not None,
        "liberado_em": until,
        "decidido": decided is not None,
        **(
            {
                "decisao": decided.msg,
                "envio": {
                    "enviados": decided.enviados,
                    "na_fila": decided.na_fila,
                    "incertos": decided.incertos,
                },
            }
            if decided is not None
            else {}
        ),
    }


def _refuse(message: str, status: int) -> tuple[Response, int]:
    """A refused `/api/acao`: `disparo_hsm`'s page shows `msg` and reads `success`; ours read `erro`."""
    return jsonify({"success": False, "msg": message, "erro": message}), status


@bp.post("/api/acao")
@requires("operador")
def action() -> Response | tuple[Response, int]:
    body = request.get_json(silent=True)
    problem = _bad_body(body)
    if problem:
        return _refuse(problem, 400)
    assert isinstance(body, dict)
    db = get_db()
    try:
        incident = find_incident(db, settings(), str(body["id"]).strip())
    except OltSystemError as exc:
        return _refuse(str(exc), 502)
    if incident is None:
        return _refuse("incidente não encontrado", 404)
    comment = str(body.get("comentario") or "")[:MAX_COMMENT]
    try:
        outcome = _decide(incident, str(body["acao"]), comment, body.get("template"))
    except dispatch.DispatchRefused as refused:
        return _refuse(str(refused), refused.status)
    return jsonify(outcome.as_json())


def _bad_body(body: Any) -> str | None:
    if not isinstance(body, dict):
        return 'corpo inválido: envie JSON {"id", "acao": "aprovar" | "negar"}'
    incident_id = body.get("id")
    if (
        isinstance(incident_id, bool)
        or not isinstance(incident_id, str | int)
        or str(incident_id).strip() == ""
    ):
        return "campo id ausente ou inválido"
    if body.get("acao") not in (dispatch.APPROVE, dispatch.DENY):
        return "acao inválida: use aprovar ou negar"
    if body.get("template") is not None and not isinstance(body.get("template"), str | int):
        return "template inválido"
    if body.get("comentario") is not None and not isinstance(body.get("comentario"), str):
        return "comentario inválido"
    return None


def _decide(incident: Incident, action: str, comment: str, choice: Any) -> dispatch.Outcome:
    db = get_db()
    now = time.time()
    if action == dispatch.DENY:
        return dispatch.deny(db, incident, current_user(), comment, now)
    repeated = dispatch.existing_decision(db, incident.id)
    if repeated is not None:  # checked again inside the approval's transaction
        if repeated.row_ids:  # notices still queued (a crash stopped the first click's sending): now
            deliver_rows(settings().database, settings(), repeated.row_ids, max_wait=DISPATCH_WAIT)
            repeated = dispatch.existing_decision(db, incident.id) or repeated
        return repeated
    template = dispatch.choose_template(settings(), incident, None if choice is None else str(choice))
    if not incident.ativo:
        raise dispatch.DispatchRefused("incidente já normalizado: nada a enviar", 409)
    until = hsm.blocked_until(db, dispatch.cooldown_keys(incident, template), now)
    if until is not None:
        raise dispatch.DispatchRefused(dispatch.blocked_message(incident, until), 409)
    customers = customers_of(db, settings(), incident)
    outcome = dispatch.approve(db, settings(), incident, customers, template, current_user(), comment, now)
    if outcome.row_ids:
        stats = deliver_rows(settings().database, settings(), outcome.row_ids, max_wait=DISPATCH_WAIT)
        outcome.enviados -= stats.failed + stats.uncertain
        outcome.falhas = stats.failed
        outcome.incertos = stats.uncertain
        if stats.failed:
            outcome.msg += f" {plural(stats.failed, 'falhou', 'falharam')}."
        if stats.uncertain:
            may = "pode" if stats.uncertain == 1 else "podem"
            outcome.msg += f" {br_number(stats.uncertain)} sem resposta do provedor ({may} ter saído)."
    return outcome


@bp.post("/api/painel/incertos/reenviar")
@requires("operador")
def resend_uncertain() -> Response | tuple[Response, int]:
    body = request.get_json(silent=True) if request.get_data() else {}  # an unreadable body is no "{}"
    decision = body.get("decisao_id") if isinstance(body, dict) else None
    if not isinstance(body, dict) or (
        decision is not None
        and (isinstance(decision, bool) or not isinstance(decision, int) or not 0 < decision <= MAX_INTEGER)
    ):
        return _refuse('corpo inválido: envie JSON {} ou {"decisao_id": <número>}', 400)
    db = get_db()
    resend = dispatch.resend_uncertain(db, settings(), decision, current_user(), clock().wall())
    rows, waiting = resend.rows, _awaiting_words(resend.awaiting)
    if not rows:
        nothing = "Nenhum aviso para reenviar agora:" if waiting else "Nenhum aviso incerto para reenviar."
        answer = {"success": True, "msg": f"{nothing}{waiting}", "reenviados": 0}
        return jsonify({**answer, "aguardando_confirmacao": resend.awaiting})
    stats = deliver_rows(settings().database, settings(), rows, max_wait=DISPATCH_WAIT)
    may = "pode chegar repetido" if len(rows) == 1 else "podem chegar repetidos"
    message = (
        f"{plural(len(rows), 'aviso reenviado', 'avisos reenviados')} ({br_number(len(rows))} {may}"
        f" a quem já o recebeu): {plural(stats.sent, 'aceito', 'aceitos')} pelo provedor"
    )
    if stats.failed or stats.uncertain:
        failed = plural(stats.failed, "falhou", "falharam")
        message += f", {failed}, {br_number(stats.uncertain)} de novo sem resposta"
    answer = {"success": True, "msg": f"{message}.{waiting}", "reenviados": len(rows), "aceitos": stats.sent}
    return jsonify({**answer, "aguardando_confirmacao": resend.awaiting})


def _awaiting_words(count: int) -> str:
    """ " 3 aguardam a confirmação do WhatsApp ...": the uncertain notices left out of a resend."""
    if not count:
        return ""
    verb = "aguarda" if count == 1 else "aguardam"
    minutes = int(dispatch.CONFIRMATION_WAIT // 60)
    return (
        f" {br_number(count)} {verb} a confirmação do WhatsApp (até {minutes} min depois da parada);"
        " os que ele não confirmar poderão ser reenviados depois."
    )


@bp.get("/api/historico")
@requires("leitura")
def decisions() -> Response:
    limit = int_arg(request.args, "limite", 200, 1, MAX_HISTORY)
    entries = history.history(get_db(), time.time(), limit)
    if request.args.get("formato") == "csv":
        return _csv_file(history.to_csv(entries), "historico_disparos.csv")
    if request.args.get("formato") == "csv-destinatarios":
        return _csv_file(history.recipients_csv(get_db(), entries), "destinatarios_disparos.csv")
    return jsonify(entries)


def _csv_file(text: str, name: str) -> Response:
    return Response(
        text.encode("utf-8"),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={name}"},
    )
