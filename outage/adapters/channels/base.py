"""The contract every message channel implements, and the pieces they share.

A channel turns one outbox row into one provider call. The row's `channel` column is
`<provider>` or `<provider>:<target>` (see `registry.py`); the sender resolves the target
(a Telegram chat id, a phone number, a middleware route) and calls
`channel.send(target, kind, payload)`.

`send()` returns a `Receipt` when the provider accepted the message and raises
`outage.http.TransportError` otherwise: `permanent=True` when retrying cannot help
(chat not found, template missing, token expired), else transient, with `retry_after`
when the provider said how long to wait.

Each channel module also declares a `ChannelKind`: everything the rest of the system needs
to know about it (its settings and their checks, its secrets, how to build it, where NOC
alerts go, its row on the Saúde page, whether it sends the customers' notices). The
registry is a tuple of them; nothing else names a channel.

A channel's settings are its own frozen dataclass, read by its `read(reader)` with the
configuration's reader (`outage.config.load_settings` is given the registry's channels) and
kept in `Settings.channels` under its name; `own_settings` gives them back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import requests

from outage.config import Reader, Settings, own_section
from outage.http import TransportError, decode_json, redact


@dataclass(frozen=True)
class Receipt:
    """What the provider answered when it accepted a message."""

    provider_message_id: str | None = None
    note: str = ""


class Channel(Protocol):
    """One provider. Implementations are thread-safe: the sender calls them from a pool."""

    provider: str
    # Minimum seconds between two sends to the same target, and to the provider overall.
    target_interval: float
    provider_interval: float

    def send(self, target: str, kind: str, payload: Mapping[str, Any]) -> Receipt:
        """Deliver one message or raise `TransportError` (see the module docstring)."""
        ...


@dataclass(frozen=True)
class HealthLine:
    """A channel's row on the Saúde page: on (its detail) or off (why)."""

    on: bool
    detail: str


@dataclass(frozen=True)
class CustomerNotices:
    """How a channel sends the customers' notices of the HSM dispatch console.

    label: the provider as the console names it ("provedor HSM").
    templates: the configured template per incident type (`LOS`, `POWER`, `CONCENTRADOR`,
        as `outage.hsm.incidents` names them); "" when that type has none.
    template_settings: the setting that names each type's template.
    """

    label: str
    templates: Callable[[Settings], dict[str, str]]
    template_settings: Mapping[str, str]


S = TypeVar("S")


def own_settings(settings: Settings, name: str, kind: type[S]) -> S:
    """Channel `name`'s own settings in `settings`; its defaults (the channel off) when
    `settings` were built without them."""
    return own_section(settings.channels, name, kind)


def _nothing(settings: Settings) -> list[str]:
    return []


def _no_secrets(settings: Settings) -> tuple[str, ...]:
    return ()


@dataclass(frozen=True)
class ChannelKind:
    """One message channel, as the registry, the configuration checks, the Saúde page, the
    log redaction and the dispatch console's template choice see it.

    name: the provider, first part of an outbox row's channel (`telegram:-100123`).
    label: its row on the Saúde page (pt-BR).
    settings: the variables it reads (`.env.example` documents each).
    read: its own settings from the configuration's reader (kept in `Settings.channels` under
        `name`); the problems of its values, alone or together, appended to `reader.problems`.
    setup: what turns it on, for hints ("URL_HSM e TOKEN_HSM").
    noc_setup: what makes it reach the NOC, when more than `setup` ("" = `setup`).
    enabled: whether the settings turn it on (it is then built).
    build: the channel object for `settings` (enabled) and an optional shared session.
    destinations: the targets every NOC alert is written to (empty: it gets none).
    health: its row on the Saúde page, or None when it is not shown.
    cross_checks: problems of its settings with others (another channel's), found once every
        channel has read its own (they stop the start-up, as `read`'s do).
    warnings: settings that leave it half done (said at start-up and by `--check-config`).
    secrets: the values `outage.http.redact` must mask in logs and API answers.
    customers: how it sends customer notices; None when it reaches only the NOC.
    phone_targets: its targets are phone numbers (masked in logs).
    """

    name: str
    label: str
    settings: tuple[str, ...]
    read: Callable[[Reader], object]
    setup: str
    enabled: Callable[[Settings], bool]
    build: Callable[[Settings, requests.Session | None], Channel]
    destinations: Callable[[Settings], list[str]]
    health: Callable[[Settings], HealthLine | None]
    cross_checks: Callable[[Settings], list[str]] = _nothing
    warnings: Callable[[Settings], list[str]] = _nothing
    secrets: Callable[[Settings], tuple[str, ...]] = _no_secrets
    customers: CustomerNotices | None = None
    phone_targets: bool = False
    noc_setup: str = ""

    @property
    def reaches_customers(self) -> bool:
        return self.customers is not None


def json_body(response: requests.Response) -> dict[str, Any]:
    """The JSON object of an answer, or `{}` when it is not one."""
    try:
        body = decode_json(response)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def short_text(response: requests.Response, limit: int = 300) -> str:
    """The start of an answer's body, redacted, for an error message."""
    text = response.text or ""
    return redact(text if len(text) <= limit else text[:limit] + "…")


def unsupported(provider: str, kind: str) -> TransportError:
    return TransportError(f"{provider}: tipo de mensagem não suportado: {kind}", permanent=True)
