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
- **missing**: logins of the episode that some cycle saw offline but no matching event holds;
- **NOC messages** per incident: alerts queued for the NOC about the event (opening,
  recurrence, growth, cause, normalization); storm summaries are counted apart.
"""

from __future__ import annotations

import bisect
import json
import math
import sqlite3
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

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
    normalization_lag: int | None = None  # None: no quorum within the day
    churn_inside: int = 0
    missing: int = 0  # logins a cycle saw offline that no matching event holds

    @property
    def detected(self) -> bool:
        return bool(self.events)


@dataclass
class DayScore:
    """The day as the monitor saw it, against the truth."""

    episodes: list[EpisodeScore]
    false_events: list[dict[str, Any]]
    messages_per_event: dict[str, int]
    summaries: int

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
                }
                for e in self.episodes
            ],
            "falsos": self.false_events,
            "mensagens_noc_por_evento": self.messages_per_event,
            "resumos": self.summaries,
        }


def score_day(
    conn: sqlite3.Connection, day: ScriptedDay, cycles: Sequence[float], *, threshold: int, quorum: float
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
    scores = [
        _score_episode(outage, n, episode, matched[i], cycles, threshold, quorum)
        for i, (outage, n, episode) in enumerate(episodes)
    ]
    per_event, summaries = _noc_messages(conn)
    return DayScore(scores, false_events, {e["id"]: per_event.get(e["id"], 0) for e in events}, summaries)


def _event(row: sqlite3.Row) -> dict[str, Any]:
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
) -> EpisodeScore:
    result = EpisodeScore(outage.name, outage.kind, number, len(episode.logins), [e["id"] for e in events])
    held = set().union(*(e["logins"] for e in events)) if events else set()
    seen = {
        login
        for login, at in episode.erp_offline.items()
        if _seen_offline(cycles, at, episode.returns.get(login))
    }
    result.missing = len(seen - held)
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


def _noc_messages(conn: sqlite3.Connection) -> tuple[Counter[str], int]:
    """NOC alerts queued per event (one channel's worth), and storm summaries."""
    channel = conn.execute("SELECT MIN(channel) FROM outbox WHERE kind = 'abertura'").fetchone()[0]
    per_event: Counter[str] = Counter()
    summaries = 0
    for row in conn.execute("SELECT kind, event_id FROM outbox WHERE channel = ?", (channel,)):
        if row["kind"] in NOC_KINDS and row["event_id"]:
            per_event[row["event_id"]] += 1
        elif row["kind"] == "resumo":
            summaries += 1
    return per_event, summaries
