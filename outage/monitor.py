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
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from outage import store
from outage.alerts import outbox
from outage.alerts.outbox import Alert
from outage.alerts.storm import is_storm, summarize_if_storm
from outage.cause.base import CauseAnalyzer, CauseReport
from outage.config import Settings
from outage.db import transaction
from outage.detector import Decision, MonitorState, Rules, detect
from outage.erp.base import ErpReader, ErpReadError, Observation
from outage.model import CAUSE_UNKNOWN, Subscriber

log = logging.getLogger(__name__)
LOCAL_TZ = ZoneInfo("America/Sao_Paulo")
STALE_AFTER_MIN = 3600.0


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
        return (
            f"{head}: {c.offline} offline, {c.novas_quedas} novas quedas, {c.reconectados} reconectados,"
            f" {c.abertos} eventos abertos, {c.crescidos} ampliados, {c.resolvidos} resolvidos,"
            f" {self.alerts} alertas na fila, {self.duration:.2f} s"
        )


def rules_for(settings: Settings, now: float) -> Rules:
    """Detection rules; a session that ended before `stale_before` is not a new drop.

    The horizon is generous (at least an hour): when a BNG never sends the accounting stop,
    IXC closes the session at its last interim update, which can be many minutes old; only a
    login offline for long (e.g. `SS` until now) must be kept out of the count.
    """
    horizon = now - max(STALE_AFTER_MIN, settings.detection_window + 2 * settings.check_interval)
    stale_before = datetime.fromtimestamp(horizon, LOCAL_TZ).strftime("%Y-%m-%d %H:%M:%S")
    return Rules(
        threshold=settings.threshold_offline_clients,
        detection_window=settings.detection_window,
        flap_window=settings.flap_window,
        growth_alert_min=settings.threshold_offline_clients,
        stale_before=stale_before,
    )


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
    ) -> None:
        self.settings = settings
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
            [o.event_id for o in decision.opened],
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
                    rules_for(self.settings, now),
                    _new_id,
                )
                alerts = build_alerts(decision, self.settings, now, cycle_id)
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
                )
        except BaseException:
            self.states.forget()
            raise
        return decision, alerts, counts, t_detect

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
        futures = {pool.submit(_safe_analyze, analyzer, o.subs, deadline): o for o in decision.opened}
        done, _ = wait(futures, timeout=max(0.0, deadline - time.monotonic()) + 1.0)
        pool.shutdown(wait=False, cancel_futures=True)
        causes: dict[str, CauseReport] = {}
        for future, opening in futures.items():
            report = future.result() if future in done else _late_report(self.settings)
            causes[opening.event_id] = report
            self._save_cause(
                conn, opening.event_id, opening.conexao, len(opening.subs), report, opening.alert, storm
            )
        summary = next((a for a in alerts if a.kind == outbox.SUMMARY), None)
        if summary is not None and summary.event_id:
            self._refresh_summary(conn, decision, summary, causes)

    def _refresh_summary(
        self, conn: sqlite3.Connection, decision: Decision, summary: Alert, causes: dict[str, CauseReport]
    ) -> None:
        """Put the causes found into a storm summary that has not been sent yet."""
        by_conexao = {o.conexao: causes[o.event_id] for o in decision.opened if o.event_id in causes}
        eventos = []
        for item in summary.payload["eventos"]:
            report = by_conexao.get(item["conexao"])
            if report is not None:
                item = {**item, "motivo": report.motivo, "local": report.local}
            eventos.append(item)
        payload = {**summary.payload, "eventos": eventos}
        assert summary.event_id is not None
        with transaction(conn):
            outbox.refresh_pending_payload(conn, summary.event_id, outbox.SUMMARY, payload, self.clock())

    def _save_cause(
        self,
        conn: sqlite3.Connection,
        event_id: str,
        conexao: str,
        total: int,
        report: CauseReport,
        alerted: bool,
        storm: bool,
    ) -> None:
        now = self.clock()
        with transaction(conn):
            store.save_cause(conn, event_id, report, now)
            if not alerted or storm:
                return
            row = conn.execute(
                "SELECT payload FROM outbox WHERE event_id = ? AND kind = ? LIMIT 1",
                (event_id, outbox.OPENING),
            ).fetchone()
            if row is None:
                return
            payload = json.loads(row["payload"])
            payload.update(motivo=report.motivo, local=report.local)
            already_sent = outbox.refresh_pending_payload(conn, event_id, outbox.OPENING, payload, now)
            if already_sent and report.motivo != CAUSE_UNKNOWN:
                follow_up = Alert(
                    outbox.CAUSE,
                    {"conexao": conexao, "motivo": report.motivo, "local": report.local, "total": total},
                    event_id,
                )
                outbox.enqueue(conn, [follow_up], already_sent, now)
        log.info("causa do evento %s (%s): %s %s", event_id, conexao, report.motivo, report.local)


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


def build_alerts(decision: Decision, settings: Settings, now: float, cycle_id: int) -> list[Alert]:
    """The NOC alerts of one decision; more than STORM_THRESHOLD openings become one summary.

    A summary carries `ciclo-<id>` as its event id, so the cause step can refresh it.
    """
    openings = [o for o in decision.opened if o.alert]
    storm = is_storm(len(openings), settings.storm_threshold)  # a summary lists no logins: skip them
    alerts = [
        Alert(outbox.OPENING, _opening_payload(o.conexao, o.subs, now, not storm), o.event_id)
        for o in openings
    ]
    for g in decision.grown:
        if g.alert:
            payload = {
                "conexao": g.conexao,
                "novos": len(g.subs),
                "total": g.total,
                "logins_novos": _logins(g.subs),
            }
            alerts.append(Alert(outbox.GROWTH, payload, g.event_id))
    for r in decision.resolved:
        if r.alert:
            payload = {
                "conexao": r.conexao,
                "total": r.total,
                "inicio": r.opened_at,
                "fim": now,
                "duracao": now - r.opened_at,
            }
            alerts.append(Alert(outbox.NORMALIZATION, payload, r.event_id))
    return [
        replace(a, event_id=f"ciclo-{cycle_id}") if a.kind == outbox.SUMMARY else a
        for a in summarize_if_storm(alerts, settings.storm_threshold)
    ]


def _opening_payload(
    conexao: str, subs: Sequence[Subscriber], now: float, with_logins: bool
) -> dict[str, object]:
    return {
        "conexao": conexao,
        "total": len(subs),
        "motivo": CAUSE_UNKNOWN,
        "local": "",
        "inicio": now,
        "logins": _logins(subs) if with_logins else [],
    }


def _logins(subs: Sequence[Subscriber]) -> list[dict[str, str]]:
    return [{"login": s.login, "ultima_conexao_final": s.ultima_conexao_final} for s in subs]
