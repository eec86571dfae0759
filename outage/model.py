"""Plain data shared by the ERP readers, the detector, the store and the analyzers."""

from __future__ import annotations

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
