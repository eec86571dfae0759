"""Plain data shared by the ERP readers, the detector, the store and the analyzers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from outage.core.localtime import parse_erp_time

UNKNOWN_CONNECTION = "Desconhecida"

# Values of the event cause (`motivo`).
CAUSE_POWER = "energia"
CAUSE_LOS = "loss"
CAUSE_CONCENTRATOR = "concentrador"  # PPPoE sessions fell with the ONUs up: the BNG or the transport
CAUSE_UNKNOWN = "indeterminado"
CAUSE_MIXED = "misto"  # an incident whose parts have different causes (see `events.causas`)
CAUSES = (CAUSE_POWER, CAUSE_LOS, CAUSE_CONCENTRATOR, CAUSE_UNKNOWN, CAUSE_MIXED)
# the causes as the NOC reads them in a sentence ("energia em 3 PONs; concentrador no restante")
CAUSE_NAMES = {
    CAUSE_POWER: "energia",
    CAUSE_LOS: "rompimento de fibra (LOS)",
    CAUSE_CONCENTRATOR: "concentrador/transporte",
    CAUSE_UNKNOWN: "causa indeterminada",
    CAUSE_MIXED: "causas mistas",
}


@dataclass(frozen=True, slots=True)
class Subscriber:
    """One PPPoE login as the ERP describes it.

    Every value is a string, as IXC sends them, except `session_end`: the end of the last
    PPPoE session (`ultima_conexao_final`) in epoch seconds, 0.0 when never or unknown.
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
    session_end: float = 0.0


SUBSCRIBER_FIELDS = tuple(Subscriber.__dataclass_fields__)
TEXT_FIELDS = SUBSCRIBER_FIELDS[:-1]
SEPARATOR = "\x1f"  # ASCII unit separator: never part of an ERP value (readers strip it)


def pack(sub: Subscriber) -> str:
    """The subscriber's fields as one string, for one-column storage."""
    return SEPARATOR.join(
        (
            sub.login,
            sub.conexao,
            sub.id,
            sub.id_cliente,
            sub.id_contrato,
            sub.id_transmissor,
            sub.onu_mac,
            sub.interface_transmissao,
            sub.id_caixa_ftth,
            repr(sub.session_end),
        )
    )


def unpack(data: str) -> Subscriber:
    """The inverse of `pack`."""
    return _subscriber(data.split(SEPARATOR))


def _subscriber(values: list[str]) -> Subscriber:
    """A Subscriber from the stored fields (`pack` order)."""
    login, conexao, ident, cliente, contrato, transmissor, mac, interface, caixa, end = values[:_FIELD_COUNT]
    return Subscriber(
        login, conexao, ident, cliente, contrato, transmissor, mac, interface, caixa, _stored_time(end)
    )


def _stored_time(value: str) -> float:
    """A stored session end: epoch seconds, or the ERP's text in rows written before 0005."""
    try:
        return float(value)
    except ValueError:
        return parse_erp_time(value)


RECORD_SEPARATOR = "\x1e"
_FIELD_COUNT = len(SUBSCRIBER_FIELDS)


def pack_members(members: Iterable[tuple[Subscriber, float]]) -> str:
    """Subscribers with the time each dropped, as one text (see `unpack_dropped`)."""
    return RECORD_SEPARATOR.join(f"{pack(sub)}{SEPARATOR}{dropped_at!r}" for sub, dropped_at in members)


def unpack_dropped(blob: str) -> list[tuple[Subscriber, float]]:
    """The inverse of `pack_members` (concatenations of its outputs joined by U+001E too)."""
    result = []
    for record in blob.split(RECORD_SEPARATOR) if blob else ():
        values = record.split(SEPARATOR)
        result.append((_subscriber(values), float(values[_FIELD_COUNT])))
    return result


def cto_label(name: str) -> str:
    """A CTO as people read it: "CTO 95" for an id, a name that already says CTO as it is ("CTO-7")."""
    name = name.strip()
    return name if name[:3].upper() == "CTO" else f"CTO {name}"


def mask_phone(phone: str) -> str:
    """`5511987654321` -> `5511*****4321`: enough to tell numbers apart in a log."""
    if len(phone) <= 8:
        return "*" * len(phone)
    return phone[:4] + "*" * (len(phone) - 8) + phone[-4:]
