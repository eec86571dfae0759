"""The contract every OLT backend follows, and the evidence shape they all produce.

A backend answers for one OLT of the inventory (SSH to a Huawei or ZTE, the OLT
management system, the original monitor's OLT service): `consult(subscribers, deadline)` gets the
sampled subscribers of that OLT and returns an `OltResult` by `deadline` (a
`time.monotonic()` value) — one evidence dict per ONU it could read, and in `erros` the
reason (Portuguese, no secrets) for each ONU or step it could not. It never raises.

`registry.BACKENDS` maps an inventory kind to its class; each class is built once per
analyzer with its inventory entry and the shared `Sources`, so what it learns about its
OLT (a ZTE's family, say) is remembered between events.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from outage.adapters.cause.inventory import OltEntry
from outage.adapters.cause.parsers import NO_VOTE, classify, olt_time
from outage.config import Settings
from outage.core.model import CAUSE_LOS, CAUSE_POWER, Subscriber

if TYPE_CHECKING:  # the OLT system's module holds its backend too, which imports this one
    from outage.adapters.cause.olt_system import OltSystemClient


def tally(evidences: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Votes per classification: `{"energia": n, "loss": n, "sem_voto": n}`."""
    counts = Counter(str(e.get("classificacao", NO_VOTE)) for e in evidences)
    return {CAUSE_POWER: counts[CAUSE_POWER], CAUSE_LOS: counts[CAUSE_LOS], NO_VOTE: counts[NO_VOTE]}


@dataclass
class OltResult:
    """What one OLT told: one evidence dict per ONU read, and the reasons for the gaps."""

    evidencias: list[dict[str, Any]] = field(default_factory=list)
    erros: list[str] = field(default_factory=list)

    @property
    def votos(self) -> dict[str, int]:
        return tally(self.evidencias)


def evidence(
    entry: OltEntry,
    login: str,
    raw_cause: str,
    down_time: str,
    source: str,
    *,
    classification: str = "",
    **details: Any,
) -> dict[str, Any]:
    """One ONU's evidence: who, where (`entry`'s OLT; `details`: `pon`, `ont_id`, ...), the raw cause, its vote.

    `classification` defaults to `classify(raw_cause)`; `caiu_em` is the down time as
    `YYYY-MM-DD HH:MM:SS` whatever form the OLT printed.
    """
    return {
        "login": login,
        "olt": entry.name,
        "id_transmissor": entry.id_transmissor,
        **details,
        "causa_bruta": raw_cause,
        "caiu_em": olt_time(down_time) or down_time,
        "classificacao": classification or classify(raw_cause),
        "fonte": source,
    }


@dataclass(frozen=True)
class Sources:
    """What the backends of one analyzer share."""

    olt_system: OltSystemClient | None = None
    middleware_url: str = ""


class OltBackend(ABC):
    """One way of asking one OLT why its ONUs went down (see the module docstring)."""

    over_ssh: ClassVar[bool] = False

    def __init__(self, olt: OltEntry, sources: Sources) -> None:
        self.olt = olt
        self.sources = sources

    @abstractmethod
    def consult(self, subscribers: Sequence[Subscriber], deadline: float) -> OltResult:
        """Evidence for `subscribers` (all of this OLT) by `deadline`; never raises."""

    @classmethod
    def model_problem(cls, model: str) -> str:
        """Why the inventory's `model` cannot be used by this kind ("" when it can)."""
        return ""

    @classmethod
    def settings_problem(cls, settings: Settings) -> str:
        """Which setting this kind needs and lacks, with a hint ("" when none)."""
        return ""
