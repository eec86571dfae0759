"""Persistence of the monitor: the last good state, events, cycles, and their alerts.

`apply()` writes one cycle's decision — state diff, event changes, outbox rows and the
cycle record — in a single transaction, so a crash leaves either all of it or none.
The state is cached in memory between cycles and reloaded when another process (a
previous lease holder) changed it, detected through `meta.state_version`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from outage.alerts import outbox
from outage.db import transaction
from outage.detector import ActiveEvent, Decision, MonitorState, OfflineEntry
from outage.model import RECORD_SEPARATOR, Subscriber, pack, pack_dropped, unpack, unpack_dropped


class LeaseLost(Exception):
    """This process no longer holds the poller lease: its cycle must not be committed."""


class StateChanged(Exception):
    """The persisted state changed since it was loaded (e.g. an operator resolved an event)."""


@dataclass
class CycleCounts:
    offline: int = 0
    novas_quedas: int = 0
    reconectados: int = 0
    abertos: int = 0
    crescidos: int = 0
    resolvidos: int = 0


class StateStore:
    """Loads and saves the detector state, caching it between cycles of one process."""

    def __init__(self) -> None:
        self._cached: MonitorState | None = None
        self._version = -1

    def load(self, conn: sqlite3.Connection) -> MonitorState:
        version = int(get_meta(conn, "state_version", "0"))
        if self._cached is None or version != self._version:
            self._cached = load_state(conn)
            self._version = version
        return self._cached

    def forget(self) -> None:
        """Drop the cache (after a failed commit, the in-memory state may be ahead)."""
        self._cached = None
        self._version = -1

    def saved(self, conn: sqlite3.Connection) -> None:
        self._version = int(get_meta(conn, "state_version", "0"))

    @property
    def version(self) -> int:
        """The `state_version` the cached state was loaded at (or saved as)."""
        return self._version


def load_state(conn: sqlite3.Connection) -> MonitorState:
    """The state as the last good cycle left it (see the layout in migration 0001)."""
    state = MonitorState(baseline_done=get_meta(conn, "baseline_done", "0") == "1")
    for login, data, dropped_at in conn.execute("SELECT login, data, dropped_at FROM offline_state"):
        state.offline[login] = OfflineEntry(unpack(data), dropped_at)
    back: dict[str, set[str]] = {}
    for event_id, login in conn.execute(
        "SELECT r.event_id, r.login FROM event_reconnections r JOIN events e ON e.id = r.event_id"
        " WHERE e.status = 'ativo'"
    ):
        back.setdefault(event_id, set()).add(login)
    for row in conn.execute(
        "SELECT id, conexao, timestamp, anunciados, alerta_suprimido, clientes FROM events WHERE status = 'ativo'"
    ):
        event = ActiveEvent(
            id=row["id"],
            conexao=row["conexao"],
            opened_at=row["timestamp"],
            logins=set(),
            offline=set(),
            announced=row["anunciados"],
            suppressed=bool(row["alerta_suprimido"]),
        )
        returned = back.get(event.id, set())
        for sub, dropped_at in unpack_dropped(row["clientes"]):
            event.logins.add(sub.login)
            if sub.login not in returned:
                event.offline.add(sub.login)
                state.offline[sub.login] = OfflineEntry(sub, dropped_at, event.id)
        state.events[event.conexao] = event
    for row in conn.execute("SELECT conexao, last_alert_at FROM opening_alerts"):
        state.last_opening_alert[row[0]] = row[1]
    return state


def apply(
    conn: sqlite3.Connection,
    state: MonitorState,
    decision: Decision,
    now: float,
    alerts: Sequence[outbox.Alert],
    channels: Sequence[str],
    cycle_id: int,
    duration: float,
    holder: str | None = None,
    expected_version: int | None = None,
    opening_hold: float = 0.0,
) -> CycleCounts:
    """Persist one good cycle atomically.

    Raises `LeaseLost` if `holder` lost the lease, and `StateChanged` if the state is no
    longer at `expected_version` (someone else wrote it since it was loaded): nothing is
    written in either case.
    """
    counts = CycleCounts(
        offline=decision.offline_total,
        novas_quedas=decision.new_drops,
        reconectados=decision.reconnected,
        abertos=len(decision.opened),
        crescidos=len(decision.grown),
        resolvidos=len(decision.resolved),
    )
    with transaction(conn):
        if holder is not None:
            _check_lease(conn, holder, now)
        if expected_version is not None and int(get_meta(conn, "state_version", "0")) != expected_version:
            raise StateChanged("o estado foi alterado por outro processo durante o ciclo")
        _save_offline(conn, decision, now)
        _save_events(conn, state, decision, now)
        # openings wait (at most `opening_hold`) for the cause, so the NOC gets one complete message
        held = (outbox.OPENING, outbox.SUMMARY)
        outbox.enqueue(conn, [a for a in alerts if a.kind in held], channels, now, now + opening_hold)
        outbox.enqueue(conn, [a for a in alerts if a.kind not in held], channels, now)
        set_meta(conn, "baseline_done", "1")
        bump_state_version(conn)
        finish_cycle(conn, cycle_id, now + duration, True, None, counts, duration)
    return counts


def _check_lease(conn: sqlite3.Connection, holder: str, now: float) -> None:
    row = conn.execute("SELECT holder, expires_at FROM leases WHERE name = 'poller'").fetchone()
    if row is None or row["holder"] != holder or row["expires_at"] < now:
        raise LeaseLost("outro processo assumiu o monitoramento")


def _save_offline(conn: sqlite3.Connection, decision: Decision, now: float) -> None:
    """Offline logins in no event go to `offline_state`; members of an event live in its text."""
    loose = sorted(login for login, entry in decision.upserts.items() if entry.event_id is None)
    if loose:
        conn.executemany(
            "INSERT OR REPLACE INTO offline_state (login, data, dropped_at) VALUES (?, ?, ?)",
            # sorted by the primary key: SQLite then appends instead of splitting pages
            (
                (login, pack(decision.upserts[login].sub), decision.upserts[login].dropped_at)
                for login in loose
            ),
        )
    # earlier drops that joined an event this cycle, and logins back online
    joined = [
        (login,)
        for login, entry in decision.upserts.items()
        if entry.event_id is not None and entry.dropped_at is not None and entry.dropped_at < now
    ]
    gone = joined + [(login,) for login in decision.deletes]
    if gone:
        conn.executemany("DELETE FROM offline_state WHERE login = ?", gone)


def _save_events(conn: sqlite3.Connection, state: MonitorState, decision: Decision, now: float) -> None:
    for opening in decision.opened:
        logins = sorted(s.login for s in opening.subs)
        conn.execute(
            "INSERT INTO events (id, conexao, timestamp, status, logins, atualizado_em, anunciados,"
            " alerta_suprimido, clientes) VALUES (?, ?, ?, 'ativo', ?, ?, ?, ?, ?)",
            (
                opening.event_id,
                opening.conexao,
                now,
                json.dumps(logins),
                now,
                len(logins),
                int(not opening.alert),
                pack_dropped(opening.subs, now),
            ),
        )
        if opening.alert:
            conn.execute(
                "INSERT INTO opening_alerts (conexao, last_alert_at) VALUES (?, ?)"
                " ON CONFLICT (conexao) DO UPDATE SET last_alert_at = excluded.last_alert_at",
                (opening.conexao, now),
            )
    for growth in decision.grown:
        event = state.events[growth.conexao]
        conn.execute(
            "UPDATE events SET logins = ?, anunciados = ?, atualizado_em = ?,"
            " clientes = clientes || ? || ? WHERE id = ?",
            (
                json.dumps(sorted(event.logins)),
                event.announced,
                now,
                RECORD_SEPARATOR,
                pack_dropped(growth.subs, now),
                growth.event_id,
            ),
        )
    _save_reconnections(conn, decision, now)
    for resolution in decision.resolved:
        conn.execute(
            "UPDATE events SET status = 'resolvido', resolvido_em = ?, atualizado_em = ? WHERE id = ?",
            (now, now, resolution.event_id),
        )


def _save_reconnections(conn: sqlite3.Connection, decision: Decision, now: float) -> None:
    """Logins of events that came back (or dropped again): the event's recovery progress."""
    back = sorted((event_id, login) for event_id, logins in decision.back_online.items() for login in logins)
    if back:
        conn.executemany(
            "INSERT OR REPLACE INTO event_reconnections (event_id, login, reconectou_em) VALUES (?, ?, ?)",
            ((event_id, login, now) for event_id, login in back),
        )
    again = [(event_id, login) for event_id, logins in decision.offline_again.items() for login in logins]
    if again:
        conn.executemany("DELETE FROM event_reconnections WHERE event_id = ? AND login = ?", again)
    for event_id in {*decision.back_online, *decision.offline_again}:
        conn.execute("UPDATE events SET atualizado_em = ? WHERE id = ?", (now, event_id))


def save_cause(conn: sqlite3.Connection, event_id: str, report: Any, now: float) -> None:
    """Store an analyzer's `CauseReport` on the event (inside the caller's transaction)."""
    conn.execute(
        "UPDATE events SET motivo = ?, causa_status = 'concluido', local = ?, local_detalhe = ?,"
        " evidencias = ?, votos = ?, atualizado_em = ? WHERE id = ?",
        (
            report.motivo,
            report.local,
            json.dumps(report.local_detalhe, ensure_ascii=False),
            json.dumps(report.evidencias, ensure_ascii=False),
            json.dumps(report.votos, ensure_ascii=False),
            now,
            event_id,
        ),
    )


def start_cycle(conn: sqlite3.Connection, now: float, holder: str) -> int:
    cursor = conn.execute("INSERT INTO cycles (started_at, holder) VALUES (?, ?)", (now, holder))
    return int(cursor.lastrowid or 0)


def finish_cycle(
    conn: sqlite3.Connection,
    cycle_id: int,
    finished_at: float,
    ok: bool,
    error: str | None,
    counts: CycleCounts | None,
    duration: float,
) -> None:
    c = counts or CycleCounts()
    conn.execute(
        "UPDATE cycles SET finished_at = ?, ok = ?, erro = ?, offline = ?, novas_quedas = ?, reconectados = ?,"
        " abertos = ?, crescidos = ?, resolvidos = ?, duracao = ? WHERE id = ?",
        (
            finished_at,
            int(ok),
            error,
            c.offline,
            c.novas_quedas,
            c.reconectados,
            c.abertos,
            c.crescidos,
            c.resolvidos,
            duration,
            cycle_id,
        ),
    )


def bump_state_version(conn: sqlite3.Connection) -> None:
    """Mark the persisted state as changed (pollers holding a cached copy reload it)."""
    conn.execute(
        "INSERT INTO meta (key, value) VALUES ('state_version', '1') ON CONFLICT (key)"
        " DO UPDATE SET value = CAST(value AS INTEGER) + 1"
    )


def resolve_by_operator(
    conn: sqlite3.Connection, event_id: str, user: str, now: float, channels: Sequence[str]
) -> str:
    """Close an active event by hand (e.g. logins left in `SS` after the outage).

    Its members still offline become ordinary offline logins (never counted as new drops
    again); a normalization alert says who closed it. Returns `resolvido`, or raises
    `KeyError` (unknown id) / `ValueError` (already resolved).
    """
    with transaction(conn):
        row = conn.execute(
            "SELECT conexao, timestamp, status, alerta_suprimido, clientes, logins FROM events WHERE id = ?",
            (event_id,),
        ).fetchone()
        if row is None:
            raise KeyError(event_id)
        if row["status"] != "ativo":
            raise ValueError("evento já resolvido")
        back = {
            r[0]
            for r in conn.execute("SELECT login FROM event_reconnections WHERE event_id = ?", (event_id,))
        }
        still = [sub for sub, _ in unpack_dropped(row["clientes"]) if sub.login not in back]
        conn.executemany(
            "INSERT OR REPLACE INTO offline_state (login, data, dropped_at) VALUES (?, ?, NULL)",
            [(sub.login, pack(sub)) for sub in still],
        )
        conn.execute(
            "UPDATE events SET status = 'resolvido', resolvido_em = ?, resolvido_por = ?, atualizado_em = ?"
            " WHERE id = ?",
            (now, user, now, event_id),
        )
        if not row["alerta_suprimido"]:
            payload = {
                "conexao": row["conexao"],
                "total": len(json.loads(row["logins"])),
                "inicio": row["timestamp"],
                "fim": now,
                "duracao": now - row["timestamp"],
                "resolvido_por": user,
                "ainda_offline": len(still),
            }
            outbox.enqueue(conn, [outbox.Alert(outbox.NORMALIZATION, payload, event_id)], channels, now)
        bump_state_version(conn)
    return "resolvido"


def get_meta(conn: sqlite3.Connection, key: str, default: str) -> str:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return default if row is None else str(row[0])


def set_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


def event_subscribers(conn: sqlite3.Connection, event_id: str) -> list[tuple[Subscriber, float]]:
    """Every login an event affected, with its ERP fields and when it dropped (login order)."""
    row = conn.execute("SELECT clientes FROM events WHERE id = ?", (event_id,)).fetchone()
    if row is None:
        return []
    return sorted(unpack_dropped(row[0]), key=lambda pair: pair[0].login)
