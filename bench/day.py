"""A scripted day scored against its truth: what the detection benchmark and its test measure.

    day = ScriptedDay(customers, seed, START)
    cycles = drive(day, run_cycle)                 # run_cycle(now): one monitor cycle at `now`
    score = score_day(conn, day, cycles, threshold=4, quorum=0.9)

`drive` advances the simulated ISP (`simulator.day`) one poll interval at a time and runs one
monitor cycle after each step, with the monitor's clock on the simulated time. `score_day`
reads what the monitor wrote (the `events` rows and the NOC alerts queued in `outbox`) and
compares it with the day's truth:

- an event whose logins are mostly outside every scripted outage is a **false incident**;
- each outage episode is **detected** by the events that match it; it is **late** by the
  number of cycles between the first cycle at which the ERP showed at least `threshold` of
  its logins offline (the earliest any rule could see it) and the cycle that opened it;
- **normalization lag**: cycles between the first cycle at which a quorum of the event's
  logins was back (their truth return times) and the cycle that normalized it;
- **churn inside**: logins of a matched event that no episode of that outage took down;
- **missing**: logins of the episode that some cycle saw offline but no matching event holds
  (a CTO's customers whose ERP row names no CTO cannot be placed in it: counted apart as
  **unplaced**);
- **NOC messages** per incident: alerts queued for the NOC about the event (opening,
  recurrence, cause, normalization; each announced widening is one more, counted apart);
  storm summaries are counted apart;
- **told**: the first NOC message about the episode — an opening or a widening whose listed
  logins are mostly the episode's, or a recurrence of an event matched to it — in cycles after
  the first cycle that could see it, and whether **its count** agrees with what the ERP showed
  of the episode by then (within max(3, 10 %): churn and the concentrator's lag); an episode
  of a flapping place whose recurrence message was held (one per flap window, the hold
  recorded with its reason) is **held**, not silent; an episode never told otherwise is
  **silent**;
- **false "voltou a cair"**: a recurrence message for an event whose logins did not mostly
  fall in an earlier episode within the flap window;
- **messages per outage**: NOC messages about the events matched to each scripted outage.
"""

from __future__ import annotations

import bisect
import json
import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from outage.db import Connection, Record
from simulator.day import Episode, Outage, ScriptedDay

START = 1_767_236_400.0  # 2026-01-01 00:00:00 in São Paulo
CYCLE = 300.0
NOC_KINDS = ("abertura", "recorrencia", "crescimento", "causa", "normalizacao")


def drive(day: ScriptedDay, run_cycle: Callable[[float], None], interval: float = CYCLE) -> list[float]:
    """Advance `day` to its end one `interval` at a time, a cycle after each step; the cycle times."""
    times = []
    now = day.start
    while now + interval <= day.end:
        now += interval
        day.advance(now)
        run_cycle(now)
        times.append(now)
    return times


@dataclass
class EpisodeScore:
    """How one episode of a scripted outage was seen."""

    outage: str
    kind: str
    number: int
    logins: int
    events: list[str] = field(default_factory=list)
    late_cycles: int | None = None  # None: never detected
    told_cycles: int | None = None  # None: no NOC message about it (silent)
    told_count: int | None = None  # the count that message gave
    told_after: float | None = None  # seconds from the episode's onset to that message being queued
    held: bool = False  # a recurrence held on purpose (already told within the flap window)
    seen_count: int = 0  # the episode's logins the ERP showed offline by that message
    normalization_lag: int | None = None  # None: no quorum within the day
    churn_inside: int = 0
    missing: int = 0  # logins a cycle saw offline that no matching event holds
    unplaced: int = 0  # of a CTO outage, logins whose ERP row names no CTO (outside its event)

    @property
    def detected(self) -> bool:
        return bool(self.events)

    @property
    def count_ok(self) -> bool:
        if self.told_count is None:
            return False
        return abs(self.told_count - self.seen_count) <= max(3, 0.1 * self.seen_count)


@dataclass
class DayScore:
    """The day as the monitor saw it, against the truth."""

    episodes: list[EpisodeScore]
    false_events: list[dict[str, Any]]
    messages_per_event: dict[str, int]  # NOC messages per event, its widening messages aside
    summaries: int
    false_recurrences: list[dict[str, Any]] = field(default_factory=list)
    messages_per_outage: dict[str, int] = field(default_factory=dict)

    @property
    def told_in_one_cycle_with_count(self) -> int:
        return sum(
            1 for e in self.episodes if e.told_cycles is not None and e.told_cycles <= 1 and e.count_ok
        )

    @property
    def silent(self) -> list[str]:
        return [f"{e.outage}#{e.number}" for e in self.episodes if e.told_cycles is None and not e.held]

    @property
    def held(self) -> list[str]:
        return [f"{e.outage}#{e.number}" for e in self.episodes if e.held]

    @property
    def detected_in_one_cycle(self) -> int:
        return sum(1 for e in self.episodes if e.late_cycles == 0)

    @property
    def worst_normalization_lag(self) -> int:
        lags = [e.normalization_lag for e in self.episodes if e.normalization_lag is not None]
        return max(lags, default=0)

    @property
    def churn_inside(self) -> int:
        return sum(e.churn_inside for e in self.episodes)

    @property
    def most_messages(self) -> int:
        return max(self.messages_per_event.values(), default=0)

    def as_dict(self) -> dict[str, Any]:
        return {
            "episodios": [
                {
                    "queda": e.outage,
                    "tipo": e.kind,
                    "episodio": e.number,
                    "logins": e.logins,
                    "eventos": len(e.events),
                    "ciclos_de_atraso": e.late_cycles,
                    "ciclos_ate_normalizar": e.normalization_lag,
                    "churn_dentro": e.churn_inside,
                    "fora_do_evento": e.missing,
                    "sem_cto_no_erp": e.unplaced,
                    "ciclos_ate_avisar": e.told_cycles,
                    "contagem_avisada": e.told_count,
                    "contagem_vista": e.seen_count,
                }
                for e in self.episodes
            ],
            "falsos": self.false_events,
            "falsos_voltou_a_cair": self.false_recurrences,
            "silenciosos": self.silent,
            "retidos_por_recorrencia": self.held,
            "mensagens_noc_por_queda": self.messages_per_outage,
            "mensagens_noc_por_evento": self.messages_per_event,
            "resumos": self.summaries,
        }


def score_day(
    conn: Connection, day: ScriptedDay, cycles: Sequence[float], *, threshold: int, quorum: float
) -> DayScore:
    """Score what the monitor wrote in `conn` against `day.truth()` (see the module docstring)."""
    events = [_event(row) for row in conn.execute("SELECT * FROM events ORDER BY timestamp")]
    outages = day.truth()
    episodes = [(outage, n, episode) for outage in outages for n, episode in enumerate(outage.episodes, 1)]
    matched: dict[int, list[dict[str, Any]]] = {i: [] for i in range(len(episodes))}
    false_events = []
    for event in events:
        best = _best_episode(event, episodes)
        if best is None:
            false_events.append({k: event[k] for k in ("id", "conexao", "local", "escopo", "tamanho")})
        else:
            matched[best].append(event)
    no_cto = {c.login for c in day.network.customers if c.id_caixa_ftth in ("", "0")}
    scores = [
        _score_episode(outage, n, episode, matched[i], cycles, threshold, quorum, no_cto)
        for i, (outage, n, episode) in enumerate(episodes)
    ]
    per_event, summaries = _noc_messages(conn)
    widenings, _ = _noc_messages(conn, ("crescimento",))
    owner = {e["id"]: episodes[i][0].name for i, found in matched.items() for e in found}
    first_told = _told(
        conn, events, episodes, owner_episode={e["id"]: i for i, f in matched.items() for e in f}
    )
    for i, score in enumerate(scores):
        told = first_told.get(i)
        if told is not None:
            score.told_after = told[0] - episodes[i][2].onset
        score.held = told is None and any(_held_recurrence(conn, e["id"]) for e in matched[i])
        visible = _visible_cycle(episodes[i][2], cycles, threshold)
        if told is not None and visible is not None:
            at, count = told
            score.told_cycles = _cycle_index(cycles, at) - visible
            score.told_count = count
            score.seen_count = sum(1 for t in episodes[i][2].erp_offline.values() if t <= at)
    per_outage: Counter[str] = Counter()
    for event_id, name in owner.items():
        per_outage[name] += per_event.get(event_id, 0)
    return DayScore(
        scores,
        false_events,
        {e["id"]: per_event.get(e["id"], 0) - widenings.get(e["id"], 0) for e in events},
        summaries,
        _false_recurrences(
            conn, events, episodes, owner_episode={e["id"]: i for i, f in matched.items() for e in f}
        ),
        dict(per_outage),
    )


def _held_recurrence(conn: Connection, event_id: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM held_alerts WHERE event_id = ? AND kind = 'abertura' AND motivo LIKE 'recorrência%'",
        (event_id,),
    ).fetchone()
    return row is not None


def _visible_cycle(episode: Episode, cycles: Sequence[float], threshold: int) -> int | None:
    """The first cycle at which the ERP showed `threshold` of the episode's logins offline."""
    shown = sorted(episode.erp_offline.values())
    if not shown:
        return None
    return _cycle_index(cycles, shown[min(threshold, len(shown)) - 1])


def _told(
    conn: Connection,
    events: Sequence[dict[str, Any]],
    episodes: Sequence[tuple[Outage, int, Episode]],
    owner_episode: dict[str, int],
) -> dict[int, tuple[float, int]]:
    """Episode index -> (time, count) of the first NOC message about it (see the module)."""
    first: dict[int, tuple[float, int]] = {}
    for kind, event_id, payload, at in _noc_rows(conn, ("abertura", "recorrencia", "crescimento")):
        listed = payload.get("logins_novos") if kind == "crescimento" else payload.get("logins")
        logins = {str(item.get("login")) for item in listed or []}
        if logins:
            episode = _best_episode({"logins": logins, "opened": at}, episodes)
        else:
            episode = owner_episode.get(event_id)
        if episode is not None and episode not in first:
            count = payload.get("novos") if kind == "crescimento" else payload.get("total")
            first[episode] = (at, int(count or 0))
    return first


def _false_recurrences(
    conn: Connection,
    events: Sequence[dict[str, Any]],
    episodes: Sequence[tuple[Outage, int, Episode]],
    owner_episode: dict[str, int],
    flap_window: float = 3600.0,
) -> list[dict[str, Any]]:
    """Recurrence messages for a place that did not fall in an earlier episode within the window."""
    by_id = {e["id"]: e for e in events}
    found = []
    for _, event_id, _, at in _noc_rows(conn, ("recorrencia",)):
        event = by_id.get(event_id)
        index = owner_episode.get(event_id)
        if event is None:
            continue
        onset = episodes[index][2].onset if index is not None else event["opened"]
        earlier = [
            episode
            for _, _, episode in episodes
            if onset - flap_window <= episode.onset < onset
            and 2 * len(episode.logins & event["logins"]) >= len(event["logins"])
        ]
        if not earlier:
            found.append({"id": event_id, "local": event["local"], "em": at})
    return found


def _noc_rows(conn: Connection, kinds: Sequence[str]) -> list[tuple[str, str, dict[str, Any], float]]:
    """(kind, event id, payload, queued at) of one channel's NOC alerts of `kinds`, in order."""
    channel = conn.execute("SELECT MIN(channel) FROM outbox WHERE kind = 'abertura'").fetchone()[0]
    marks = ",".join("?" * len(kinds))
    rows = conn.execute(
        f"SELECT kind, event_id, payload, created_at FROM outbox WHERE channel = ? AND kind IN ({marks})"  # noqa: S608
        " ORDER BY id",
        (channel, *kinds),
    )
    return [(r["kind"], r["event_id"] or "", json.loads(r["payload"]), r["created_at"]) for r in rows]


def _event(row: Record) -> dict[str, Any]:
    logins = set(json.loads(row["logins"]))
    return {
        "id": row["id"],
        "conexao": row["conexao"],
        "local": row["local"],
        "escopo": row["escopo"],
        "opened": row["timestamp"],
        "resolved": row["resolvido_em"],
        "logins": logins,
        "tamanho": len(logins),
    }


def _best_episode(event: dict[str, Any], episodes: Sequence[tuple[Outage, int, Episode]]) -> int | None:
    """The episode the event belongs to: most shared logins, then the latest onset before it."""
    best, best_key = None, (0, -math.inf)
    for i, (_, _, episode) in enumerate(episodes):
        if episode.onset > event["opened"]:
            continue
        key = (len(event["logins"] & episode.logins), episode.onset)
        if key > best_key:
            best, best_key = i, key
    if best is None or best_key[0] * 2 < len(event["logins"]):
        return None
    return best


def _score_episode(
    outage: Outage,
    number: int,
    episode: Episode,
    events: list[dict[str, Any]],
    cycles: Sequence[float],
    threshold: int,
    quorum: float,
    no_cto: set[str],
) -> EpisodeScore:
    result = EpisodeScore(outage.name, outage.kind, number, len(episode.logins), [e["id"] for e in events])
    held = set().union(*(e["logins"] for e in events)) if events else set()
    seen = {
        login
        for login, at in episode.erp_offline.items()
        if _seen_offline(cycles, at, episode.returns.get(login))
    }
    unplaced = (seen - held) & no_cto if outage.place.scope == "cto" else set()
    result.unplaced = len(unplaced)
    result.missing = len(seen - held - unplaced)
    if not events:
        return result
    first = events[0]
    visible = _cycle_index(
        cycles, sorted(episode.erp_offline.values())[min(threshold, len(episode.erp_offline)) - 1]
    )
    result.late_cycles = _cycle_index(cycles, first["opened"]) - visible
    result.churn_inside = len(held - outage.logins)
    back = sorted(episode.returns.get(login, math.inf) for login in first["logins"])
    needed = len(back) if len(back) < 10 else math.ceil(quorum * len(back))
    if back and back[needed - 1] <= cycles[-1]:
        quorum_cycle = _cycle_index(cycles, back[needed - 1])
        closed = _cycle_index(cycles, first["resolved"]) if first["resolved"] is not None else len(cycles)
        result.normalization_lag = closed - quorum_cycle
    return result


def _seen_offline(cycles: Sequence[float], offline_at: float, back_at: float | None) -> bool:
    """Whether some cycle polled between the ERP showing the login offline and its return."""
    first = _cycle_index(cycles, offline_at)
    return first < len(cycles) and (back_at is None or cycles[first] < back_at)


def _cycle_index(cycles: Sequence[float], at: float) -> int:
    """The index of the first cycle at or after `at`."""
    return bisect.bisect_left(cycles, at)


def _noc_messages(conn: Connection, kinds: Sequence[str] = NOC_KINDS) -> tuple[Counter[str], int]:
    """NOC alerts of `kinds` queued per event (one channel's worth), and storm summaries."""
    channel = conn.execute("SELECT MIN(channel) FROM outbox WHERE kind = 'abertura'").fetchone()[0]
    per_event: Counter[str] = Counter()
    summaries = 0
    for row in conn.execute("SELECT kind, event_id FROM outbox WHERE channel = ?", (channel,)):
        if row["kind"] in kinds and row["event_id"]:
            per_event[row["event_id"]] += 1
        elif row["kind"] == "resumo":
            summaries += 1
    return per_event, summaries
