"""Customer notices between the outbox and the providers: how a notice names its outbox row
to the provider, and the status Meta reports about a message.

When sent, a customer notice's payload also carries "referencia" (`notice_reference`), which
a provider that echoes it back in its delivery statuses returns (the Cloud API's
`biz_opaque_callback_data`): a status then names the very notice it is about.
"""

from __future__ import annotations

from dataclasses import dataclass

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
class WhatsAppStatus:
    """One status Meta reported: its message id, the number, the state and when (epoch)."""

    wamid: str
    recipient: str
    status: str  # sent, delivered, read or failed
    at: float
    error: str = ""
    reference: str = ""  # our `biz_opaque_callback_data`, echoed by Meta ("" when absent)
