"""The contract every cause analyzer follows (seed middleware, Huawei, ZTE, OLT system)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from outage.model import CAUSE_UNKNOWN, Subscriber


@dataclass
class CauseReport:
    """Why and where an event's customers dropped.

    motivo: `energia` | `loss` | `indeterminado`.
    votos: counts per classification, e.g. {"energia": 3, "loss": 0, "sem_voto": 1}.
    evidencias: one dict per ONU looked at, e.g. {"login", "olt", "fsp" or "onu_index",
        "ont_id", "causa_bruta", "caiu_em", "classificacao"}.
    local: the place in Portuguese ("CTO 123", "PON 0/1/2 da OLT-CENTRO", "OLT-CENTRO inteira").
    local_detalhe: the same place as data, e.g. {"nivel": "pon", "olt": "OLT-CENTRO", "pon": "0/1/2"}.
    erros: reasons (in Portuguese) some ONU or OLT could not be consulted; never secrets.
    """

    motivo: str = CAUSE_UNKNOWN
    votos: dict[str, int] = field(default_factory=dict)
    evidencias: list[dict[str, Any]] = field(default_factory=list)
    local: str = ""
    local_detalhe: dict[str, Any] = field(default_factory=dict)
    erros: list[str] = field(default_factory=list)


class CauseAnalyzer(Protocol):
    """Given an event's dropped subscribers, find the cause and the place.

    Must return by `deadline` (a `time.monotonic()` value) and never raise: any failure
    becomes `indeterminado` with the reason in `erros`.
    """

    def analyze(self, subscribers: Sequence[Subscriber], deadline: float) -> CauseReport: ...
