"""The original console's HSM provider (a Brazilian chatbot platform): `POST URL_HSM`.

Headers `Authorization: <TOKEN_HSM>` and, when `HSM_COOKIE` is set, `Cookie: <HSM_COOKIE>`
(the original dispatch console sent both with every request); JSON `{"cod_conta", "hsm": <template id>,
"tipo_envio": 2, "contato": {"nome", "telefone"}}`; 200/201 = accepted. The provider's
templates take no parameters, so NOC alerts use the generic template `HSM_NOC_TEMPLATE`
("new outage alert, see Telegram/dashboard"); customer notices (`hsm_cliente` rows) name
their template id.

The NOC's numbers are the WhatsApp ones (`WHATSAPP_NOC_NUMBERS`, read by the Cloud API's
module), and the provider sends the customers' notices before the Cloud API: the rules
that involve both channels live here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import requests

from outage.adapters.channels import whatsapp_cloud
from outage.adapters.channels.base import (
    ChannelKind,
    CustomerNotices,
    HealthLine,
    Receipt,
    json_body,
    own_settings,
    short_text,
)
from outage.adapters.channels.messages import clip, plural
from outage.config import Reader, Settings
from outage.core.kinds import CUSTOMER_TEMPLATE
from outage.http import TransportError, call, register_secret

MAX_CONTACT_NAME = 100
_TEMPLATE_ID = re.compile(r"[0-9]{1,12}")


@dataclass(frozen=True)
class HSMProviderSettings:
    """The provider's address and credentials (token, the original console's cookie), the
    account, the NOC's template and the customers' templates (ids), the normalization's too."""

    url: str = ""
    token: str = field(default="", repr=False)
    account: int = 1
    cookie: str = field(default="", repr=False)
    noc_template: str = ""
    template_los: str = "114"
    template_power: str = "116"
    template_concentrator: str = ""
    template_normalized: str = ""

    @property
    def enabled(self) -> bool:
        return bool(self.url and self.token)


def read(r: Reader) -> HSMProviderSettings:
    """The provider's settings from the environment; problems appended to `r.problems`."""
    s = HSMProviderSettings(
        url=r.url("URL_HSM"),
        token=r.text("TOKEN_HSM", ""),
        account=r.number("HSM_ACCOUNT", 1, minimum=0),
        cookie=r.text("HSM_COOKIE", ""),
        noc_template=r.text("HSM_NOC_TEMPLATE", ""),
        template_los=r.text("HSM_TEMPLATE_LOS", "114"),
        template_power=r.text("HSM_TEMPLATE_POWER", "116"),
        template_concentrator=r.text("HSM_TEMPLATE_CONCENTRATOR", ""),
        template_normalized=r.text("HSM_TEMPLATE_NORMALIZED", ""),
    )
    r.problems.extend(problems(s))
    return s


def problems(s: HSMProviderSettings) -> list[str]:
    """The address without the token or the reverse, and template ids the provider would
    refuse on every message."""
    if bool(s.url) != bool(s.token):
        return ["URL_HSM e TOKEN_HSM devem ser definidos juntos."]
    if not s.enabled:
        return []
    templates = {
        "HSM_NOC_TEMPLATE": s.noc_template,
        "HSM_TEMPLATE_LOS": s.template_los,
        "HSM_TEMPLATE_POWER": s.template_power,
        "HSM_TEMPLATE_CONCENTRATOR": s.template_concentrator,
        "HSM_TEMPLATE_NORMALIZED": s.template_normalized,
    }
    return [
        f"{name}={value!r} inválido: use o id numérico do modelo no provedor HSM (ex.: 114)."
        for name, value in templates.items()
        if value and not _TEMPLATE_ID.fullmatch(value)
    ]


def cross_checks(settings: Settings) -> list[str]:
    """The NOC's WhatsApp numbers with no WhatsApp provider to send to them."""
    cloud = whatsapp_cloud.settings_of(settings)
    if cloud.noc_numbers and not (cloud.enabled or settings_of(settings).enabled):
        return [
            "WHATSAPP_NOC_NUMBERS definido sem provedor: configure WHATSAPP_TOKEN e "
            "WHATSAPP_PHONE_NUMBER_ID (API oficial) ou URL_HSM e TOKEN_HSM."
        ]
    return []


def settings_of(settings: Settings) -> HSMProviderSettings:
    """The provider's settings in `settings`."""
    return own_settings(settings, KIND.name, HSMProviderSettings)


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
    s = settings_of(settings)
    return HSMProviderChannel(
        s.url, s.token, account=s.account, noc_template=s.noc_template, cookie=s.cookie, session=session
    )


def destinations(settings: Settings) -> list[str]:
    """The NOC numbers, when the provider has the NOC's template (`HSM_NOC_TEMPLATE`)."""
    s = settings_of(settings)
    if not (s.enabled and s.noc_template):
        return []
    return list(whatsapp_cloud.settings_of(settings).noc_numbers)


def health(settings: Settings) -> HealthLine | None:
    """Shown when the provider is meant to reach the NOC (numbers or the NOC's template set)."""
    s, numbers = settings_of(settings), whatsapp_cloud.settings_of(settings).noc_numbers
    if not (s.enabled and (numbers or s.noc_template)):
        return None
    if not (numbers and s.noc_template):
        return HealthLine(False, "sem HSM_NOC_TEMPLATE" if numbers else "sem WHATSAPP_NOC_NUMBERS")
    return HealthLine(
        True, f"{plural(len(numbers), 'número do NOC', 'números do NOC')}, modelo {s.noc_template}"
    )


def warnings(settings: Settings) -> list[str]:
    """The NOC's numbers without the NOC's template, or the template without numbers; and a
    Cloud API account nobody uses (the provider sends the customers' notices and no NOC
    number is set)."""
    s, cloud = settings_of(settings), whatsapp_cloud.settings_of(settings)
    found = []
    if s.enabled and cloud.noc_numbers and not s.noc_template:
        found.append(
            "URL_HSM configurado sem HSM_NOC_TEMPLATE: o NOC não receberá alertas pelo provedor HSM "
            "(informe o id do modelo de alerta do NOC)."
        )
    if s.noc_template and not cloud.noc_numbers:
        found.append(
            "HSM_NOC_TEMPLATE definido sem WHATSAPP_NOC_NUMBERS: informe os números do NOC (55 + DDD + número)."
        )
    if cloud.enabled and s.enabled and not cloud.noc_numbers:
        found.append(
            "WHATSAPP_TOKEN configurado sem uso: os avisos aos clientes saem pelo provedor HSM (URL_HSM) e não há "
            "WHATSAPP_NOC_NUMBERS para os alertas do NOC. Informe os números do NOC ou remova WHATSAPP_TOKEN."
        )
    return found


def customer_templates(settings: Settings) -> dict[str, str]:
    s = settings_of(settings)
    return {"LOS": s.template_los, "POWER": s.template_power, "CONCENTRADOR": s.template_concentrator}


def secrets(settings: Settings) -> tuple[str, ...]:
    s = settings_of(settings)
    return (s.token, s.cookie)


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
    read=read,
    setup="URL_HSM e TOKEN_HSM",
    enabled=lambda settings: settings_of(settings).enabled,
    build=build,
    destinations=destinations,
    health=health,
    cross_checks=cross_checks,
    warnings=warnings,
    secrets=secrets,
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
