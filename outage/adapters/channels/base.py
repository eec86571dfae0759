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
