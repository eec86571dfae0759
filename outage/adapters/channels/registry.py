"""Which channels are configured, and how an outbox row names its channel and target.

An outbox row's `channel` is `<provider>:<target>` for NOC alerts -- one row per
Telegram chat, per WhatsApp number, per middleware route, so each destination has its own
status and retries -- or just `<provider>` for rows that carry their target in the
payload (`"to"`, the HSM dispatch console's per-customer rows).

With both `TELEGRAM_*` and `ALERT_SERVICE_URL` (the original monitor's shared `.env`) the
Telegram group would get every alert twice; it gets them once, straight from the Bot API,
and the alert service keeps only its WhatsApp route.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import requests

from outage.adapters.channels import hsm_provider, telegram, whatsapp_cloud
from outage.adapters.channels.alert_service import ROUTES, AlertServiceChannel
from outage.adapters.channels.base import Channel
from outage.adapters.channels.hsm_provider import HSMProviderChannel
from outage.adapters.channels.telegram import TelegramChannel
from outage.adapters.channels.whatsapp_cloud import WhatsAppCloudChannel
from outage.config import Settings

# Providers of customer notices; `HSM_SEND_RATE` (messages per second) overrides their pace.
CUSTOMER_PROVIDERS = ("hsm", "whatsapp_cloud")

# Each channel checks the settings it will use, so a value it would refuse on every
# message stops the start-up (and `--check-config`) instead.
SETTINGS_CHECKS: tuple[Callable[[Settings], list[str]], ...] = (
    telegram.settings_problems,
    whatsapp_cloud.settings_problems,
    hsm_provider.settings_problems,
)


def settings_problems(settings: Settings) -> list[str]:
    """Every channel's problems with `settings` (empty: all will accept them)."""
    return [problem for check in SETTINGS_CHECKS for problem in check(settings)]


def configured_channels(settings: Settings) -> list[str]:
    """The outbox channel names every NOC alert is written to (empty: none configured)."""
    names: list[str] = []
    if settings.telegram_enabled:
        names += [f"telegram:{chat}" for chat in settings.telegram_chat_ids]
    if settings.whatsapp_cloud_enabled:
        names += [f"whatsapp_cloud:{phone}" for phone in settings.whatsapp_noc_numbers]
    if settings.hsm_provider_enabled and settings.hsm_noc_template:
        names += [f"hsm:{phone}" for phone in settings.whatsapp_noc_numbers]
    if settings.alert_service_url:
        routes = [r for r in ROUTES if not (r == "telegram" and settings.telegram_enabled)]
        names += [f"alert_service:{route}" for route in routes]
    return names


def startup_warnings(settings: Settings) -> list[str]:
    """Operator-facing warnings about the alert configuration (Portuguese)."""
    warnings: list[str] = []
    if not configured_channels(settings):
        warnings.append(
            "Nenhum canal de alerta configurado: os eventos serão registrados, mas o NOC não será "
            "avisado. Configure TELEGRAM_BOT_TOKEN e TELEGRAM_CHAT_ID, WHATSAPP_NOC_NUMBERS com "
            "WHATSAPP_TOKEN/WHATSAPP_PHONE_NUMBER_ID (ou URL_HSM/TOKEN_HSM/HSM_NOC_TEMPLATE), "
            "ou ALERT_SERVICE_URL."
        )
    if settings.hsm_provider_enabled and settings.whatsapp_noc_numbers and not settings.hsm_noc_template:
        warnings.append(
            "URL_HSM configurado sem HSM_NOC_TEMPLATE: o NOC não receberá alertas pelo provedor HSM "
            "(informe o id do modelo de alerta do NOC)."
        )
    if settings.alert_service_url and settings.telegram_enabled:
        warnings.append(
            "TELEGRAM_BOT_TOKEN/TELEGRAM_CHAT_ID e ALERT_SERVICE_URL definidos: os alertas do Telegram "
            "saem direto pela API de bots, uma vez por grupo; o serviço de alertas original fica só com "
            "o WhatsApp (/alerta/whatsapp)."
        )
    return warnings


def build_channels(settings: Settings, session: requests.Session | None = None) -> dict[str, Channel]:
    """One channel object per configured provider, keyed by provider name."""
    channels: dict[str, Channel] = {}
    if settings.telegram_bot_token:
        channels["telegram"] = TelegramChannel(
            settings.telegram_bot_token,
            api_url=settings.telegram_api_url,
            thread_id=settings.telegram_thread_id,
            max_clients=settings.max_clients_in_message,
            per_chat_per_minute=settings.telegram_per_chat_per_minute,
            session=session,
        )
    if settings.whatsapp_cloud_enabled:
        channels["whatsapp_cloud"] = WhatsAppCloudChannel(
            settings.whatsapp_token,
            settings.whatsapp_phone_number_id,
            api_url=settings.whatsapp_api_url,
            noc_template=settings.whatsapp_noc_template,
            session=session,
        )
    if settings.hsm_provider_enabled:
        channels["hsm"] = HSMProviderChannel(
            settings.url_hsm,
            settings.token_hsm,
            account=settings.hsm_account,
            noc_template=settings.hsm_noc_template,
            cookie=settings.hsm_cookie,
            session=session,
        )
    if settings.alert_service_url:
        channels["alert_service"] = AlertServiceChannel(
            settings.alert_service_url, max_clients=settings.max_clients_in_message, session=session
        )
    for name in CUSTOMER_PROVIDERS:
        if name in channels and settings.hsm_send_rate:
            channels[name].provider_interval = 1.0 / settings.hsm_send_rate
    return channels


def split_channel(channel: str, payload: Mapping[str, Any]) -> tuple[str, str]:
    """`telegram:-100123` -> (`telegram`, `-100123`); `hsm` + payload `to` -> (`hsm`, to)."""
    provider, _, target = channel.partition(":")
    return provider, target or str(payload.get("to") or "")
