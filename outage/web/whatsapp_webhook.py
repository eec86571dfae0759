"""Meta's WhatsApp webhook: `GET /webhooks/whatsapp` answers the subscription check,
`POST /webhooks/whatsapp` takes the statuses of our messages.

Set up in Meta's app dashboard (WhatsApp > Configuration > Webhook): the callback URL
`https://<painel>/webhooks/whatsapp`, the verify token `WHATSAPP_WEBHOOK_VERIFY_TOKEN`, and the
`messages` field subscribed. Every POST is signed with the app secret (`WHATSAPP_APP_SECRET`)
in `X-Hub-Signature-256`; an unsigned or badly signed one is refused (403) and Meta's retries
never settle anything. A status settles a customer notice a crash left uncertain (see
`outage.storage.outbox.settle_uncertain`), and a `failed` one turns a notice recorded as sent
into `falhou` with Meta's reason. Without the two settings the route answers 404.
"""

from __future__ import annotations

import hmac
import json
import logging

import orjson
from flask import Blueprint, Response, request

from outage.adapters.channels.messages import plural
from outage.adapters.channels.whatsapp_cloud import settings_of, signature_ok, statuses_of
from outage.storage import outbox
from outage.web.api import clock, error, get_db, settings

log = logging.getLogger(__name__)
bp = Blueprint("whatsapp_webhook", __name__)


@bp.get("/webhooks/whatsapp")
def verify() -> tuple[Response | str, int]:
    s = settings_of(settings())
    if not s.webhook_verify_token:
        return error("webhook do WhatsApp não configurado (WHATSAPP_WEBHOOK_VERIFY_TOKEN)", 404)
    args = request.args
    if args.get("hub.mode") != "subscribe" or not _same(
        args.get("hub.verify_token", ""), s.webhook_verify_token
    ):
        log.warning("verificação do webhook do WhatsApp recusada: token ou modo errado")
        return error("token de verificação do webhook inválido", 403)
    challenge = args.get("hub.challenge", "")
    if not challenge.isdigit() or len(challenge) > 64:
        return error("hub.challenge inválido", 400)
    return Response(challenge, mimetype="text/plain"), 200


@bp.post("/webhooks/whatsapp")
def notify() -> tuple[Response, int]:
    s = settings_of(settings())
    if not s.app_secret:
        return error("webhook do WhatsApp não configurado (WHATSAPP_APP_SECRET)", 404)
    body = request.get_data(cache=False)
    if not signature_ok(s.app_secret, body, request.headers.get("X-Hub-Signature-256", "")):
        log.warning("notificação do webhook do WhatsApp com assinatura inválida recusada")
        return error("assinatura X-Hub-Signature-256 ausente ou inválida", 403)
    try:
        statuses = statuses_of(orjson.loads(body))
    except ValueError as exc:
        return error(f"notificação inválida: {exc}", 400)
    outcome = outbox.record_whatsapp_statuses(get_db(), statuses, clock().wall()) if statuses else None
    outcome = outcome or outbox.StatusOutcome()
    if outcome.settled:
        log.info(
            "webhook do WhatsApp: %s pelo status da Meta",
            plural(outcome.settled, "aviso incerto resolvido", "avisos incertos resolvidos"),
        )
    if outcome.undelivered:
        log.warning(
            "webhook do WhatsApp: %s",
            plural(
                outcome.undelivered,
                "aviso aceito que a Meta não entregou",
                "avisos aceitos que a Meta não entregou",
            ),
        )
    answer = {"recebidos": len(statuses), "resolvidos": outcome.settled, "nao_entregues": outcome.undelivered}
    return Response(json.dumps(answer), mimetype="application/json"), 200


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())
