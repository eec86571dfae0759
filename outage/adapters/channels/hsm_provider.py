"""The original console's HSM provider (a Brazilian chatbot platform): `POST URL_HSM`.

Headers `Authorization: <TOKEN_HSM>` and, when `HSM_COOKIE` is set, `Cookie: <HSM_COOKIE>`
(the original dispatch console sent both with every request); JSON `{"cod_conta", "hsm": <template id>,
"tipo_envio": 2, "contato": {"nome", "telefone"}}`; 200/201 = accepted. The provider's
templates take no parameters, so NOC alerts use the generic template `HSM_NOC_TEMPLATE`
("new outage alert, see Telegram/dashboard"); customer notices (`hsm_cliente` rows) name
their template id.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import requests

from outage.adapters.channels.base import (
    ChannelKind,
    CustomerNotices,
    HealthLine,
    Receipt,
    json_body,
    short_text,
)
from outage.adapters.channels.messages import clip, plural
from outage.config import Settings
from outage.core.kinds import CUSTOMER_TEMPLATE
from outage.http import TransportError, call, register_secret

MAX_CONTACT_NAME = 100
_TEMPLATE_ID = re.compile(r"[0-9]{1,12}")


def settings_problems(settings: Settings) -> list[str]:
    """Template ids the provider would refuse on every message, found at start-up."""
    if not settings.hsm_provider_enabled:
        return []
    templates = {
        "HSM_NOC_TEMPLATE": settings.hsm_noc_template,
        "HSM_TEMPLATE_LOS": settings.hsm_template_los,
        "HSM_TEMPLATE_POWER": settings.hsm_template_power,
        "HSM_TEMPLATE_CONCENTRATOR": settings.hsm_template_concentrator,
        "HSM_TEMPLATE_NORMALIZED": settings.hsm_template_normalized,
    }
    return [
        f"{name}={value!r} inválido: use o id numérico do modelo no provedor HSM (ex.: 114)."
        for name, value in templates.items()
        if value and not _TEMPLATE_ID.fullmatch(value)
    ]


class HSMProviderChannel:
    provider = "hsm"
    # The provider publishes no limits; 1,000 per second unless `HSM_SEND_RATE` says otherwise.
    provider_interval = 1.0 / 1000
    target_interval = 6.0

    def __init__(
        self,
        url: str,
        token: str,
        *,
        account: int = 1,
        noc_template: str = "",
        cookie: str = "",
        session: requests.Session | None = None,
        timeout: float = 10.0,
    ) -> None:
        register_secret(token)
        register_secret(cookie)
        self._url = url
        self._headers = {"Authorization": token, **({"Cookie": cookie} if cookie else {})}
        self._account = account
        self._noc_template = noc_template
        self._session = session
        self._timeout = timeout

    def send(self, target: str, kind: str, payload: Mapping[str, Any]) -> Receipt:
        """Ask the provider to send template `hsm` to phone `target`."""
        template = str(payload["template"]) if kind == CUSTOMER_TEMPLATE else self._noc_template
        if not template:
            raise TransportError("HSM_NOC_TEMPLATE não configurado para alertas ao NOC", permanent=True)
        body = {
            "cod_conta": self._account,
            "hsm": int(template) if _TEMPLATE_ID.fullmatch(template) else template,
            "tipo_envio": 2,
            "contato": {
                "nome": clip(str(payload.get("nome") or "NOC"), MAX_CONTACT_NAME),
                "telefone": target,
            },
        }
        response = call(
            "POST",
            self._url,
            session=self._session,
            timeout=self._timeout,
            retries=0,
            json=body,
            headers=self._headers,
        )
        if response.status_code in (200, 201):
            answer = json_body(response)
            message_id = answer.get("id") or answer.get("protocolo") or answer.get("message_id")
            return Receipt(provider_message_id=None if message_id is None else str(message_id))
        message = f"Provedor HSM recusou a mensagem (HTTP {response.status_code}): {short_text(response)}"
        if response.status_code == 429:
            retry_after = response.headers.get("Retry-After")
            raise TransportError(message, retry_after=float(retry_after) if retry_after else None, status=429)
        raise TransportError(message, permanent=True, status=response.status_code)


def build(settings: Settings, session: requests.Session | None) -> HSMProviderChannel:
    return HSMProviderChannel(
        settings.url_hsm,
        settings.token_hsm,
        account=settings.hsm_account,
        noc_template=settings.hsm_noc_template,
        cookie=settings.hsm_cookie,
        session=session,
    )


def destinations(settings: Settings) -> list[str]:
    """The NOC numbers, when the provider has the NOC's template (`HSM_NOC_TEMPLATE`)."""
    if not (settings.hsm_provider_enabled and settings.hsm_noc_template):
        return []
    return list(settings.whatsapp_noc_numbers)


def health(settings: Settings) -> HealthLine | None:
    """Shown when the provider is meant to reach the NOC (numbers or the NOC's template set)."""
    s = settings
    if not (s.hsm_provider_enabled and (s.whatsapp_noc_numbers or s.hsm_noc_template)):
        return None
    if not (s.whatsapp_noc_numbers and s.hsm_noc_template):
        return HealthLine(
            False, "sem HSM_NOC_TEMPLATE" if s.whatsapp_noc_numbers else "sem WHATSAPP_NOC_NUMBERS"
        )
    numbers = plural(len(s.whatsapp_noc_numbers), "número do NOC", "números do NOC")
    return HealthLine(True, f"{numbers}, modelo {s.hsm_noc_template}")


def warnings(settings: Settings) -> list[str]:
    """The NOC's numbers without the NOC's template, or the template without numbers."""
    found = []
    if settings.hsm_provider_enabled and settings.whatsapp_noc_numbers and not settings.hsm_noc_template:
        found.append(
            "URL_HSM configurado sem HSM_NOC_TEMPLATE: o NOC não receberá alertas pelo provedor HSM "
            "(informe o id do modelo de alerta do NOC)."
        )
    if settings.hsm_noc_template and not settings.whatsapp_noc_numbers:
        found.append(
            "HSM_NOC_TEMPLATE definido sem WHATSAPP_NOC_NUMBERS: informe os números do NOC (55 + DDD + número)."
        )
    return found


def customer_templates(settings: Settings) -> dict[str, str]:
    return {
        "LOS": settings.hsm_template_los,
        "POWER": settings.hsm_template_power,
        "CONCENTRADOR": settings.hsm_template_concentrator,
    }


KIND = ChannelKind(
    name="hsm",
    label="WhatsApp do NOC (provedor HSM)",
    settings=(
        "URL_HSM",
        "TOKEN_HSM",
        "HSM_ACCOUNT",
        "HSM_COOKIE",
        "HSM_NOC_TEMPLATE",
        "HSM_TEMPLATE_LOS",
        "HSM_TEMPLATE_POWER",
        "HSM_TEMPLATE_CONCENTRATOR",
        "HSM_TEMPLATE_NORMALIZED",
    ),
    setup="URL_HSM e TOKEN_HSM",
    enabled=lambda settings: settings.hsm_provider_enabled,
    build=build,
    destinations=destinations,
    health=health,
    settings_problems=settings_problems,
    warnings=warnings,
    secrets=lambda settings: (settings.token_hsm, settings.hsm_cookie),
    customers=CustomerNotices(
        "provedor HSM",
        customer_templates,
        {
            "LOS": "HSM_TEMPLATE_LOS",
            "POWER": "HSM_TEMPLATE_POWER",
            "CONCENTRADOR": "HSM_TEMPLATE_CONCENTRATOR",
        },
    ),
    phone_targets=True,
    noc_setup="WHATSAPP_NOC_NUMBERS com URL_HSM, TOKEN_HSM e HSM_NOC_TEMPLATE",
)
