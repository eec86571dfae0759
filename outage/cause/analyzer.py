"""The composite analyzer the poller calls: sample, route per OLT, ask in parallel, vote, place.

Each OLT of the sample is asked by its backend (Huawei / ZTE over SSH, the OLT management
system, or the seed middleware for ids missing from the inventory) in its own worker
thread; `analyze` waits for them only until `deadline`, so a hung OLT costs its votes,
never the monitor's cycle. Nothing here raises out of `analyze`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from itertools import zip_longest
from typing import Any

from outage.cause import huawei, middleware, zte
from outage.cause import olt_system as olt_api
from outage.cause.base import CauseReport
from outage.cause.inventory import OltEntry
from outage.cause.parsers import NO_VOTE, normalize_fsp
from outage.cause.place import describe_place, olt_label
from outage.cause.ssh import OltError, OltResult, open_cli
from outage.model import CAUSE_LOS, CAUSE_POWER, CAUSE_UNKNOWN, Subscriber

log = logging.getLogger(__name__)

MIN_VOTES = 2
_SSH_CONSULT = {"huawei": huawei.consult, "zte": zte.consult}

Job = Callable[[float], OltResult]


def choose_sample(subscribers: Sequence[Subscriber], size: int) -> list[Subscriber]:
    """Up to `size` subscribers spread round-robin across (OLT, PON), located ones first."""
    groups: dict[tuple[str, str], list[Subscriber]] = defaultdict(list)
    for subscriber in subscribers:
        groups[(subscriber.id_transmissor, normalize_fsp(subscriber.interface_transmissao))].append(
            subscriber
        )
    for members in groups.values():
        members.sort(key=lambda s: not (s.onu_mac or s.interface_transmissao))
    ordered = [s for row in zip_longest(*groups.values()) for s in row if s is not None]
    return ordered[:size]


def decide(votes: Mapping[str, int], sampled: int) -> str:
    """Majority of `energia` vs `loss`; a tie or fewer than MIN_VOTES votes → `indeterminado`."""
    power, loss = votes.get(CAUSE_POWER, 0), votes.get(CAUSE_LOS, 0)
    if power + loss < min(MIN_VOTES, max(sampled, 1)) or power == loss:
        return CAUSE_UNKNOWN
    return CAUSE_POWER if power > loss else CAUSE_LOS


class CompositeAnalyzer:
    """Routes each OLT to its backend; see the module docstring."""

    def __init__(
        self,
        inventory: Mapping[str, OltEntry],
        *,
        sample_size: int = 5,
        olt_timeout: float = 20.0,
        middleware_url: str = "",
        olt_system: olt_api.OltSystemClient | None = None,
    ) -> None:
        self.inventory = dict(inventory)
        self.sample_size = sample_size
        self.olt_timeout = olt_timeout
        self.middleware_url = middleware_url
        self.olt_system = olt_system
        self.olt_names = {ident: entry.name for ident, entry in self.inventory.items()}

    def analyze(self, subscribers: Sequence[Subscriber], deadline: float) -> CauseReport:
        """Cause and place of one event's dropped subscribers, by `deadline`; never raises."""
        try:
            return self._analyze(list(subscribers), deadline)
        except Exception:
            log.exception("falha inesperada na análise de causa")
            return CauseReport(erros=["Falha interna na análise de causa (ver log)."])

    def _analyze(self, subscribers: list[Subscriber], deadline: float) -> CauseReport:
        sample = choose_sample(subscribers, self.sample_size)
        by_olt: dict[str, list[Subscriber]] = defaultdict(list)
        for subscriber in sample:
            by_olt[subscriber.id_transmissor.strip()].append(subscriber)
        jobs: dict[str, Job] = {}
        errors: list[str] = []
        for ident, members in by_olt.items():
            job = self._job(ident, members)
            if isinstance(job, str):
                errors.append(job)
            else:
                jobs[ident] = job
        results = _run_parallel(jobs, deadline, self.olt_timeout)
        evidences: list[dict[str, Any]] = []
        for ident in jobs:
            result = results.get(ident)
            if result is None:
                errors.append(f"{self._label(ident)} não respondeu dentro do prazo da análise.")
                continue
            evidences += result.evidencias
            errors += result.erros
        return self._report(subscribers, sample, evidences, errors)

    def _label(self, ident: str) -> str:
        return olt_label(ident, self.olt_names) or "OLT sem id_transmissor"

    def _job(self, ident: str, members: list[Subscriber]) -> Job | str:
        """The call that asks this OLT, or the reason (in Portuguese) nobody can be asked."""
        entry = self.inventory.get(ident)
        if entry is not None and entry.backend == "olt_system":
            if self.olt_system is None:
                return f"{entry.name}: backend olt_system, mas API_BASE_URL/API_AUTH_URL não configurados."
            client = self.olt_system
            return lambda budget: olt_api.consult(client, entry.name, members)
        if entry is not None:
            return lambda budget: _ask_over_ssh(entry, members, budget)
        if self.middleware_url and ident:
            url = self.middleware_url
            return lambda budget: middleware.consult(url, ident, members, budget)
        if not ident:
            return "Logins sem id_transmissor no ERP: não há OLT a consultar."
        return f"id_transmissor {ident} não está no inventário de OLTs (OLT_INVENTORY) e OLT_SERVICE_URL não está definido."

    def _report(
        self,
        subscribers: list[Subscriber],
        sample: list[Subscriber],
        evidences: list[dict[str, Any]],
        errors: list[str],
    ) -> CauseReport:
        counts = Counter(e.get("classificacao", NO_VOTE) for e in evidences)
        votes = {CAUSE_POWER: counts[CAUSE_POWER], CAUSE_LOS: counts[CAUSE_LOS], NO_VOTE: counts[NO_VOTE]}
        motivo = decide(votes, len(sample))
        local, detail = describe_place(subscribers, evidences, self.olt_names, motivo)
        for error in errors:
            log.warning("análise de causa: %s", error)
        log.info("causa=%s votos=%s local=%s", motivo, votes, local)
        return CauseReport(
            motivo=motivo, votos=votes, evidencias=evidences, local=local, local_detalhe=detail, erros=errors
        )


def _ask_over_ssh(entry: OltEntry, members: list[Subscriber], budget: float) -> OltResult:
    try:
        with open_cli(entry, budget) as cli:
            return _SSH_CONSULT[entry.vendor](cli, members)
    except OltError as exc:
        return OltResult(erros=[str(exc)])


def _run_parallel(jobs: Mapping[str, Job], deadline: float, olt_timeout: float) -> dict[str, OltResult]:
    """Run each job in a daemon thread; collect what finished by `deadline`."""
    results: dict[str, OltResult] = {}
    lock = threading.Lock()
    budget = max(0.5, min(olt_timeout, deadline - time.monotonic()))

    def worker(ident: str, job: Job) -> None:
        try:
            outcome = job(budget)
        except Exception as exc:  # a backend bug must cost only this OLT's votes
            log.exception("falha ao consultar a OLT %s", ident)
            outcome = OltResult(
                erros=[f"Falha inesperada ao consultar id_transmissor {ident}: {type(exc).__name__}"]
            )
        with lock:
            results[ident] = outcome

    threads = [
        threading.Thread(target=worker, args=(ident, job), name=f"causa-olt-{ident}", daemon=True)
        for ident, job in jobs.items()
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    with lock:
        return dict(results)
