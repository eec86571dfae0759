"""Plain data shared by the ERP readers, the detector, the store and the analyzers."""

from __future__ import annotations

import operator
from dataclasses import dataclass

UNKNOWN_CONNECTION = "Desconhecida"

# Values of the event cause (`motivo`).
CAUSE_POWER = "energia"
CAUSE_LOS = "loss"
CAUSE_UNKNOWN = "indeterminado"
CAUSES = (CAUSE_POWER, CAUSE_LOS, CAUSE_UNKNOWN)


@dataclass(frozen=True, slots=True)
class Subscriber:
    """One PPPoE login as the ERP describes it (every value a string, as IXC sends them).

    A foreign key of "" or "0" means "no link" (IXC's convention).
    """

    login: str
    conexao: str = UNKNOWN_CONNECTION
    id: str = ""
    id_cliente: str = ""
    id_contrato: str = ""
    id_transmissor: str = ""
    onu_mac: str = ""
    interface_transmissao: str = ""
    id_caixa_ftth: str = ""
    ultima_conexao_final: str = ""


SUBSCRIBER_FIELDS = tuple(Subscriber.__dataclass_fields__)
SEPARATOR = "\x1f"  # ASCII unit separator: never part of an ERP value (readers strip it)
_values = operator.attrgetter(*SUBSCRIBER_FIELDS)


def pack(sub: Subscriber) -> str:
    """The subscriber's fields as one string, for one-column storage."""
    return SEPARATOR.join(_values(sub))


def unpack(data: str) -> Subscriber:
    """The inverse of `pack`."""
    return Subscriber(*data.split(SEPARATOR))


RECORD_SEPARATOR = "\x1e"
_FIELD_COUNT = len(SUBSCRIBER_FIELDS)


def pack_dropped(subs: list[Subscriber], dropped_at: float) -> str:
    """Subscribers with the time they dropped, as one text (see `unpack_dropped`)."""
    suffix = f"{SEPARATOR}{dropped_at!r}"
    return RECORD_SEPARATOR.join(pack(sub) + suffix for sub in subs)


def unpack_dropped(blob: str) -> list[tuple[Subscriber, float]]:
    """The inverse of `pack_dropped` (concatenations of its outputs joined by U+001E too)."""
    result = []
    for record in blob.split(RECORD_SEPARATOR) if blob else ():
        values = record.split(SEPARATOR)
        result.append((Subscriber(*values[:_FIELD_COUNT]), float(values[_FIELD_COUNT])))
    return result


def mask_phone(phone: str) -> str:
    """`5511987654321` -> `5511*****4321`: enough to tell numbers apart in a log."""
    if len(phone) <= 8:
        return "*" * len(phone)
    return phone[:4] + "*" * (len(phone) - 8) + phone[-4:]


def shown_target(provider: str, target: str) -> str:
    """A delivery target as logs may show it: WhatsApp numbers masked, chat ids as they are."""
    return f"{provider}:{mask_phone(target) if provider in ('hsm', 'whatsapp_cloud') else target}"
