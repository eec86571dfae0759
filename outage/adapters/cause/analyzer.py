"""The composite analyzer the poller calls: sample, route per OLT, ask in parallel, vote, place.

Each OLT of the sample is asked by its backend (`registry.BACKENDS`: Huawei / ZTE over
SSH, the OLT management system, or the original monitor's middleware — also for ids missing from the
inventory) in its own worker thread; `analyze` waits for them only until `deadline`, so a
hung OLT costs its votes, never the monitor's cycle. Nothing here raises out of `analyze`.
Backends are built once, so what one learns about its OLT is kept between events.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from itertools import zip_longest
from typing import Any

from outage.adapters.cause.backend import OltBackend, OltResult, Sources
from outage.adapters.cause.base import CauseReport
from outage.adapters.cause.inventory import OltEntry
from outage.adapters.cause.olt_system import OltSystemClient
from outage.adapters.cause.place import describe_place, olt_label
from outage.adapters.cause.registry import build_backend
from outage.adapters.cause.verdict import decide, judge
from outage.core.droptime import ErpClock
from outage.core.model import Subscriber
from outage.core.place import normalize_fsp

log = logging.getLogger(__name__)

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


class CompositeAnalyzer:
    """Routes each OLT to its backend; see the module docstring."""

    def __init__(
        self,
        inventory: Mapping[str, OltEntry],
        *,
        sample_size: int = 5,
        olt_timeout: float = 20.0,
        middleware_url: str = "",
        olt_system: OltSystemClient | None = None,
    ) -> None:
        self.sources = Sources(olt_system=olt_system, middleware_url=middleware_url)
        self.backends: dict[str, OltBackend] = {
            ident: build_backend(entry, self.sources) for ident, entry in inventory.items()
        }
        self.sample_size = sample_size
        self.olt_timeout = olt_timeout
        self.olt_names = {ident: entry.name for ident, entry in inventory.items()}
        self.clocks: dict[str, ErpClock] = {}  # each OLT's clock offset, learned from its records
        self._lock = threading.Lock()

    def analyze(
        self, subscribers: Sequence[Subscriber], deadline: float, drops: Mapping[str, float] | None = None
    ) -> CauseReport:
        """Cause and place of one event's dropped subscribers, by `deadline`; never raises."""
        try:
            return self._analyze(list(subscribers), deadline, drops or {})
        except Exception:
            log.exception("falha inesperada na análise de causa")
            return CauseReport(erros=["Falha interna na análise de causa (ver log)."])

    def _analyze(
        self, subscribers: list[Subscriber], deadline: float, drops: Mapping[str, float]
    ) -> CauseReport:
        sample = choose_sample(subscribers, self.sample_size)
        by_olt: dict[str, list[Subscriber]] = defaultdict(list)
        for subscriber in sample:
            by_olt[subscriber.id_transmissor.strip()].append(subscriber)
        jobs: dict[str, Job] = {}
        errors: list[str] = []
        for ident, members in by_olt.items():
            backend = self._backend(ident)
            if isinstance(backend, str):
                errors.append(backend)
            else:
                jobs[ident] = _job(backend, members)
        results = _run_parallel(jobs, deadline, self.olt_timeout)
        evidences: list[dict[str, Any]] = []
        for ident in jobs:
            result = results.get(ident)
            if result is None:
                errors.append(f"{self._label(ident)} não respondeu dentro do prazo da análise.")
                continue
            evidences += result.evidencias
            errors += result.erros
        with self._lock:
            judged = judge(evidences, drops, self.clocks)
        return self._report(subscribers, sample, judged, errors)

    def _label(self, ident: str) -> str:
        return olt_label(ident, self.olt_names) or "OLT sem id_transmissor"

    def _backend(self, ident: str) -> OltBackend | str:
        """The backend that asks this OLT, or the reason (in Portuguese) nobody can be asked."""
        backend = self.backends.get(ident)
        if backend is not None:
            return backend
        if not ident:
            return "Logins sem id_transmissor no ERP: não há OLT a consultar."
        if not self.sources.middleware_url:
            return (
                f"id_transmissor {ident} não está no inventário de OLTs (OLT_INVENTORY) "
                "e OLT_SERVICE_URL não está definido."
            )
        with self._lock:
            if ident not in self.backends:
                self.backends[ident] = build_backend(OltEntry(ident, "", backend="middleware"), self.sources)
            return self.backends[ident]

    def _report(
        self,
        subscribers: list[Subscriber],
        sample: list[Subscriber],
        evidences: list[dict[str, Any]],
        errors: list[str],
    ) -> CauseReport:
        verdict = decide(evidences, len(sample))
        local, detail = describe_place(subscribers, evidences, self.olt_names, verdict.motivo)
        for error in errors:
            log.warning("análise de causa: %s", error)
        log.info("causa=%s votos=%s local=%s", verdict.motivo, verdict.votos, local)
        return CauseReport(
            motivo=verdict.motivo,
            votos=verdict.votos,
            evidencias=evidences,
            local=local,
            local_detalhe=detail,
            erros=errors,
            explicacao=verdict.explicacao,
        )


def _job(backend: OltBackend, members: list[Subscriber]) -> Job:
    return lambda olt_deadline: backend.consult(members, olt_deadline)


def _run_parallel(jobs: Mapping[str, Job], deadline: float, olt_timeout: float) -> dict[str, OltResult]:
    """Run each job in a daemon thread with its own deadline; collect what finished by `deadline`."""
    results: dict[str, OltResult] = {}
    lock = threading.Lock()
    olt_deadline = min(deadline, time.monotonic() + olt_timeout)

    def worker(ident: str, job: Job) -> None:
        try:
            outcome = job(olt_deadline)
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
