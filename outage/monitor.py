"""One poll cycle: read the ERP, detect, persist with alerts, find the cause.

A cycle either completes — the state diff, events, alerts and cycle record committed
together — or fails and changes nothing but the record of the failed cycle. A failed
ERP read never looks like "everyone reconnected": the next good cycle diffs against the
last good state.
"""

from __future__ import annotations

import gc
import json
import logging
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from outage import notices, store
from outage.alerts import outbox
from outage.alerts.messages import br_number
from outage.alerts.outbox import Alert
from outage.alerts.storm import is_storm, summarize_if_storm
from outage.cause.base import CauseAnalyzer, CauseReport
from outage.config import Settings
from outage.db import transaction
from outage.detector import (
    OPENING,
    RECURRENCE,
    WIDENING,
    Decision,
    Incident,
    MonitorState,
    Rules,
    detect,
)
from outage.erp.base import ErpReader, ErpReadError, Observation
from outage.model import CAUSE_UNKNOWN, Subscriber
from outage.place import describe, level_of

log = logging.getLogger(__name__)
QUORUM_MIN_SIZE = 10


class CycleFailed(Exception):
    """The cycle could not complete; the message (Portuguese) says why."""


@dataclass
class CycleResult:
    cycle_id: int
    counts: store.CycleCounts
    duration: float
    baseline: bool
    opened: list[str] = field(default_factory=list)
    alerts: int = 0

    def summary(self) -> str:
        c = self.counts
        head = "linha de base registrada" if self.baseline else "ciclo concluído"
        seconds = f"{self.duration:.2f}".replace(".", ",")
        return (
            f"{head}: {br_number(c.offline)} offline, {br_number(c.novas_quedas)} novas quedas,"
            f" {br_number(c.reconectados)} reconectados, {c.abertos} eventos abertos, {c.crescidos} ampliados,"
            f" {c.resolvidos} resolvidos, {self.alerts} alertas na fila, {seconds} s"
        )


def rules_for(settings: Settings) -> Rules:
    """The detection rules of these settings (see `outage.detector`)."""
    return Rules(
        threshold=settings.threshold_offline_clients,
        onset_window=settings.onset_window,
        flap_window=settings.flap_window,
        quorum=settings.resolve_quorum,
        quorum_min_size=QUORUM_MIN_SIZE,
        check_interval=settings.check_interval,
    )


Places = dict[str, tuple[str, dict[str, Any]]]  # incident id -> (local, local_detalhe)


class Monitor:
    """Runs poll cycles against one database. Not thread-safe: one poller thread owns it."""

    def __init__(
        self,
        settings: Settings,
        reader: ErpReader,
        analyzer: CauseAnalyzer | None,
        channels: Sequence[str],
        *,
        clock: Callable[[], float] = time.time,
        holder: str = "local",
        fenced: bool = False,
        olt_names: Mapping[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self.olt_names = dict(olt_names or {})
        self.reader = reader
        self.analyzer = analyzer
        self.channels = list(channels)
        self.clock = clock
        self.holder = holder
        self.fenced = fenced
        self.states = store.StateStore()
        self.last_detect_seconds = 0.0  # detection + persistence of the last cycle (for benchmarks)

    def run_cycle(self, conn: sqlite3.Connection) -> CycleResult:
        """Run one cycle; raises `CycleFailed` (after recording it) when it cannot complete."""
        started = self.clock()
        t0 = time.monotonic()
        cycle_id = store.start_cycle(conn, started, self.holder)
        try:
            state = self.states.load(conn)
            candidates = {login: entry.sub.id for login, entry in state.offline.items()}
            observation = self.reader.read(candidates)
        except ErpReadError as exc:
            self._record_failure(conn, cycle_id, started, t0, str(exc))
            raise CycleFailed(str(exc)) from exc
        try:
            try:
                decision, alerts, counts, t_detect = self._detect_and_save(
                    conn, state, observation, cycle_id, t0
                )
            except store.StateChanged:
                # an operator changed the state meanwhile: the observation still holds, retry on fresh state
                state = self.states.load(conn)
                decision, alerts, counts, t_detect = self._detect_and_save(
                    conn, state, observation, cycle_id, t0
                )
        except store.LeaseLost as exc:
            self._record_failure(conn, cycle_id, started, t0, f"ciclo descartado: {exc}")
            raise
        except Exception as exc:
            self._record_failure(conn, cycle_id, started, t0, f"falha ao gravar o ciclo: {exc}")
            raise CycleFailed(f"falha ao gravar o ciclo: {exc}") from exc
        self.last_detect_seconds = time.monotonic() - t_detect
        self.states.saved(conn)
        if decision.opened and self.analyzer is not None:
            self._find_causes(conn, decision, alerts)
        duration = time.monotonic() - t0
        conn.execute("UPDATE cycles SET duracao = ? WHERE id = ?", (duration, cycle_id))
        result = CycleResult(
            cycle_id,
            counts,
            duration,
            decision.baseline,
            [o.incident_id for o in decision.opened],
            len(alerts) * len(self.channels),
        )
        log.info("%s", result.summary())
        return result

    def _detect_and_save(
        self,
        conn: sqlite3.Connection,
        state: MonitorState,
        observation: Observation,
        cycle_id: int,
        t0: float,
    ) -> tuple[Decision, list[Alert], store.CycleCounts, float]:
        """Detect on `state` and commit the result; the state is dropped from the cache on failure."""
        now = self.clock()
        t_detect = time.monotonic()
        version = self.states.version
        try:
            with gc_paused():  # a mass drop allocates 100k+ objects: no collection mid-way
                decision = detect(
                    state,
                    observation.offline,
                    observation.online,
                    now,
                    rules_for(self.settings),
                    _new_id,
                )
                places = self.places(conn, state, decision)
                alerts = build_alerts(state, decision, places, self.olt_names, self.settings, now, cycle_id)
                counts = store.apply(
                    conn,
                    state,
                    decision,
                    now,
                    alerts,
                    self.channels,
                    cycle_id,
                    time.monotonic() - t0,
                    self.holder if self.fenced else None,
                    version,
                    self.settings.cause_timeout + 5.0 if self.analyzer is not None else 0.0,
                    places,
                )
        except BaseException:
            self.states.forget()
            raise
        return decision, alerts, counts, t_detect

    def places(self, conn: sqlite3.Connection, state: MonitorState, decision: Decision) -> Places:
        """Where each incident opened, changed or normalized this cycle is, in words and as data.

        A normalized incident keeps the place stored on its event (the cause step may have
        narrowed it with what the OLTs said).
        """
        changed = {o.incident_id for o in decision.opened} | {
            g.incident_id for g in decision.grown if g.widened_from
        }
        result: Places = {}
        for incident_id in changed:
            incident = state.incidents.get(incident_id)
            if incident is not None:
                result[incident_id] = describe(incident.place, incident.path, incident.units, self.olt_names)
        for resolution in decision.resolved:
            incident = resolution.incident
            result[incident.id] = store.event_place(conn, incident.id) or describe(
                incident.place, incident.path, incident.units, self.olt_names
            )
        return result

    def _record_failure(
        self, conn: sqlite3.Connection, cycle_id: int, started: float, t0: float, error: str
    ) -> None:
        duration = time.monotonic() - t0
        store.finish_cycle(conn, cycle_id, started + duration, False, error, None, duration)
        log.error("ciclo %d falhou: %s", cycle_id, error)

    def _find_causes(self, conn: sqlite3.Connection, decision: Decision, alerts: Sequence[Alert]) -> None:
        """Ask the analyzer for each new event's cause, in parallel, within the deadline."""
        assert self.analyzer is not None
        analyzer = self.analyzer
        deadline = time.monotonic() + self.settings.cause_timeout
        storm = any(a.kind == outbox.SUMMARY for a in alerts)
        pool = ThreadPoolExecutor(max_workers=min(8, len(decision.opened)), thread_name_prefix="causa")
        futures = {
            pool.submit(_safe_analyze, analyzer, [sub for sub, _ in o.subs], deadline): o
            for o in decision.opened
        }
        done, _ = wait(futures, timeout=max(0.0, deadline - time.monotonic()) + 1.0)
        pool.shutdown(wait=False, cancel_futures=True)
        causes: dict[str, CauseReport] = {}
        for future, opening in futures.items():
            report = future.result() if future in done else _late_report(self.settings)
            causes[opening.incident_id] = report
            self._save_cause(
                conn, opening.incident_id, len(opening.subs), report, opening.alert == OPENING, storm
            )
        summary = next((a for a in alerts if a.kind == outbox.SUMMARY), None)
        if summary is not None and summary.event_id:
            self._refresh_summary(conn, decision, summary, causes)

    def _refresh_summary(
        self, conn: sqlite3.Connection, decision: Decision, summary: Alert, causes: dict[str, CauseReport]
    ) -> None:
        """Put the causes found into a storm summary that has not been sent yet."""
        eventos = []
        for item in summary.payload["eventos"]:
            report = causes.get(str(item.get("id", "")))
            if report is not None:
                item = {**item, "motivo": report.motivo}
            eventos.append(item)
        payload = {**summary.payload, "eventos": eventos}
        assert summary.event_id is not None
        with transaction(conn):
            outbox.refresh_pending_payload(conn, summary.event_id, outbox.SUMMARY, payload, self.clock())

    def _save_cause(
        self,
        conn: sqlite3.Connection,
        event_id: str,
        total: int,
        report: CauseReport,
        alerted: bool,
        storm: bool,
    ) -> None:
        now = self.clock()
        with transaction(conn):
            conexao, local = store.save_cause(conn, event_id, report, now)
            if not alerted or storm:
                return
            row = conn.execute(
                "SELECT payload FROM outbox WHERE event_id = ? AND kind = ? LIMIT 1",
                (event_id, outbox.OPENING),
            ).fetchone()
            if row is None:
                return
            payload = json.loads(row["payload"])
            payload.update(motivo=report.motivo, local=local)
            already_sent = outbox.refresh_pending_payload(conn, event_id, outbox.OPENING, payload, now)
            if already_sent and report.motivo != CAUSE_UNKNOWN:
                follow_up = Alert(
                    outbox.CAUSE,
                    {"conexao": conexao, "motivo": report.motivo, "local": local, "total": total},
                    event_id,
                )
                outbox.enqueue(conn, [follow_up], already_sent, now)
        log.info("causa do incidente %s (%s): %s", event_id, local, report.motivo)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for a burst of allocations (nothing here is cyclic)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _safe_analyze(analyzer: CauseAnalyzer, subs: list[Subscriber], deadline: float) -> CauseReport:
    try:
        return analyzer.analyze(subs, deadline)
    except Exception as exc:  # the contract says never raise; a bug must not break the cycle
        log.exception("analisador de causa falhou")
        return CauseReport(erros=[f"erro interno do analisador: {type(exc).__name__}"])


def _late_report(settings: Settings) -> CauseReport:
    return CauseReport(erros=[f"análise de causa excedeu {settings.cause_timeout:g} s"])


def _new_id() -> str:
    return str(uuid.uuid4())


def build_alerts(
    state: MonitorState,
    decision: Decision,
    places: Places,
    names: Mapping[str, str],
    settings: Settings,
    now: float,
    cycle_id: int,
) -> list[Alert]:
    """The NOC alerts of one decision; more than STORM_THRESHOLD openings become one summary.

    A summary carries `ciclo-<id>` as its event id, so the cause step can refresh it.
    """
    incidents = {**{r.incident.id: r.incident for r in decision.resolved}, **state.incidents}
    openings = [o for o in decision.opened if o.alert == OPENING]
    opened_late = [g for g in decision.grown if g.alert == OPENING]
    storm = is_storm(len(openings) + len(opened_late), settings.storm_threshold)  # a summary lists no logins
    alerts = []
    for o in openings:
        payload = _opening(incidents[o.incident_id], places[o.incident_id][0], o.subs, storm)
        alerts.append(Alert(outbox.OPENING, payload, o.incident_id))
    recurrent = [o.incident_id for o in decision.opened if o.alert == RECURRENCE]
    recurrent += [g.incident_id for g in decision.grown if g.alert == RECURRENCE]
    for incident_id in recurrent:
        incident = incidents[incident_id]
        payload = notices.recurrence(
            incident.conexao,
            places[incident_id][0],
            len(incident.members),
            incident.recurrence,
            settings.flap_window,
            incident.first_drop,
        )
        alerts.append(Alert(outbox.RECURRENCE, payload, incident_id))
    for g in decision.grown:
        incident = incidents[g.incident_id]
        local = places.get(g.incident_id, ("", {}))[0]
        if g.alert == WIDENING and g.widened_from:
            previous = describe(g.widened_from, (g.widened_from, *incident.path), set(), names)[0]
            payload = notices.widening(
                incident.conexao, local, previous, [sub for sub, _ in g.subs], len(incident.members)
            )
            alerts.append(Alert(outbox.GROWTH, payload, g.incident_id))
        elif g.alert == OPENING:
            payload = _opening(incident, local, g.subs, storm)
            payload["total"] = len(incident.members)
            alerts.append(Alert(outbox.OPENING, payload, g.incident_id))
    for r in decision.resolved:
        if r.alert:
            payload = notices.normalization(
                r.incident.conexao,
                places[r.incident.id][0],
                r.total,
                r.incident.first_drop,
                now,
                r.back,
                r.stragglers,
            )
            alerts.append(Alert(outbox.NORMALIZATION, payload, r.incident.id))
    return [
        replace(a, event_id=f"ciclo-{cycle_id}") if a.kind == outbox.SUMMARY else a
        for a in summarize_if_storm(alerts, settings.storm_threshold)
    ]


def _opening(
    incident: Incident, local: str, subs: Sequence[tuple[Subscriber, float]], storm: bool
) -> dict[str, Any]:
    """The opening alert's payload: the logins that dropped (none listed in a storm)."""
    return notices.opening(
        incident.conexao,
        local,
        level_of(incident.place),
        [sub for sub, _ in subs],
        incident.first_drop,
        with_logins=not storm,
    )
