"""The contract every cause analyzer follows (the original `monitor_service`'s OLT service, Huawei, ZTE, OLT system)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from outage.core.model import CAUSE_UNKNOWN, Subscriber


@dataclass
class CauseReport:
    """Why and where an event's customers dropped.

    motivo: `energia` | `loss` | `concentrador` | `indeterminado`.
    votos: ONUs per verdict, e.g. {"energia": 3, "loss": 0, "concentrador": 0, "sem_voto": 2}.
    evidencias: one dict per ONU looked at, e.g. {"login", "olt", "fsp" or "onu_index",
        "ont_id", "causa_bruta", "caiu_em", "classificacao", "estado", "conta",
        "motivo_exclusao"} (see `outage.adapters.cause.verdict`).
    local: the place in Portuguese ("CTO 123", "PON 0/1/2 da OLT-CENTRO", "OLT-CENTRO inteira").
    local_detalhe: the same place as data, e.g. {"nivel": "pon", "olt": "OLT-CENTRO", "pon": "0/1/2"}.
    erros: reasons (in Portuguese) some ONU or OLT could not be consulted; never secrets.
    explicacao: the verdict in words ("4 de 5 ONUs consultadas com queda de energia ...").
    """

    motivo: str = CAUSE_UNKNOWN
    votos: dict[str, int] = field(default_factory=dict)
    evidencias: list[dict[str, Any]] = field(default_factory=list)
    local: str = ""
    local_detalhe: dict[str, Any] = field(default_factory=dict)
    erros: list[str] = field(default_factory=list)
    explicacao: str = ""  # why the cause is what it is, in Portuguese


class CauseAnalyzer(Protocol):
    """Given an event's dropped subscribers, find the cause and the place.

    Must return by `deadline` (a `time.monotonic()` value) and never raise: any failure
    becomes `indeterminado` with the reason in `erros`. `drops` maps each login to the time
    it dropped (epoch seconds, our clock): only the records of that onset count.
    """

    def analyze(
        self, subscribers: Sequence[Subscriber], deadline: float, drops: Mapping[str, float] | None = None
    ) -> CauseReport: ...
