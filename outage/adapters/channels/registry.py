"""The channels, as a table of their descriptors, and how an outbox row names its channel.

Adding a channel is one module declaring its settings and its `ChannelKind`
(`outage.adapters.channels.base`), one line in `CHANNELS`, and its tests: the configuration
(`outage.config.load_settings(channels=CHANNELS)` has each channel read and check its own
settings), the start-up warnings, the Saúde page, the log redaction and the dispatch
console's template choice read the table.

The order of `CHANNELS` is the order of preference: the first configured channel that
reaches customers sends the HSM dispatch console's notices (the HSM provider before the
Cloud API, as the original console).

An outbox row's `channel` is `<provider>:<target>` for NOC alerts -- one row per
Telegram chat, per WhatsApp number, per middleware route, so each destination has its own
status and retries -- or just `<provider>` for rows that carry their target in the
payload (`"to"`, the HSM dispatch console's per-customer rows).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests

from outage.adapters.channels import alert_service, hsm_provider, telegram, whatsapp_cloud
from outage.adapters.channels.base import Channel, ChannelKind
from outage.config import Settings
from outage.core.model import mask_phone

CHANNELS: tuple[ChannelKind, ...] = (
    telegram.KIND,
    hsm_provider.KIND,
    whatsapp_cloud.KIND,
    alert_service.KIND,
)


def configured_channels(settings: Settings) -> list[str]:
    """The outbox channel names every NOC alert is written to (empty: none configured)."""
    return [f"{kind.name}:{target}" for kind in CHANNELS for target in kind.destinations(settings)]


def build_channels(settings: Settings, session: requests.Session | None = None) -> dict[str, Channel]:
    """One channel object per configured provider, keyed by provider name. `HSM_SEND_RATE`
    (messages per second) sets the pace of those that reach customers."""
    channels: dict[str, Channel] = {}
    for kind in CHANNELS:
        if not kind.enabled(settings):
            continue
        channels[kind.name] = kind.build(settings, session)
        if kind.reaches_customers and settings.hsm_send_rate:
            channels[kind.name].provider_interval = 1.0 / settings.hsm_send_rate
    return channels


def kind_named(name: str) -> ChannelKind | None:
    """The channel called `name` (an outbox row's provider), None when there is none."""
    return next((kind for kind in CHANNELS if kind.name == name), None)


def secrets(settings: Settings) -> list[str]:
    """Every channel's secrets in `settings`, for `outage.http.register_secret`."""
    return [secret for kind in CHANNELS for secret in kind.secrets(settings)]


def customer_kinds() -> list[ChannelKind]:
    """The channels that can send the customers' notices, in order of preference."""
    return [kind for kind in CHANNELS if kind.reaches_customers]


def customer_channel(settings: Settings) -> ChannelKind | None:
    """The channel an approval sends through: the first configured one that reaches customers."""
    return next((kind for kind in customer_kinds() if kind.enabled(settings)), None)


def customer_setup() -> str:
    """How to configure a customer channel, for hints ("URL_HSM e TOKEN_HSM ou ...")."""
    return " ou ".join(kind.setup for kind in customer_kinds())


def shown_target(provider: str, target: str) -> str:
    """A delivery target as logs may show it: phone numbers masked, chat ids as they are."""
    kind = kind_named(provider)
    return f"{provider}:{mask_phone(target) if kind and kind.phone_targets else target}"


def split_channel(channel: str, payload: Mapping[str, Any]) -> tuple[str, str]:
    """`telegram:-100123` -> (`telegram`, `-100123`); `hsm` + payload `to` -> (`hsm`, to)."""
    provider, _, target = channel.partition(":")
    return provider, target or str(payload.get("to") or "")
