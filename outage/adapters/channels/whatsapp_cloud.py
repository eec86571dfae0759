"""Meta WhatsApp Cloud API: template messages (`POST {api}/{phone_number_id}/messages`).

NOC alerts use the template `WHATSAPP_NOC_TEMPLATE` (pt_BR, utility) whose body has one
parameter, {{1}}, filled with the one-line text of the alert. Customer notices from the
HSM dispatch console (`hsm_cliente` rows) name their own template and parameters.
Accepted is not delivered: delivery comes later by webhook; the `wamid` is stored. Meta's
webhook (`POST /webhooks/whatsapp`, signed with the app secret in `X-Hub-Signature-256`) reports
each message's status; `statuses_of` reads them. A customer notice carries its reference
(`biz_opaque_callback_data`, see `outage.core.notices.notice_reference`), which Meta echoes in every status
of that message, so a status names the notice it is about even when its `wamid` never reached us.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import requests

from outage.adapters.channels.base import (
    ChannelKind,
    CustomerNotices,
    HealthLine,
    Receipt,
    json_body,
    own_settings,
    short_text,
)
from outage.adapters.channels.messages import WHATSAPP_PARAM_LIMIT, clip, plural, render_text
from outage.config import Reader, Settings
from outage.core.kinds import CUSTOMER_TEMPLATE
from outage.core.notices import WhatsAppStatus
from outage.http import TransportError, call, register_secret

log = logging.getLogger(__name__)

RETRYABLE_CODES = frozenset({130429, 131056, 80007, 131000, 133004})
TOKEN_EXPIRED = 190
_TEMPLATE_NAME = re.compile(r"[a-z0-9_]{1,512}")
_NUMBER_ID = re.compile(r"[0-9]{1,20}")


STATUSES = ("sent", "delivered", "read", "failed")


def signature_ok(app_secret: str, body: bytes, header: str) -> bool:
    """`X-Hub-Signature-256: sha256=<hex>`: the HMAC-SHA256 of the raw body with the app secret."""
    if not app_secret or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header[len("sha256=") :].strip().lower())


def statuses_of(body: Any) -> list[WhatsAppStatus]:
    """The message statuses of a webhook notification (`entry[].changes[].value.statuses[]`);
    anything else in it (incoming messages, other fields) is ignored. Raises `ValueError`
    when the body is not a WhatsApp Business notification."""
    if not isinstance(body, dict) or body.get("object") != "whatsapp_business_account":
        raise ValueError("notificação que não é do WhatsApp Business")
    found = []
    for entry in _list(body.get("entry")):
        for change in _list(entry.get("changes") if isinstance(entry, dict) else None):
            value = change.get("value") if isinstance(change, dict) else None
            for item in _list(value.get("statuses") if isinstance(value, dict) else None):
                status = _status(item)
                if status is not None:
                    found.append(status)
    return found


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _status(item: Any) -> WhatsAppStatus | None:
    if not isinstance(item, dict):
        return None
    wamid, recipient, state = (str(item.get(k) or "") for k in ("id", "recipient_id", "status"))
    try:
        at = float(str(item.get("timestamp", "")))
    except ValueError:
        return None
    if not wamid or not recipient.isdigit() or state not in STATUSES:
        return None
    errors = [e for e in _list(item.get("errors")) if isinstance(e, dict)]
    error = "; ".join(
        f"{e.get('code', '')} {e.get('title') or e.get('message') or ''}".strip() for e in errors
    )
    reference = str(item.get("biz_opaque_callback_data") or "")[:512]
    return WhatsAppStatus(wamid[:200], recipient[:20], state, at, error[:300], reference)


@dataclass(frozen=True)
class WhatsAppCloudSettings:
    """The account (token and sender's number id), the NOC's numbers and template, the status
    webhook's secrets, and the customers' templates per incident type."""

    token: str = field(default="", repr=False)
    phone_number_id: str = ""
    api_url: str = "https://graph.facebook.com/v21.0"
    noc_numbers: tuple[str, ...] = ()
    noc_template: str = "alerta_noc"
    app_secret: str = field(default="", repr=False)
    webhook_verify_token: str = field(default="", repr=False)
    template_los: str = "queda_massiva_los"
    template_power: str = "queda_massiva_energia"
    template_concentrator: str = ""

    @property
    def enabled(self) -> bool:
        return bool(self.token and self.phone_number_id)


def _is_phone(value: str) -> bool:
    return value.isdigit() and 12 <= len(value) <= 13 and value.startswith("55")


def read(r: Reader) -> WhatsAppCloudSettings:
    """The Cloud API's settings from the environment; problems appended to `r.problems`.
    `WHATSAPP_NOC_NUMBERS` are the NOC's numbers for any WhatsApp provider (the HSM
    provider's too)."""
    s = WhatsAppCloudSettings(
        token=r.text("WHATSAPP_TOKEN", ""),
        phone_number_id=r.text("WHATSAPP_PHONE_NUMBER_ID", ""),
        api_url=r.url("WHATSAPP_API_URL", "https://graph.facebook.com/v21.0"),
        noc_numbers=r.items(
            "WHATSAPP_NOC_NUMBERS", _is_phone, "Use 55 + DDD + número, só dígitos (ex.: 5511987654321)."
        ),
        noc_template=r.text("WHATSAPP_NOC_TEMPLATE", "alerta_noc"),
        app_secret=r.text("WHATSAPP_APP_SECRET", ""),
        webhook_verify_token=r.text("WHATSAPP_WEBHOOK_VERIFY_TOKEN", ""),
        template_los=r.text("WHATSAPP_TEMPLATE_LOS", "queda_massiva_los"),
        template_power=r.text("WHATSAPP_TEMPLATE_POWER", "queda_massiva_energia"),
        template_concentrator=r.text("WHATSAPP_TEMPLATE_CONCENTRATOR", ""),
    )
    r.problems.extend(problems(s))
    return s


def problems(s: WhatsAppCloudSettings) -> list[str]:
    """Settings that go in pairs, and what the Cloud API would refuse on every message: the
    sender's number id and the template names (lowercase letters, digits and `_`, as Meta
    names them)."""
    found = []
    if bool(s.app_secret) != bool(s.webhook_verify_token):
        found.append(
            "WHATSAPP_APP_SECRET e WHATSAPP_WEBHOOK_VERIFY_TOKEN devem ser definidos juntos (o webhook de"
            " status da Meta: a chave secreta do app e o token de verificação que você cadastrou)."
        )
    if bool(s.token) != bool(s.phone_number_id):
        found.append("WHATSAPP_TOKEN e WHATSAPP_PHONE_NUMBER_ID devem ser definidos juntos.")
    if not s.enabled:
        return found
    if not _NUMBER_ID.fullmatch(s.phone_number_id):
        found.append(
            f"WHATSAPP_PHONE_NUMBER_ID={s.phone_number_id!r} inválido: use o id numérico do"
            " número em Meta Business > WhatsApp > Configuração da API (não o telefone)."
        )
    templates = {
        "WHATSAPP_NOC_TEMPLATE": s.noc_template,
        "WHATSAPP_TEMPLATE_LOS": s.template_los,
        "WHATSAPP_TEMPLATE_POWER": s.template_power,
        "WHATSAPP_TEMPLATE_CONCENTRATOR": s.template_concentrator,
    }
    for name, value in templates.items():
        if value and not _TEMPLATE_NAME.fullmatch(value):
            found.append(
                f"{name}={value!r} não é um nome de modelo do WhatsApp: use letras minúsculas, dígitos"
                " e _ (ex.: queda_massiva_los), como aparece no Gerenciador de modelos."
            )
    return found


def settings_of(settings: Settings) -> WhatsAppCloudSettings:
    """The Cloud API's settings in `settings`."""
    return own_settings(settings, KIND.name, WhatsAppCloudSettings)


def template_text(value: Any) -> str:
    """A body parameter as the Cloud API accepts it: one line (no tabs, newlines or runs of
    spaces) of at most `WHATSAPP_PARAM_LIMIT` characters."""
    return clip(" ".join(str(value).split()), WHATSAPP_PARAM_LIMIT)


class WhatsAppCloudChannel:
    provider = "whatsapp_cloud"
    # 80 messages/s per number by default; about one message per 6 s to the same person.
    provider_interval = 1.0 / 80
    target_interval = 6.0

    def __init__(
        self,
        token: str,
        phone_number_id: str,
        *,
        api_url: str = "https://graph.facebook.com/v21.0",
        noc_template: str = "alerta_noc",
        language: str = "pt_BR",
        session: requests.Session | None = None,
        timeout: float = 10.0,
    ) -> None:
        register_secret(token)
        self._url = f"{api_url.rstrip('/')}/{phone_number_id}/messages"
        self._headers = {"Authorization": f"Bearer {token}"}
        self._noc_template = noc_template
        self._language = language
        self._session = session
        self._timeout = timeout

    def send(self, target: str, kind: str, payload: Mapping[str, Any]) -> Receipt:
        """Send one template message to phone `target`."""
        template, params = self._template_for(kind, payload)
        body = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": target,
            "type": "template",
            "template": {
                "name": template,
                "language": {"code": str(payload.get("idioma") or self._language)},
                "components": [
                    {
                        "type": "body",
                        "parameters": [{"type": "text", "text": template_text(p)} for p in params],
                    }
                ],
            },
        }
        if kind == CUSTOMER_TEMPLATE and payload.get("referencia"):
            body["biz_opaque_callback_data"] = str(payload["referencia"])
        response = call(
            "POST",
            self._url,
            session=self._session,
            timeout=self._timeout,
            retries=0,
            json=body,
            headers=self._headers,
        )
        answer = json_body(response)
        if response.status_code == 200 and answer.get("messages"):
            return Receipt(provider_message_id=str(answer["messages"][0].get("id") or ""))
        raise self._error(response, answer)

    def _template_for(self, kind: str, payload: Mapping[str, Any]) -> tuple[str, list[Any]]:
        if kind == CUSTOMER_TEMPLATE:
            return str(payload["template"]), list(payload.get("params") or [])
        return self._noc_template, [render_text(kind, payload)]

    def _error(self, response: requests.Response, answer: dict[str, Any]) -> TransportError:
        error = answer.get("error") or {}
        code = int(error.get("code") or 0)
        details = (
            (error.get("error_data") or {}).get("details") or error.get("message") or short_text(response)
        )
        message = f"WhatsApp recusou a mensagem (HTTP {response.status_code}, código {code}): {details}"
        if code == TOKEN_EXPIRED:
            log.error("WHATSAPP_TOKEN expirado ou inválido: gere um token permanente no Meta Business.")
            return TransportError(message, permanent=True, status=response.status_code)
        if code in RETRYABLE_CODES or response.status_code == 429:
            retry_after = response.headers.get("Retry-After")
            return TransportError(
                message, retry_after=float(retry_after) if retry_after else None, status=response.status_code
            )
        return TransportError(message, permanent=True, status=response.status_code)


def build(settings: Settings, session: requests.Session | None) -> WhatsAppCloudChannel:
    s = settings_of(settings)
    return WhatsAppCloudChannel(
        s.token, s.phone_number_id, api_url=s.api_url, noc_template=s.noc_template, session=session
    )


def destinations(settings: Settings) -> list[str]:
    """Every NOC number gets every alert, as the template `WHATSAPP_NOC_TEMPLATE`."""
    s = settings_of(settings)
    return list(s.noc_numbers) if s.enabled else []


def health(settings: Settings) -> HealthLine | None:
    """Shown when it sends the NOC's alerts."""
    s = settings_of(settings)
    if not (s.enabled and s.noc_numbers):
        return None
    numbers = plural(len(s.noc_numbers), "número do NOC", "números do NOC")
    return HealthLine(True, f"{numbers}, modelo {s.noc_template}")


def customer_templates(settings: Settings) -> dict[str, str]:
    s = settings_of(settings)
    return {"LOS": s.template_los, "POWER": s.template_power, "CONCENTRADOR": s.template_concentrator}


def secrets(settings: Settings) -> tuple[str, ...]:
    s = settings_of(settings)
    return (s.token, s.app_secret, s.webhook_verify_token)


KIND = ChannelKind(
    name="whatsapp_cloud",
    label="WhatsApp do NOC (API oficial)",
    settings=(
        "WHATSAPP_TOKEN",
        "WHATSAPP_PHONE_NUMBER_ID",
        "WHATSAPP_API_URL",
        "WHATSAPP_NOC_NUMBERS",
        "WHATSAPP_NOC_TEMPLATE",
        "WHATSAPP_APP_SECRET",
        "WHATSAPP_WEBHOOK_VERIFY_TOKEN",
        "WHATSAPP_TEMPLATE_LOS",
        "WHATSAPP_TEMPLATE_POWER",
        "WHATSAPP_TEMPLATE_CONCENTRATOR",
    ),
    read=read,
    setup="WHATSAPP_TOKEN e WHATSAPP_PHONE_NUMBER_ID",
    enabled=lambda settings: settings_of(settings).enabled,
    build=build,
    destinations=destinations,
    health=health,
    secrets=secrets,
    customers=CustomerNotices(
        "API oficial do WhatsApp",
        customer_templates,
        {
            "LOS": "WHATSAPP_TEMPLATE_LOS",
            "POWER": "WHATSAPP_TEMPLATE_POWER",
            "CONCENTRADOR": "WHATSAPP_TEMPLATE_CONCENTRATOR",
        },
    ),
    phone_targets=True,
    noc_setup="WHATSAPP_NOC_NUMBERS com WHATSAPP_TOKEN e WHATSAPP_PHONE_NUMBER_ID",
)
