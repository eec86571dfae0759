"""One poll cycle as a pipeline: read the ERP, decide (pure), commit, then find the causes.

A cycle either completes — the state diff, events, alerts and cycle record committed
together in one transaction (with the poller's lease renewal and heartbeat), then the
causes of all its new incidents gathered and committed together in one more — or fails
and changes nothing but the record of the failed cycle. A failed
ERP read never looks like "everyone reconnected": the next good cycle diffs against the
last good state.
"""

from __future__ import annotations

import gc
import logging
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from outage import notices
from outage.adapters.cause.base import CauseAnalyzer, CauseReport
from outage.adapters.cause.verdict import from_alarms
from outage.adapters.channels.messages import br_number
from outage.adapters.erp.base import ErpReader, ErpReadError, Observation
from outage.alerts.storm import is_storm, summarize_if_storm
from outage.config import Settings
from outage.core import kinds
from outage.core.detector import (
    AlarmDrop,
    Decision,
    Incident,
    MonitorState,
    Rules,
    detect,
    hear,
)
from outage.core.kinds import GROWTH as WIDENING
from outage.core.kinds import OPENING, RECURRENCE
from outage.core.model import CAUSE_UNKNOWN, Subscriber
from outage.core.place import OLT, RANK, describe, describe_group, level_of, path_of, rank_of
from outage.db import Connection, checkpoint, transaction
from outage.lease import is_gone
from outage.roster import Roster
from outage.storage import cycles, incidents, outbox
from outage.storage.cycles import CycleCounts, LeaseLost
from outage.storage.incidents import SavedCause, StateChanged, StateStore
from outage.storage.outbox import Alert

log = logging.getLogger(__name__)
QUORUM_MIN_SIZE = 10
CAUSE_GRACE = 60.0  # seconds past the cause deadline after which a pending cause was abandoned
CLOCK_JUMP = 30.0  # seconds the wall clock must move apart from the monotonic one to count as a jump
MIN_POPULATION_KEPT = 0.5  # a read with fewer active logins than this share of the last one is cut short


class CycleFailed(Exception):
    """The cycle could not complete; the message (Portuguese) says why."""


@dataclass
class CycleResult:
    cycle_id: int
    counts: CycleCounts
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
    """The detection rules of these settings (see `outage.core.detector`)."""
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
        monotonic: Callable[[], float] | None = None,
        roster: Roster | None = None,
    ) -> None:
        self.settings = settings
        self.roster = roster  # kept with the populations when the network's alarms are heard
        self.olt_names = dict(olt_names or {})
        self.reader = reader
        self.analyzer = analyzer
        self.channels = list(channels)
        self.clock = clock
        self.holder = holder
        self.fenced = fenced
        self.states = StateStore()
        self.monotonic = monotonic  # given to the poller: it keeps detecting through wall clock jumps
        self.skew = 0.0  # how far the wall clock jumped since detection last matched it
        self._reading: tuple[float, float] | None = None
        self._recovered = False  # `recover` runs before the first cycle
        self.last_detect_seconds = 0.0  # detection + persistence of the last cycle (for benchmarks)
        # writes joined to a good poll's commit, given the cycle's id: the poller's lease renewal
        # and heartbeat (see `outage.service`)
        self.commit_hook: Callable[[Connection, int], None] | None = None

    def run_cycle(self, conn: Connection) -> CycleResult:
        """Run one cycle; raises `CycleFailed` (after recording it) when it cannot complete.

        A pipeline: read the ERP, decide (pure), commit the decision with the cycle's record in
        one transaction (with `commit_hook`'s writes), then — only when incidents opened or
        grew — find all their causes and commit them in one more.
        """
        if not self._recovered:
            self._recovered = True
            try:
                self.recover(conn)
            except Exception:  # what a dead process left must never stop monitoring
                log.exception("falha ao recuperar o que uma parada do processo deixou pela metade")
        started = self.clock()
        t0 = time.monotonic()
        try:
            state = self.states.load(conn)
            self._refresh_population(conn, state, started)
            candidates = {login: entry.sub.id for login, entry in state.offline.items()}
            observation = self.reader.read(candidates)
        except ErpReadError as exc:
            self._record_failure(conn, started, t0, str(exc))
            raise CycleFailed(str(exc)) from exc
        try:
            poll = _poll(observation, rules_for(self.settings))
            try:
                saved = self._detect_and_save(conn, state, poll, started, t0)
            except StateChanged:
                # an operator changed the state meanwhile: the observation still holds, retry on fresh state
                state = self.states.load(conn)
                saved = self._detect_and_save(conn, state, poll, started, t0)
        except LeaseLost as exc:
            self._record_failure(conn, started, t0, f"ciclo descartado: {exc}")
            raise
        except Exception as exc:
            self._record_failure(conn, started, t0, f"falha ao gravar o ciclo: {exc}")
            raise CycleFailed(f"falha ao gravar o ciclo: {exc}") from exc
        decision, alerts, cycle_id = saved.decision, saved.alerts, saved.cycle_id
        assert cycle_id is not None
        self.last_detect_seconds = time.monotonic() - saved.t_detect
        self.states.saved(conn)
        duration = saved.duration
        if decision.opened or decision.grown:
            self._find_causes(conn, state, decision, alerts, started, cycle_id, t0)
            duration = time.monotonic() - t0
        checkpoint(conn)
        result = CycleResult(
            cycle_id,
            saved.counts,
            duration,
            decision.baseline,
            [o.incident_id for o in decision.opened],
            len(alerts) * len(self.channels),
        )
        log.info("%s", result.summary())
        return result

    def _steady_now(self, state: MonitorState) -> float:
        """The detector's time: the wall clock less the jumps it made since the detection last
        matched it, so an outage whose drops straddle a jump is still one outage, and a drop is
        never dated before the poll that missed it. While nothing is unfolding (no incident, no
        recent drop), detection takes the wall clock back, jumps and all."""
        wall = self.clock()
        if self.monotonic is None:
            return wall
        mono = self.monotonic()
        last, self._reading = self._reading, (wall, mono)
        if last is not None:
            jump = (wall - last[0]) - (mono - last[1])
            if abs(jump) > CLOCK_JUMP:
                self.skew += jump
                log.warning("o relógio do sistema saltou %+.0f s: a detecção segue no tempo contínuo", jump)
        if self.skew and _quiet(state, wall - self.skew, rules_for(self.settings).horizon):
            state.last_poll += self.skew
            log.info("detecção voltou ao relógio do sistema (%+.0f s), sem queda em andamento", self.skew)
            self.skew = 0.0
        return wall - self.skew

    def fill_roster(self, conn: Connection) -> None:
        """Read the populations now, with the roster, when it has not been filled since the
        start (a process taking the lease over need not wait for its first cycle)."""
        if self.roster is not None and not self.roster.loaded:
            self._refresh_population(conn, self.states.load(conn), self.clock())

    def _refresh_population(self, conn: Connection, state: MonitorState, now: float) -> None:
        """Read how many active logins each place has, at the first cycle and every
        `POPULATION_REFRESH` (and at once when the roster has not been filled since the start);
        a failed read keeps the last good counts (and is tried again next cycle)."""
        fresh = state.population_at and now - state.population_at < self.settings.population_refresh
        if fresh and (self.roster is None or self.roster.loaded):
            return
        try:
            if self.roster is None:
                counts = self.reader.read_population()
            else:
                counts = self.reader.read_population(self.roster.start())
        except ErpReadError as exc:
            log.warning("leitura da população dos locais falhou (mantida a anterior): %s", exc)
            return
        before, after = _logins_total(state.population), _logins_total(counts)
        if after < before * MIN_POPULATION_KEPT:
            log.warning(
                "leitura da população dos locais descartada: %s logins ativos, eram %s (resposta incompleta?)",
                br_number(after),
                br_number(before),
            )
            if self.roster is not None:
                self.roster.discard()
            return
        incidents.save_population(conn, counts, now)
        state.population, state.population_at = counts, now
        if self.roster is not None:
            self.roster.commit()
        log.info(
            "população lida: %s logins ativos em %s locais",
            br_number(_logins_total(counts)),
            br_number(len(counts)),
        )

    def hear(self, conn: Connection, downs: Sequence[AlarmDrop], ups: Sequence[str]) -> Decision:
        """Apply a batch of the network's alarms between polls (see `outage.core.detector.hear`): the
        drops, the incidents they open or grow, their alerts and their causes — from the alarms
        themselves when they say why, else from the OLTs."""
        t0 = time.monotonic()
        rules = rules_for(self.settings)

        def alarms(state: MonitorState, now: float) -> Decision:
            steady = [replace(d, at=d.at - self.skew) for d in downs] if self.skew else list(downs)
            return hear(state, steady, list(ups), now, rules, _new_id)

        started = self.clock()
        state = self.states.load(conn)
        try:
            saved = self._detect_and_save(conn, state, alarms, None, t0)
        except StateChanged:
            state = self.states.load(conn)
            saved = self._detect_and_save(conn, state, alarms, None, t0)
        decision = saved.decision
        self.states.saved(conn)
        if decision.opened or decision.grown:
            self._find_causes(conn, state, decision, saved.alerts, started)
        if decision.opened or decision.resolved:
            log.info(
                "alarmes: %d quedas, %d incidentes abertos, %d normalizados",
                len(decision.heard),
                len(decision.opened),
                len(decision.resolved),
            )
        return decision

    def _detect_and_save(
        self,
        conn: Connection,
        state: MonitorState,
        decide: Callable[[MonitorState, float], Decision],
        started: float | None,
        t0: float,
    ) -> _Saved:
        """Decide on `state` (an ERP poll started at `started`, or a batch of alarms when it is
        None) and commit the result; the state is dropped from the cache on failure."""
        now = self._steady_now(state)
        t_detect = time.monotonic()
        version = self.states.version
        try:
            with gc_paused():  # a mass drop allocates 100k+ objects: no collection mid-way
                decision = decide(state, now)
                places = self.places(conn, state, decision)
                batch = "ciclo" if started is not None else f"alarmes-{now:.0f}"
                alerts = build_alerts(state, decision, places, self.olt_names, self.settings, now, batch)
                return self._commit(
                    conn, state, decision, now, alerts, places, version, started, t0, t_detect
                )
        except BaseException:
            self.states.forget()
            raise

    def _commit(
        self,
        conn: Connection,
        state: MonitorState,
        decision: Decision,
        now: float,
        alerts: list[Alert],
        places: Places,
        version: int,
        started: float | None,
        t0: float,
        t_detect: float,
    ) -> _Saved:
        """Persist one good decision atomically — the cycle record (with `commit_hook`'s writes),
        state diff, events and outbox rows — so a crash leaves either all of it or none. A poll's
        storm summary is named after its cycle (`ciclo-<id>`), so the cause step can refresh it.

        Raises `LeaseLost` if this holder lost the lease (when fenced), and `StateChanged` if
        the state is no longer at `version`: nothing is written in either case.
        """
        counts = CycleCounts(
            offline=decision.offline_total,
            novas_quedas=decision.new_drops,
            reconectados=decision.reconnected,
            abertos=len(decision.opened),
            crescidos=len(decision.grown),
            resolvidos=len(decision.resolved),
        )
        duration = time.monotonic() - t0
        cycle_id: int | None = None
        with transaction(conn):
            if started is not None:
                cycle_id = cycles.record_cycle(
                    conn, self.holder, started, now + duration, counts, duration, error=None
                )
                if self.commit_hook is not None:
                    self.commit_hook(conn, cycle_id)
                alerts = [
                    replace(a, event_id=f"ciclo-{cycle_id}") if a.kind == kinds.SUMMARY else a for a in alerts
                ]
            if self.fenced:
                cycles.check_lease(conn, self.holder, now)
            incidents.save_decision(conn, state, decision, now, places, version)
            # openings and widenings wait (at most `opening_hold`) for the cause of what fell, so the
            # NOC gets one complete message
            hold = self.settings.cause_timeout + 5.0 if self.analyzer is not None else 0.0
            held = (kinds.OPENING, kinds.SUMMARY, kinds.GROWTH)
            outbox.enqueue(conn, [a for a in alerts if a.kind in held], self.channels, now, now + hold)
            outbox.enqueue(conn, [a for a in alerts if a.kind not in held], self.channels, now)
            if cycle_id is not None:
                incidents.mark_baseline_done(conn)
        return _Saved(decision, alerts, counts, cycle_id, duration, t_detect)

    def places(self, conn: Connection, state: MonitorState, decision: Decision) -> Places:
        """Where each incident opened, grew or normalized this cycle is, in words and as data: what
        its members are in now ("OLT-X — 13 PONs"), with the active logins there (`ativos`).

        A normalized incident keeps the place stored on its event (the cause step may have
        narrowed it with what the OLTs said).
        """
        changed = {o.incident_id for o in decision.opened} | {g.incident_id for g in decision.grown}
        result: Places = {}
        for incident_id in changed:
            incident = state.incidents.get(incident_id)
            if incident is not None:
                local, detail = describe(incident.place, incident.path, incident.units, self.olt_names)
                active = active_logins(state, incident)
                result[incident_id] = (local, {**detail, "ativos": active} if active else detail)
        for resolution in decision.resolved:
            incident = resolution.incident
            result[incident.id] = incidents.event_place(conn, incident.id) or describe(
                incident.place, incident.path, incident.units, self.olt_names
            )
        return result

    def _record_failure(self, conn: Connection, started: float, t0: float, error: str) -> None:
        duration = time.monotonic() - t0
        with transaction(conn):
            cycle_id = cycles.record_cycle(
                conn, self.holder, started, started + duration, CycleCounts(), duration, error=error
            )
        log.error("ciclo %d falhou: %s", cycle_id, error)

    def _find_causes(
        self,
        conn: Connection,
        state: MonitorState,
        decision: Decision,
        alerts: Sequence[Alert],
        since: float,
        cycle_id: int | None = None,
        t0: float = 0.0,
    ) -> None:
        """The cause of each new incident and of each part that joined one (a widening: its cause is
        its own): from the network's alarms when they say why its logins fell, else asked of the
        OLTs by the analyzer, in parallel and within the deadline. All of them are stored in one
        transaction, with the cycle's duration (`cycle_id`, started at monotonic `t0`)."""
        jobs = self._cause_jobs(state, decision, since)
        storm = any(a.kind == kinds.SUMMARY for a in alerts)
        causes: dict[str, CauseReport] = {}
        found: list[tuple[_CauseJob, CauseReport]] = []
        asked = []
        for job in jobs:
            heard = from_alarms(job.subs, state.heard)
            if heard is not None:
                causes[job.event_id] = heard
                found.append((job, heard))
            else:
                asked.append(job)
        for job, report in self._analyze(asked):
            if job.part is None:
                causes[job.event_id] = report
            found.append((job, report))
        summary = next((a for a in alerts if a.kind == kinds.SUMMARY), None)
        now = self.clock()
        with transaction(conn):
            saved = [(job, self._save_cause(conn, job, report, storm, now)) for job, report in found]
            if summary is not None and summary.event_id:
                self._refresh_summary(conn, summary, causes, now)
            if cycle_id is not None:
                cycles.set_cycle_duration(conn, cycle_id, time.monotonic() - t0)
        _log_causes(saved, storm)

    def _analyze(self, jobs: Sequence[_CauseJob]) -> list[tuple[_CauseJob, CauseReport]]:
        """Each job's cause from the OLTs, in parallel, by the deadline (a late one says so)."""
        if not jobs or self.analyzer is None:
            return []
        analyzer = self.analyzer
        deadline = time.monotonic() + self.settings.cause_timeout
        pool = ThreadPoolExecutor(max_workers=min(8, len(jobs)), thread_name_prefix="causa")
        futures = {pool.submit(_safe_analyze, analyzer, job.subs, deadline, job.drops): job for job in jobs}
        done, _ = wait(futures, timeout=max(0.0, deadline - time.monotonic()) + 1.0)
        pool.shutdown(wait=False, cancel_futures=True)
        return [
            (job, future.result() if future in done else _late_report(self.settings))
            for future, job in futures.items()
        ]

    def recover(self, conn: Connection) -> None:
        """What a process that died left half done, once, before this monitor's first cycle: cycles
        it never finished are closed with the reason, and causes it never stored are asked again
        (or, with no one to ask, set to indeterminado with the reason)."""
        now = self.clock()
        closed = cycles.close_interrupted_cycles(
            conn, self.holder, now, lambda holder: is_gone(holder, self.settings.instance_name)
        )
        if closed:
            log.warning(
                "%d ciclo(s) interrompido(s) por uma parada do processo fechado(s) com o motivo", closed
            )
        pending = incidents.pending_causes(conn, now - self.settings.cause_timeout - CAUSE_GRACE)
        if not pending:
            return
        jobs = [
            _CauseJob(event_id, [sub for sub, _ in members], dict(_logins(members)), alerted=False)
            for event_id, members in pending
        ]
        if self.analyzer is None:
            with transaction(conn):
                for job in jobs:
                    incidents.save_cause(conn, job.event_id, _interrupted_report(), now)
            return
        log.warning("refazendo a análise de causa de %d incidente(s) interrompida por uma parada", len(jobs))
        found = self._analyze(jobs)
        now = self.clock()
        with transaction(conn):
            saved = [(job, self._save_cause(conn, job, report, True, now)) for job, report in found]
        _log_causes(saved, storm=True)

    def _cause_jobs(self, state: MonitorState, decision: Decision, since: float) -> list[_CauseJob]:
        """The analyses of this cycle; `since`: when it started (its alerts were written after)."""
        jobs = [
            _CauseJob(
                o.incident_id,
                [sub for sub, _ in o.subs],
                dict(_logins(o.subs)),
                o.alert == OPENING,
                since=since,
            )
            for o in decision.opened
        ]
        for growth in decision.grown:
            incident = state.incidents.get(growth.incident_id)
            if not growth.new_units or incident is None:
                continue
            joined = dict(_logins(growth.subs))
            rest = [incident.subs[login] for login in incident.members if login not in joined]
            part = (self._group_words([sub for sub, _ in growth.subs]), sorted(joined))
            jobs.append(
                _CauseJob(
                    growth.incident_id,
                    [sub for sub, _ in growth.subs],
                    joined,
                    growth.alert in (WIDENING, OPENING),
                    part,
                    self._group_words(rest),
                    growth.alert,
                    since,
                )
            )
        return jobs

    def _group_words(self, subs: Sequence[Subscriber]) -> str:
        return describe_group([path_of(sub) for sub in subs], self.olt_names)[1]

    def _refresh_summary(
        self, conn: Connection, summary: Alert, causes: dict[str, CauseReport], now: float
    ) -> None:
        """Put the causes found into a storm summary that has not been sent yet (in the caller's transaction)."""
        eventos = []
        for item in summary.payload["eventos"]:
            report = causes.get(str(item.get("id", "")))
            if report is not None:
                item = {**item, "motivo": report.motivo}
            eventos.append(item)
        payload = {**summary.payload, "eventos": eventos}
        assert summary.event_id is not None
        outbox.refresh_pending_payload(conn, summary.event_id, kinds.SUMMARY, payload, now)

    def _save_cause(
        self, conn: Connection, job: _CauseJob, report: CauseReport, storm: bool, now: float
    ) -> SavedCause:
        """Store the cause (in the caller's transaction); put it in this cycle's alert while it
        waits, else tell the NOC apart."""
        if job.part is None:
            saved = incidents.save_cause(conn, job.event_id, report, now)
        else:
            saved = incidents.save_part_cause(conn, job.event_id, report, job.part, job.rest_local, now)
        if storm:
            return saved
        already_sent = self._complete_alert(conn, job, report, saved, now)
        news = report.motivo != CAUSE_UNKNOWN if job.part is None else saved.changed
        if (already_sent and news) or (not job.alerted and job.part is not None and saved.changed):
            payload = {
                "conexao": saved.conexao,
                "motivo": saved.motivo,
                "explicacao": saved.explicacao,
                "local": saved.local,
                "total": len(job.subs) if job.part is None else len(job.drops),
            }
            targets = already_sent or self.channels
            outbox.enqueue(conn, [Alert(kinds.CAUSE, payload, job.event_id)], targets, now)
        return saved

    def _complete_alert(
        self,
        conn: Connection,
        job: _CauseJob,
        report: CauseReport,
        saved: SavedCause,
        now: float,
    ) -> list[str]:
        """Put the cause into the alert of this cycle that waits for it; returns the channels where
        it had already left (they get the cause apart)."""
        if not job.alerted:
            return []
        kind = kinds.GROWTH if job.alert == WIDENING else kinds.OPENING
        payload = outbox.latest_payload(conn, job.event_id, kind)
        if payload is None:
            return []
        payload.update(motivo=saved.motivo, explicacao=saved.explicacao)
        if job.part is None:
            payload["local"] = saved.local
        elif job.alert == WIDENING:
            payload.update(motivo_parte=report.motivo, local_parte=job.part[0])
        return outbox.refresh_pending_payload(conn, job.event_id, kind, payload, now, since=job.since)


def resolve_by_operator(
    conn: Connection, event_id: str, user: str, now: float, channels: Sequence[str]
) -> str:
    """Close an active event by hand (see `incidents.resolve_by_hand`), with a normalization
    alert that says who closed it when its opening was announced. Returns `resolvido`, or
    raises `KeyError` (unknown id) / `ValueError` (already resolved)."""
    with transaction(conn):
        closed = incidents.resolve_by_hand(conn, event_id, user, now)
        if closed.announced:
            payload = notices.normalization(
                closed.conexao,
                closed.local,
                closed.total,
                closed.started,
                now,
                closed.back,
                closed.still,
                closed_by=user,
            )
            outbox.enqueue(conn, [outbox.Alert(kinds.NORMALIZATION, payload, event_id)], channels, now)
    return "resolvido"


@dataclass
class _Saved:
    """A committed decision: its alerts (a summary named after the cycle), counts, the cycle's id
    (None: a batch of alarms), its duration so far and when detection began (monotonic)."""

    decision: Decision
    alerts: list[Alert]
    counts: CycleCounts
    cycle_id: int | None
    duration: float
    t_detect: float


def _log_causes(saved: Sequence[tuple[_CauseJob, SavedCause]], storm: bool) -> None:
    if storm:  # a storm's causes go out in its summary
        return
    for job, cause in saved:
        log.info("causa do incidente %s (%s): %s", job.event_id, cause.local, cause.motivo)


@dataclass
class _CauseJob:
    """One analysis: a new incident's logins, or a part that joined one."""

    event_id: str
    subs: list[Subscriber]
    drops: dict[str, float]  # login -> drop time
    alerted: bool  # an alert of this cycle waits for this cause
    part: tuple[str, list[str]] | None = None  # (place in words, logins) of a part that joined
    rest_local: str = ""  # the place of the logins the incident had before the part
    alert: str = ""  # the growth's alert kind (WIDENING, OPENING) for a part
    since: float = 0.0  # when the cycle started: its alerts were written from then on


def _quiet(state: MonitorState, now: float, horizon: float) -> bool:
    """No incident open and no drop recent enough to join one."""
    if state.incidents:
        return False
    return not any(e.dropped_at is not None and e.dropped_at >= now - horizon for e in state.offline.values())


def _logins_total(counts: Mapping[str, int]) -> int:
    """Active logins in all: the sum over the connections (every login is in one)."""
    return sum(n for key, n in counts.items() if level_of(key) == "conexao")


def _logins(subs: Sequence[tuple[Subscriber, float]]) -> list[tuple[str, float]]:
    return [(sub.login, at) for sub, at in subs]


def active_logins(state: MonitorState, incident: Incident) -> int:
    """The active logins where the incident is: its parts' populations, or its place's (0: unknown)."""
    places = incident.units if incident.units and rank_of(incident.place) >= RANK[OLT] else {incident.place}
    counts = [state.population.get(key, 0) for key in places]
    return sum(counts) if all(counts) else 0


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


def _safe_analyze(
    analyzer: CauseAnalyzer, subs: list[Subscriber], deadline: float, drops: dict[str, float]
) -> CauseReport:
    try:
        return analyzer.analyze(subs, deadline, drops)
    except Exception as exc:  # the contract says never raise; a bug must not break the cycle
        log.exception("analisador de causa falhou")
        return CauseReport(erros=[f"erro interno do analisador: {type(exc).__name__}"])


def _interrupted_report() -> CauseReport:
    reason = "a análise de causa foi interrompida por uma parada do monitor e não há OLT a consultar de novo"
    return CauseReport(erros=[reason], explicacao=reason)


def _late_report(settings: Settings) -> CauseReport:
    return CauseReport(erros=[f"análise de causa excedeu {settings.cause_timeout:g} s"])


def _poll(observation: Observation, rules: Rules) -> Callable[[MonitorState, float], Decision]:
    def decide(state: MonitorState, now: float) -> Decision:
        return detect(state, observation.offline, observation.online, now, rules, _new_id)

    return decide


def _new_id() -> str:
    return str(uuid.uuid4())


def build_alerts(
    state: MonitorState,
    decision: Decision,
    places: Places,
    names: Mapping[str, str],
    settings: Settings,
    now: float,
    batch: str,
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
        payload = _opening(state, incidents[o.incident_id], places[o.incident_id], o.subs, storm, names)
        alerts.append(Alert(kinds.OPENING, payload, o.incident_id))
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
        alerts.append(Alert(kinds.RECURRENCE, payload, incident_id))
    for g in decision.grown:
        incident = incidents[g.incident_id]
        local = places.get(g.incident_id, ("", {}))[0]
        if g.alert == WIDENING and g.widened_from:
            previous = describe(g.widened_from, (g.widened_from, *incident.path), set(), names)[0]
            payload = notices.widening(
                incident.conexao, local, previous, [sub for sub, _ in g.subs], len(incident.members)
            )
            alerts.append(Alert(kinds.GROWTH, payload, g.incident_id))
        elif g.alert == OPENING:
            payload = _opening(state, incident, places.get(g.incident_id, ("", {})), g.subs, storm, names)
            payload["total"] = len(incident.members)
            alerts.append(Alert(kinds.OPENING, payload, g.incident_id))
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
            alerts.append(Alert(kinds.NORMALIZATION, payload, r.incident.id))
    return [
        replace(a, event_id=batch) if a.kind == kinds.SUMMARY else a
        for a in summarize_if_storm(alerts, settings.storm_threshold)
    ]


def _opening(
    state: MonitorState,
    incident: Incident,
    place: tuple[str, dict[str, Any]],
    subs: Sequence[tuple[Subscriber, float]],
    storm: bool,
    names: Mapping[str, str],
) -> dict[str, Any]:
    """The opening alert's payload: the logins that dropped (none listed in a storm), the active
    logins where it is, and the open incident it is related to."""
    payload = notices.opening(
        incident.conexao,
        place[0],
        level_of(incident.place),
        [sub for sub, _ in subs],
        incident.first_drop,
        with_logins=not storm,
    )
    payload["ativos"] = int(place[1].get("ativos", 0))
    related = state.incidents.get(incident.related)
    if related is not None:
        payload["relacionado"] = {
            "local": describe(related.place, related.path, related.units, names)[0],
            "total": len(related.members),
            "inicio": related.first_drop,
            "nivel": "olt" if any(level_of(key) == OLT for key in incident.path) else "conexao",
        }
    return payload
