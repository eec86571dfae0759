"""The contract every message channel implements, and the pieces they share.

A channel turns one outbox row into one provider call. The row's `channel` column is
`<provider>` or `<provider>:<target>` (see `registry.py`); the sender resolves the target
(a Telegram chat id, a phone number, a middleware route) and calls
`channel.send(target, kind, payload)`.

`send()` returns a `Receipt` when the provider accepted the message and raises
`outage.http.TransportError` otherwise: `permanent=True` when retrying cannot help
(chat not found, template missing, token expired), else transient, with `retry_after`
when the provider said how long to wait.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import requests

from outage.http import TransportError, decode_json, redact

# Kind of the per-customer WhatsApp rows written by the HSM dispatch console. Payload:
# {"to": "5511987654321", "nome": "...", "template": "114" | "queda_massiva_los",
#  "params": ["...", ...]} -- one row per phone, row channel `whatsapp_cloud` or `hsm`.
CUSTOMER_TEMPLATE = "hsm_cliente"
# When sent, a customer notice's payload also carries "referencia" (`notice_reference`), which
# a provider that echoes it back in its delivery statuses returns (the Cloud API's
# `biz_opaque_callback_data`): a status then names the very notice it is about.
REFERENCE_PREFIX = "aviso:"


def notice_reference(row_id: int) -> str:
    """How a customer notice names its outbox row to the provider."""
    return f"{REFERENCE_PREFIX}{row_id}"


def notice_of_reference(reference: str) -> int | None:
    """The outbox row a reference names (None when it is not one of ours)."""
    number = reference.removeprefix(REFERENCE_PREFIX)
    if not reference.startswith(REFERENCE_PREFIX) or not (number.isascii() and number.isdigit()):
        return None
    return int(number) if len(number) <= 18 else None


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
