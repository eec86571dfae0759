"""The HSM dispatch console's routes (the seed's `disparo_hsm`), a blueprint of the app.

- `GET /api/incidentes` -> `{"incidentes": [...], "em_cooldown": [...], "avisos": [...]}`:
  open incidents pending a decision (id, fonte, tipo, olt, slot_pon, afetados, inicio,
  causa_provavel, local, chave); those whose key is in cooldown are listed apart with
  `liberado_em`; decided ones are left out.
- `GET /api/detalhes/<id>` -> `{"info": {...}, "clientes": [{"client_id", "sn_onu",
  "client_name", "status", "slot_pon", "contact", "ultimo_aviso", "erro"}]}`.
- `POST /api/acao` `{"id", "acao": "aprovar" | "negar", "comentario"?, "template"?}` ->
  `{"success", "msg", "enviados", "falhas", "sem_telefone", "ignorados", "repetido"}`;
  404 unknown id, 400 bad body/action, 409 key in cooldown, 503 no WhatsApp provider.
- `GET /api/historico[?formato=csv][&limite=N]` -> `{"historico": [...]}` or CSV.

Approval sends synchronously for up to `DISPATCH_WAIT` seconds through the fast path of
`outage.hsm.delivery` (1,000 notices to a provider answering in 50 ms take about 0.2 s);
whatever is left (time ran out, transient failures) is delivered by the background outbox
sender, so the request never waits long and nothing is lost.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from flask import Blueprint, Response, jsonify, request

from outage.alerts.messages import br_time
from outage.api import current_user, error, get_db, requires, settings
from outage.cause.olt_system import OltSystemError
from outage.hsm import dispatch, history
from outage.hsm.delivery import deliver_rows
from outage.hsm.enrich import customers_of
from outage.hsm.incidents import Incident, find_incident, open_incidents

log = logging.getLogger(__name__)

bp = Blueprint("hsm_dispatch", __name__)
DISPATCH_WAIT = 3.0
MAX_COMMENT = 1000


@bp.get("/api/incidentes")
@requires("leitura")
def incidents() -> Response:
    db = get_db()
    now = time.time()
    listing = open_incidents(db, settings())
    open_olt = {i.id for i in listing.incidents if i.fonte == "olt"} if listing.olt_read else None
    dispatch.settle_normalized(db, settings(), open_olt, now)
    decided = dispatch.decided_ids(db, [i.id for i in listing.incidents])
    cooling = dispatch.active_cooldowns(db, now)
    pending: list[dict[str, Any]] = []
    blocked: list[dict[str, Any]] = []
    for incident in listing.incidents:
        if incident.id in decided:
            continue
        until = cooling.get(incident.key)
        if until is None:
            pending.append({**incident.as_json(), "em_cooldown": False})
        else:
            blocked.append({**incident.as_json(), "em_cooldown": True, "liberado_em": until})
    return jsonify({"incidentes": pending, "em_cooldown": blocked, "avisos": listing.warnings})


@bp.get("/api/detalhes/<incident_id>")
@requires("leitura")
def details(incident_id: str) -> Response | tuple[Response, int]:
    db = get_db()
    try:
        incident = find_incident(db, settings(), incident_id)
        if incident is None:
            return error("incidente não encontrado", 404)
        customers = customers_of(db, settings(), incident)
    except OltSystemError as exc:
        return error(str(exc), 502)
    return jsonify({"info": _info(incident), "clientes": [c.as_json() for c in customers]})


def _info(incident: Incident) -> dict[str, Any]:
    db = get_db()
    until = dispatch.blocked_until(db, [incident.key], time.time())
    decided = dispatch.existing_decision(db, incident.id)
    return {
        **incident.as_json(),
        "em_cooldown": until is not None,
        "liberado_em": until,
        "decidido": decided is not None,
    }


@bp.post("/api/acao")
@requires("operador")
def action() -> Response | tuple[Response, int]:
    body = request.get_json(silent=True)
    problem = _bad_body(body)
    if problem:
        return error(problem, 400)
    assert isinstance(body, dict)
    db = get_db()
    try:
        incident = find_incident(db, settings(), str(body["id"]))
    except OltSystemError as exc:
        return error(str(exc), 502)
    if incident is None:
        return error("incidente não encontrado", 404)
    comment = str(body.get("comentario") or "")[:MAX_COMMENT]
    try:
        outcome = _decide(incident, str(body["acao"]), comment, body.get("template"))
    except dispatch.DispatchRefused as refused:
        return jsonify({"success": False, "msg": str(refused), "erro": str(refused)}), refused.status
    return jsonify(outcome.as_json())


def _bad_body(body: Any) -> str | None:
    if not isinstance(body, dict):
        return 'corpo inválido: envie JSON {"id", "acao": "aprovar" | "negar"}'
    if not isinstance(body.get("id"), str | int) or str(body.get("id")).strip() == "":
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
    if repeated is not None:
        return repeated  # checked again inside the approval's transaction
    template = dispatch.choose_template(settings(), incident, None if choice is None else str(choice))
    if not incident.ativo:
        raise dispatch.DispatchRefused("incidente já normalizado: nada a enviar", 409)
    until = dispatch.blocked_until(db, dispatch.cooldown_keys(incident, template.tipo), now)
    if until is not None:
        raise dispatch.DispatchRefused(f"{incident.key} em espera (anti-oscilação) até {br_time(until)}", 409)
    customers = customers_of(db, settings(), incident)
    outcome = dispatch.approve(db, settings(), incident, customers, template, current_user(), comment, now)
    if outcome.row_ids:
        report = deliver_rows(settings().database_path, settings(), outcome.row_ids, max_wait=DISPATCH_WAIT)
        outcome.enviados -= report.failed
        outcome.falhas = report.failed
        if report.failed:
            outcome.msg += f" {report.failed} falharam."
    return outcome


@bp.get("/api/historico")
@requires("leitura")
def decisions() -> Response | tuple[Response, int]:
    limit_arg = request.args.get("limite", "200")
    if not limit_arg.isdigit() or not 1 <= int(limit_arg) <= 5000:
        return error("limite inválido: use um número entre 1 e 5000", 400)
    entries = history.history(get_db(), int(limit_arg))
    if request.args.get("formato") == "csv":
        return Response(
            history.to_csv(entries),
            mimetype="text/csv",
            headers={"Content-Disposition": "attachment; filename=historico_disparos.csv"},
        )
    return jsonify({"historico": entries})
