"""Incidents and the detector's state: events with their reconnections, console numbers and
held alerts, the offline logins, the alarms' drops, place populations and rates, `meta`.

Functions run inside the caller's transaction unless they say they open their own;
`save_decision()` writes one decision's state diff and event changes, for the caller to
commit with the decision's alerts and cycle record. The state is cached in memory between
cycles and reloaded when another process (a previous lease holder) changed it, detected
through `meta.state_version`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from outage.core import kinds
from outage.core.detector import (
    NOT_ANNOUNCED,
    NOT_CONFIRMED,
    OPENINGS_KEPT,
    WIDENING,
    Decision,
    Heard,
    Incident,
    MonitorState,
    OfflineEntry,
    PastOpening,
)
from outage.core.droptime import ErpClock
from outage.core.model import (
    CAUSE_MIXED,
    CAUSE_NAMES,
    RECORD_SEPARATOR,
    Subscriber,
    pack,
    pack_members,
    unpack,
    unpack_dropped,
)
from outage.core.place import RANK, level_of
from outage.core.rates import Count, PlaceRates
from outage.db import Connection, Record, execute_in, rows_in, transaction


class StateChanged(Exception):
    """The persisted state changed since it was loaded (e.g. an operator resolved an event)."""


class StateStore:
    """Loads and saves the detector state, caching it between cycles of one process."""

    def __init__(self) -> None:
        self._cached: MonitorState | None = None
        self._version = -1

    def load(self, conn: Connection) -> MonitorState:
        version = state_version(conn)
        if self._cached is None or version != self._version:
            self._cached = load_state(conn)
            self._version = version
        return self._cached

    def forget(self) -> None:
        """Drop the cache (after a failed commit, the in-memory state may be ahead)."""
        self._cached = None
        self._version = -1

    def saved(self, conn: Connection) -> None:
        self._version = state_version(conn)

    @property
    def version(self) -> int:
        """The `state_version` the cached state was loaded at (or saved as)."""
        return self._version


def load_state(conn: Connection) -> MonitorState:
    """The state as the last good cycle left it (see the layout in migrations 0001 and 0005)."""
    state = MonitorState(
        baseline_done=get_meta(conn, "baseline_done", "0") == "1",
        last_poll=float(get_meta(conn, "last_poll", "0")),
        erp_clock=_load_clock(get_meta(conn, "erp_clock", "{}")),
        rates=_load_rates(conn),
        population=dict(conn.execute("SELECT chave, logins FROM place_population").fetchall()),
        population_at=float(get_meta(conn, "populacao_lida_em", "0")),
        heard={
            login: Heard(at, cause)
            for login, at, cause in conn.execute("SELECT login, caiu_em, causa FROM alarm_drops")
        },
    )
    for login, data, dropped_at in conn.execute("SELECT login, data, dropped_at FROM offline_state"):
        state.offline[login] = OfflineEntry(unpack(data), dropped_at)
    back: dict[str, set[str]] = {}
    for event_id, login in conn.execute(
        "SELECT r.event_id, r.login FROM event_reconnections r JOIN events e ON e.id = r.event_id"
        " WHERE e.status = 'ativo'"
    ):
        back.setdefault(event_id, set()).add(login)
    for row in conn.execute(f"SELECT {_INCIDENT_COLUMNS} FROM events WHERE status = 'ativo'"):  # noqa: S608
        incident = _incident(row)
        returned = back.get(incident.id, set())
        for sub, dropped_at in unpack_dropped(row["clientes"]):
            incident.members[sub.login] = dropped_at
            incident.subs[sub.login] = sub
            if sub.login not in returned:
                incident.offline.add(sub.login)
                state.offline[sub.login] = OfflineEntry(sub, dropped_at, incident.id)
        state.incidents[incident.id] = incident
    since = state.last_poll - OPENINGS_KEPT
    for row in conn.execute(
        "SELECT chave_local, id, timestamp, tamanho_abertura, aviso, cobertura FROM events"
        " WHERE timestamp >= ? ORDER BY timestamp",
        (since,),
    ):
        covers = frozenset(json.loads(row[5] or "[]"))
        state.openings.setdefault(row[0], []).append(PastOpening(row[1], row[2], row[3], row[4], covers))
    return state


_INCIDENT_COLUMNS = (
    "id, conexao, timestamp, chave_local, caminho, unidades, primeira_queda, ultima_queda, aviso,"
    " nivel_anunciado, recorrencia, clientes, fim_abertura, relacionado, cobertura, origem"
)


def _incident(row: Record) -> Incident:
    return Incident(
        id=row["id"],
        place=row["chave_local"],
        path=tuple(json.loads(row["caminho"])),
        conexao=row["conexao"],
        opened_at=row["timestamp"],
        first_drop=row["primeira_queda"] if row["primeira_queda"] is not None else row["timestamp"],
        last_drop=row["ultima_queda"] if row["ultima_queda"] is not None else row["timestamp"],
        members={},
        subs={},
        offline=set(),
        units=set(json.loads(row["unidades"])),
        announced=bool(row["aviso"]),
        announced_rank=row["nivel_anunciado"],
        recurrence=row["recorrencia"],
        # an event written before onsets were stored: its onset is over
        onset_end=row["fim_abertura"] if row["fim_abertura"] is not None else row["ultima_queda"] or 0.0,
        related=row["relacionado"],
        fell=set(json.loads(row["cobertura"] or "[]")),
        origin=row["origem"],
    )


def _load_rates(conn: Connection) -> PlaceRates:
    rates = PlaceRates()
    for key, count, updated_at in conn.execute("SELECT key, count, updated_at FROM place_rates"):
        rates.counts[key] = Count(count, updated_at)
    exposure = json.loads(get_meta(conn, "rates_exposure", "[0, 0]"))
    rates.exposure = Count(float(exposure[0]), float(exposure[1]))
    return rates


def _load_clock(text: str) -> ErpClock:
    data = json.loads(text)
    return ErpClock(
        samples=[(float(t), float(s)) for t, s in data.get("samples", [])],
        offset=float(data.get("offset", 0.0)),
    )


def save_decision(
    conn: Connection,
    state: MonitorState,
    decision: Decision,
    now: float,
    places: Mapping[str, tuple[str, dict[str, Any]]],
    expected_version: int | None = None,
) -> None:
    """Write one decision on `state` — offline logins, alarm drops, events, the places in words
    of incidents opened or widened, what the detector learned — and mark the state changed.

    Raises `StateChanged`, writing nothing, when the state is no longer at `expected_version`
    (someone else wrote it since it was loaded).
    """
    if expected_version is not None and state_version(conn) != expected_version:
        raise StateChanged("o estado foi alterado por outro processo durante o ciclo")
    _save_offline(conn, decision)
    _save_alarms(conn, state, decision)
    _save_incidents(conn, state, decision, now)
    _save_places(conn, places, now)
    _save_learning(conn, state, decision)
    bump_state_version(conn)


def state_version(conn: Connection) -> int:
    return int(get_meta(conn, "state_version", "0"))


def mark_baseline_done(conn: Connection) -> None:
    """The first good poll is recorded: later drops are new."""
    set_meta(conn, "baseline_done", "1")


def _save_alarms(conn: Connection, state: MonitorState, decision: Decision) -> None:
    """The alarms' drops waiting for an ERP poll: new ones kept, settled ones let go."""
    settled = (*decision.confirmed, *decision.withdrawn, *decision.deletes)
    execute_in(conn, "DELETE FROM alarm_drops WHERE login IN ({marks})", settled)
    heard = [
        (login, state.heard[login].at, state.heard[login].cause)
        for login in decision.heard
        if login in state.heard
    ]
    if heard:
        conn.executemany(
            "INSERT INTO alarm_drops (login, caiu_em, causa) VALUES (?, ?, ?)"
            " ON CONFLICT (login) DO UPDATE SET caiu_em = excluded.caiu_em, causa = excluded.causa",
            heard,
        )


def _save_offline(conn: Connection, decision: Decision) -> None:
    """Offline logins in no incident go to `offline_state`; members of one live in its text."""
    loose = sorted(login for login, entry in decision.upserts.items() if entry.incident_id is None)
    if loose:
        conn.executemany(
            "INSERT INTO offline_state (login, data, dropped_at) VALUES (?, ?, ?)"
            " ON CONFLICT (login) DO UPDATE SET data = excluded.data, dropped_at = excluded.dropped_at",
            # sorted by the primary key: SQLite then appends instead of splitting pages
            (
                (login, pack(decision.upserts[login].sub), decision.upserts[login].dropped_at)
                for login in loose
            ),
        )
    members = [login for login, entry in decision.upserts.items() if entry.incident_id is not None]
    execute_in(conn, "DELETE FROM offline_state WHERE login IN ({marks})", [*members, *decision.deletes])


def _save_incidents(conn: Connection, state: MonitorState, decision: Decision, now: float) -> None:
    for opening in decision.opened:
        incident = state.incidents[opening.incident_id]
        conn.execute(
            "INSERT INTO events (id, conexao, timestamp, status, logins, atualizado_em, anunciados,"
            " alerta_suprimido, clientes, escopo, chave_local, chave_abertura, caminho, unidades,"
            " primeira_queda, ultima_queda, aviso, nivel_anunciado, recorrencia, tamanho_abertura,"
            " fim_abertura, relacionado, cobertura, origem)"
            " VALUES (?, ?, ?, 'ativo', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                incident.id,
                incident.conexao,
                now,
                json.dumps(sorted(incident.members)),
                now,
                len(opening.subs),
                int(not opening.alert),
                pack_members(opening.subs),
                level_of(incident.place),
                incident.place,
                incident.place,
                json.dumps(list(incident.path)),
                json.dumps(sorted(incident.units)),
                incident.first_drop,
                incident.last_drop,
                opening.alert,
                incident.announced_rank,
                incident.recurrence,
                len(opening.subs),
                incident.onset_end,
                incident.related,
                json.dumps(sorted(incident.fell)),
                incident.origin,
            ),
        )
    for growth in decision.grown:
        incident = state.incidents[growth.incident_id]
        # a widened incident is remembered at its new size
        widened_size = len(incident.members) if growth.widened_from is not None else None
        conn.execute(
            "UPDATE events SET logins = ?, atualizado_em = ?, clientes = clientes || ? || ?, escopo = ?,"
            " chave_local = ?, caminho = ?, unidades = ?, primeira_queda = ?, ultima_queda = ?,"
            " aviso = CASE WHEN aviso = '' THEN ? ELSE aviso END, alerta_suprimido = ?, nivel_anunciado = ?,"
            " recorrencia = ?, fim_abertura = ?, cobertura = ?,"
            " tamanho_abertura = CASE WHEN ? > tamanho_abertura THEN ? ELSE tamanho_abertura END"
            " WHERE id = ?",
            (
                json.dumps(sorted(incident.members)),
                now,
                RECORD_SEPARATOR,
                pack_members(growth.subs),
                level_of(incident.place),
                incident.place,
                json.dumps(list(incident.path)),
                json.dumps(sorted(incident.units)),
                incident.first_drop,
                incident.last_drop,
                growth.alert if growth.alert != WIDENING else "",
                int(not incident.announced),
                incident.announced_rank,
                incident.recurrence,
                incident.onset_end,
                json.dumps(sorted(incident.fell)),
                *[widened_size] * 2,
                growth.incident_id,
            ),
        )
    _save_reconnections(conn, decision, now)
    closed = {r.incident.id: r.incident for r in decision.resolved}
    for incident_id in decision.shrunk:  # members the ERP showed online: their alarm never happened
        shrunk = state.incidents.get(incident_id) or closed.get(incident_id)
        if shrunk is not None:
            conn.execute(
                "UPDATE events SET logins = ?, clientes = ?, atualizado_em = ? WHERE id = ?",
                (
                    json.dumps(sorted(shrunk.members)),
                    pack_members((shrunk.subs[login], at) for login, at in shrunk.members.items()),
                    now,
                    incident_id,
                ),
            )
    for resolution in decision.resolved:
        conn.execute(
            "UPDATE events SET status = 'resolvido', resolvido_em = ?, atualizado_em = ?, retardatarios = ?,"
            " resolvido_por = CASE WHEN ? = 1 THEN ? ELSE resolvido_por END WHERE id = ?",
            (
                now,
                now,
                json.dumps([s.login for s in resolution.stragglers]),
                resolution.not_confirmed,
                NOT_CONFIRMED,
                resolution.incident.id,
            ),
        )
    if decision.held:
        conn.executemany(
            "INSERT INTO held_alerts (event_id, kind, motivo, created_at) VALUES (?, ?, ?, ?)",
            [(event_id, kind, why, now) for event_id, kind, why in decision.held],
        )


def _save_places(conn: Connection, places: Mapping[str, tuple[str, dict[str, Any]]], now: float) -> None:
    """The place in words of incidents opened or widened this cycle."""
    for event_id, (local, detail) in places.items():
        conn.execute(
            "UPDATE events SET local = ?, local_detalhe = ? WHERE id = ? AND status = 'ativo'",
            (local, json.dumps(detail, ensure_ascii=False), event_id),
        )


def event_place(conn: Connection, event_id: str) -> tuple[str, dict[str, Any]] | None:
    """The stored place of an event, or None when it has none yet."""
    row = conn.execute("SELECT local, local_detalhe FROM events WHERE id = ?", (event_id,)).fetchone()
    if row is None or not row["local"]:
        return None
    return row["local"], json.loads(row["local_detalhe"] or "{}")


def _save_learning(conn: Connection, state: MonitorState, decision: Decision) -> None:
    """What the detector learns from every cycle: churn per place, the ERP's clock, the poll time."""
    counts = state.rates.counts
    conn.executemany(
        "INSERT INTO place_rates (key, count, updated_at) VALUES (?, ?, ?)"
        " ON CONFLICT (key) DO UPDATE SET count = excluded.count, updated_at = excluded.updated_at",
        [(key, counts[key].value, counts[key].at) for key in sorted(decision.rates_touched) if key in counts],
    )
    exposure = state.rates.exposure
    set_meta(conn, "rates_exposure", json.dumps([exposure.value, exposure.at]))
    clock = state.erp_clock
    set_meta(conn, "erp_clock", json.dumps({"samples": clock.samples, "offset": clock.offset}))
    set_meta(conn, "last_poll", repr(state.last_poll))


def _save_reconnections(conn: Connection, decision: Decision, now: float) -> None:
    """Logins of incidents that came back (or dropped again): the incident's recovery progress."""
    back = sorted((event_id, login) for event_id, logins in decision.back_online.items() for login in logins)
    if back:
        conn.executemany(
            "INSERT INTO event_reconnections (event_id, login, reconectou_em) VALUES (?, ?, ?)"
            " ON CONFLICT (event_id, login) DO UPDATE SET reconectou_em = excluded.reconectou_em",
            ((event_id, login, now) for event_id, login in back),
        )
    again = [(event_id, login) for event_id, logins in decision.offline_again.items() for login in logins]
    if again:
        conn.executemany("DELETE FROM event_reconnections WHERE event_id = ? AND login = ?", again)
    for event_id in {*decision.back_online, *decision.offline_again}:
        conn.execute("UPDATE events SET atualizado_em = ? WHERE id = ?", (now, event_id))


_ANALYZER_RANK = {"cto": 0, "pon": 1, "pons": 2, "olt": 2, "olts": 3}


@dataclass(frozen=True)
class SavedCause:
    """What an event's cause is after `save_cause` (`changed`: a part moved it off its old cause)."""

    conexao: str
    local: str
    motivo: str
    explicacao: str
    changed: bool = False


def save_cause(conn: Connection, event_id: str, report: Any, now: float) -> SavedCause:
    """Store an analyzer's `CauseReport` on the event (inside the caller's transaction).

    The OLTs' answers may place the outage more narrowly than the ERP could (a PON the ERP
    does not record): their place then replaces the event's — only when the ERP did not
    break the event's place down itself (no `unidades`): an OLT whose dark PONs the ERP
    names is not narrowed to the few PONs of the sampled ONUs.
    """
    row = conn.execute(
        "SELECT conexao, escopo, local, unidades FROM events WHERE id = ?", (event_id,)
    ).fetchone()
    if row is None:
        return SavedCause("", "", report.motivo, report.explicacao)
    erp_knows = bool(json.loads(row["unidades"] or "[]"))
    level = _ANALYZER_RANK.get(str(report.local_detalhe.get("nivel")), 9)
    narrower = not erp_knows and level < RANK.get(row["escopo"], 9)
    local = report.local if narrower and report.local else row["local"]
    conn.execute(
        "UPDATE events SET motivo = ?, causa_status = 'concluido', evidencias = ?, votos = ?,"
        " causa_explicacao = ?, causas = '[]', atualizado_em = ? WHERE id = ?",
        (
            report.motivo,
            json.dumps(report.evidencias, ensure_ascii=False),
            json.dumps(report.votos, ensure_ascii=False),
            report.explicacao,
            now,
            event_id,
        ),
    )
    if narrower and report.local:
        conn.execute(
            "UPDATE events SET local = ?, local_detalhe = ? WHERE id = ?",
            (report.local, json.dumps(report.local_detalhe, ensure_ascii=False), event_id),
        )
    return SavedCause(row["conexao"], local, report.motivo, report.explicacao)


def save_part_cause(
    conn: Connection,
    event_id: str,
    report: Any,
    part: tuple[str, Sequence[str]],
    rest_local: str,
    now: float,
) -> SavedCause:
    """Store the cause of a part that joined the event (`part`: its place in words and logins).

    The event keeps one cause while its parts agree; parts with different causes make it
    `misto`, with each part's cause, place and logins in `causas` and the causes in words
    in `causa_explicacao` ("energia em PONs 0/1/2 e 0/1/3 da OLT-X; concentrador em ...").
    `rest_local` names the logins that were in the event before its parts had causes.
    """
    row = conn.execute(
        "SELECT conexao, local, motivo, causas, causa_explicacao, votos, logins, evidencias FROM events"
        " WHERE id = ?",
        (event_id,),
    ).fetchone()
    if row is None:
        return SavedCause("", "", report.motivo, report.explicacao)
    place, logins = part
    parts = json.loads(row["causas"] or "[]") or [
        {
            "motivo": row["motivo"],
            "local": rest_local,
            "logins": sorted(set(json.loads(row["logins"])) - set(logins)),
            "votos": json.loads(row["votos"] or "{}"),
            "explicacao": row["causa_explicacao"],
        }
    ]
    parts.append(
        {
            "motivo": report.motivo,
            "local": place,
            "logins": sorted(logins),
            "votos": report.votos,
            "explicacao": report.explicacao,
        }
    )
    causes = {p["motivo"] for p in parts}
    single = len(causes) == 1
    motivo = causes.pop() if single else CAUSE_MIXED
    explicacao = row["causa_explicacao"] if single else mixed_words(parts)
    evidences = json.loads(row["evidencias"] or "[]") + report.evidencias
    conn.execute(
        "UPDATE events SET motivo = ?, causas = ?, causa_explicacao = ?, evidencias = ?, atualizado_em = ?"
        " WHERE id = ?",
        (
            motivo,
            "[]" if single else json.dumps(parts, ensure_ascii=False),
            explicacao,
            json.dumps(evidences, ensure_ascii=False),
            now,
            event_id,
        ),
    )
    return SavedCause(row["conexao"], row["local"], motivo, explicacao, motivo != row["motivo"])


def mixed_words(parts: Sequence[Mapping[str, Any]]) -> str:
    """ "energia em PONs 0/1/2 e 0/1/3 da OLT-X; concentrador em conexão BNG-1 — 2 OLTs": each cause
    once, with the places of its parts."""
    places: dict[str, list[str]] = {}
    for p in parts:
        places.setdefault(str(p["motivo"]), []).append(str(p["local"]))
    return "; ".join(
        f"{CAUSE_NAMES.get(cause, cause)} em {' e '.join(where)}" for cause, where in places.items()
    )


def save_population(conn: Connection, counts: Mapping[str, int], now: float) -> None:
    """Replace the active logins per place with a new read of the ERP (one transaction)."""
    with transaction(conn):
        conn.execute("DELETE FROM place_population")
        conn.executemany("INSERT INTO place_population (chave, logins) VALUES (?, ?)", sorted(counts.items()))
        set_meta(conn, "populacao_lida_em", repr(now))


def pending_causes(conn: Connection, before: float) -> list[tuple[str, list[tuple[Subscriber, float]]]]:
    """The events opened before `before` whose cause was never stored, with their members."""
    ids = [
        r[0]
        for r in conn.execute(
            "SELECT id FROM events WHERE causa_status = 'pendente' AND timestamp < ? ORDER BY timestamp",
            (before,),
        )
    ]
    return [(event_id, event_subscribers(conn, event_id)) for event_id in ids]


def bump_state_version(conn: Connection) -> None:
    """Mark the persisted state as changed (pollers holding a cached copy reload it)."""
    conn.execute(
        "INSERT INTO meta (key, value) VALUES ('state_version', '1') ON CONFLICT (key)"
        " DO UPDATE SET value = CAST(meta.value AS INTEGER) + 1"
    )


@dataclass(frozen=True)
class HandResolution:
    """An event closed by hand: what its normalization notice says (`announced`: its opening
    was alerted, so the notice goes out; else it is held)."""

    conexao: str
    local: str
    total: int
    started: float
    back: list[str]
    still: list[Subscriber]
    announced: bool


def resolve_by_hand(conn: Connection, event_id: str, user: str, now: float) -> HandResolution:
    """Close an active event by hand (e.g. logins left in `SS` after the outage).

    Its members still offline become ordinary offline logins (never counted as new drops
    again) and its stragglers; an unannounced event's normalization is held. Raises
    `KeyError` (unknown id) or `ValueError` (already resolved), writing nothing.
    """
    row = conn.execute(
        "SELECT conexao, local, primeira_queda, timestamp, status, aviso, clientes FROM events WHERE id = ?",
        (event_id,),
    ).fetchone()
    if row is None:
        raise KeyError(event_id)
    if row["status"] != "ativo":
        raise ValueError("evento já resolvido")
    back = set(reconnections(conn, event_id))
    members = [sub for sub, _ in unpack_dropped(row["clientes"])]
    still = [sub for sub in members if sub.login not in back]
    conn.executemany(
        "INSERT INTO offline_state (login, data, dropped_at) VALUES (?, ?, NULL)"
        " ON CONFLICT (login) DO UPDATE SET data = excluded.data, dropped_at = NULL",
        [(sub.login, pack(sub)) for sub in still],
    )
    conn.execute(
        "UPDATE events SET status = 'resolvido', resolvido_em = ?, resolvido_por = ?, atualizado_em = ?,"
        " retardatarios = ? WHERE id = ?",
        (now, user, now, json.dumps(sorted(sub.login for sub in still)), event_id),
    )
    if not row["aviso"]:
        conn.execute(
            "INSERT INTO held_alerts (event_id, kind, motivo, created_at) VALUES (?, ?, ?, ?)",
            (event_id, kinds.NORMALIZATION, NOT_ANNOUNCED, now),
        )
    bump_state_version(conn)
    started = row["primeira_queda"] if row["primeira_queda"] is not None else row["timestamp"]
    return HandResolution(
        row["conexao"], row["local"], len(members), started, sorted(back), still, bool(row["aviso"])
    )


def get_meta(conn: Connection, key: str, default: str) -> str:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return default if row is None else str(row[0])


def set_meta(conn: Connection, key: str, value: str) -> None:
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


def event_subscribers(conn: Connection, event_id: str) -> list[tuple[Subscriber, float]]:
    """Every login an event affected, with its ERP fields and when it dropped (login order)."""
    row = conn.execute("SELECT clientes FROM events WHERE id = ?", (event_id,)).fetchone()
    if row is None:
        return []
    return sorted(unpack_dropped(row[0]), key=lambda pair: pair[0].login)


# --- reading events for the API and the HSM console -------------------------------------

_EVENT_FIELDS = (
    "id, conexao, timestamp, status, logins, motivo, causa_status, local, local_detalhe, evidencias, votos,"
    " resolvido_em, resolvido_por, atualizado_em, escopo, aviso, recorrencia, retardatarios, primeira_queda,"
    " causa_explicacao, causas, relacionado, origem"
)
_CONSOLE_FIELDS = (
    "id, conexao, timestamp, status, logins, motivo, local, local_detalhe, primeira_queda, causas,"
    " causa_explicacao, relacionado, origem,"
    " (SELECT COUNT(*) FROM event_reconnections r WHERE r.event_id = events.id) AS de_volta"
)


@dataclass(frozen=True)
class EventFilter:
    """Which events to list: by status, connection and opening time (None: any)."""

    status: str | None = None
    conexao: str | None = None
    since: float | None = None
    until: float | None = None


def active_events_version(conn: Connection) -> tuple[Any, ...]:
    """What changes whenever the active events do: the state version, their newest update, their count."""
    return tuple(
        conn.execute(
            "SELECT (SELECT value FROM meta WHERE key = 'state_version'),"
            " (SELECT MAX(atualizado_em) FROM events WHERE status = 'ativo'),"
            " (SELECT COUNT(*) FROM events WHERE status = 'ativo')"
        ).fetchone()
    )


def active_events(conn: Connection) -> list[Record]:
    """The active events, newest first."""
    return conn.execute(
        f"SELECT {_EVENT_FIELDS} FROM events WHERE status = 'ativo' ORDER BY timestamp DESC"  # noqa: S608
    ).fetchall()


def find_events(conn: Connection, wanted: EventFilter, limit: int, offset: int) -> tuple[int, list[Record]]:
    """How many events match, and a page of them: active first, then newest first."""
    where: list[str] = []
    params: list[Any] = []
    for clause, value in (
        ("status = ?", wanted.status),
        ("conexao = ?", wanted.conexao),
        ("timestamp >= ?", wanted.since),
        ("timestamp <= ?", wanted.until),
    ):
        if value is not None:
            where.append(clause)
            params.append(value)
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    total = int(conn.execute(f"SELECT COUNT(*) FROM events{clause}", params).fetchone()[0])  # noqa: S608
    rows = conn.execute(
        f"SELECT {_EVENT_FIELDS} FROM events{clause}"  # noqa: S608
        " ORDER BY CASE status WHEN 'ativo' THEN 0 ELSE 1 END, timestamp DESC LIMIT ? OFFSET ?",
        [*params, limit, offset],
    ).fetchall()
    return total, rows


def event_row(conn: Connection, event_id: str) -> Record | None:
    row: Record | None = conn.execute(
        f"SELECT {_EVENT_FIELDS} FROM events WHERE id = ?",  # noqa: S608
        (event_id,),
    ).fetchone()
    return row


def reconnections(conn: Connection, event_id: str) -> dict[str, float]:
    """The event's logins that came back, with when."""
    return dict(
        conn.execute(
            "SELECT login, reconectou_em FROM event_reconnections WHERE event_id = ?", (event_id,)
        ).fetchall()
    )


def returned_logins(conn: Connection, event_ids: Sequence[str]) -> dict[str, set[str]]:
    """The logins that came back of each event (every id a key)."""
    back: dict[str, set[str]] = {event_id: set() for event_id in event_ids}
    query = "SELECT event_id, login FROM event_reconnections WHERE event_id IN ({marks})"
    for event_id, login in rows_in(conn, query, event_ids):
        back[event_id].add(login)
    return back


def held_openings(conn: Connection, event_ids: Sequence[str]) -> dict[str, str]:
    """Why the opening alert of each of these events was held (events without one left out)."""
    query = "SELECT event_id, motivo FROM held_alerts WHERE kind = 'abertura' AND event_id IN ({marks}) ORDER BY id"
    return {event_id: reason for event_id, reason in rows_in(conn, query, event_ids)}


def held_alerts(conn: Connection, event_id: str) -> list[dict[str, Any]]:
    """The event's alerts that were held: tipo, motivo, criado_em."""
    return [
        dict(r)
        for r in conn.execute(
            "SELECT kind AS tipo, motivo, created_at AS criado_em FROM held_alerts WHERE event_id = ? ORDER BY id",
            (event_id,),
        )
    ]


def events_by_status(conn: Connection) -> list[tuple[str, int]]:
    return [
        (row[0], int(row[1])) for row in conn.execute("SELECT status, COUNT(*) FROM events GROUP BY status")
    ]


def console_events(conn: Connection) -> list[Record]:
    """The active events as the HSM console reads them (with `de_volta`, how many came back), oldest first."""
    return conn.execute(
        f"SELECT {_CONSOLE_FIELDS} FROM events WHERE status = 'ativo' ORDER BY timestamp"  # noqa: S608
    ).fetchall()


def console_event(conn: Connection, event_id: str) -> Record | None:
    row: Record | None = conn.execute(
        f"SELECT {_CONSOLE_FIELDS} FROM events WHERE id = ?",  # noqa: S608
        (event_id,),
    ).fetchone()
    return row


def event_numbers(conn: Connection, event_ids: list[str]) -> dict[str, int]:
    """The console number (−N) of each event, giving the next free N to events without one
    (own transaction, when one is given)."""
    found = _numbers(conn, event_ids)
    missing = [event_id for event_id in event_ids if event_id not in found]
    if missing:
        with transaction(conn):
            conn.executemany(
                "INSERT INTO incident_numbers (event_id) VALUES (?) ON CONFLICT (event_id) DO NOTHING",
                [(m,) for m in missing],
            )
        found = _numbers(conn, event_ids)
    return found


def _numbers(conn: Connection, event_ids: list[str]) -> dict[str, int]:
    query = "SELECT event_id, numero FROM incident_numbers WHERE event_id IN ({marks})"
    return {row[0]: -int(row[1]) for row in rows_in(conn, query, event_ids)}


def event_numbered(conn: Connection, number: int) -> str | None:
    """The id of the event with console number N (`number`), or None."""
    row = conn.execute("SELECT event_id FROM incident_numbers WHERE numero = ?", (number,)).fetchone()
    return None if row is None else str(row[0])
