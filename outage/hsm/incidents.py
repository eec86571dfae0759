"""Incidents pending a decision, from two sources, with one shape.

- the OLT management system (REFERENCE.md §5): open alerts of type `pon_loss` / `cto_loss`
  (LOS) and `pon_no_power` / `no_power` (POWER); id = the system's numeric id as a string;
- the monitor's own active events: id `ev-<event id>`; cause `energia` -> POWER,
  `loss` -> LOS, `indeterminado` -> INDETERMINADO (the operator picks the template).

Every incident also has a number (`Incident.numero`), the id the dispatch seed's page
needs: an OLT alert keeps its own positive id; a monitor event is −N, N its number in
`incident_numbers` (given on first sight, never reused), so the two never collide.
`find_incident` accepts any of the three spellings: `7`, `-3`, `ev-<event id>`.

The flap-damping key of an incident is `OLT|PON|type` (`Incident.key`).

One row per outage: an OLT alert and the monitor events of the same outage (same OLT,
overlapping PONs, a compatible type, started within `TWIN_WINDOW` of each other) are one
incident — the alert, with the events' ids in `gemeos`, the events' place when the alert
has none, and one customer count (the larger; the detail and the approval take the union
of both sources' customers, each once). A decision on it covers its twins.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any

from outage.cause.olt_system import OltSystemClient, OltSystemError
from outage.config import Settings
from outage.db import in_chunks, transaction
from outage.http import new_session
from outage.model import CAUSE_LOS, CAUSE_POWER, cto_label
from outage.place import normalize_fsp

LOS = "LOS"
POWER = "POWER"
UNKNOWN = "INDETERMINADO"
TYPES = (LOS, POWER, UNKNOWN)
OLT_ALERT_TYPES = {"pon_loss": LOS, "cto_loss": LOS, "pon_no_power": POWER, "no_power": POWER}
MONITOR_PREFIX = "ev-"
CTO_SIZE = 16  # the seed's heuristic: a LOS on up to 16 ONUs is probably one CTO
TWIN_WINDOW = 1800.0  # seconds between the starts of an OLT alert and a monitor event of one outage


@dataclass(frozen=True)
class Incident:
    """One outage the operator may notify customers about (times in epoch seconds)."""

    id: str
    fonte: str  # "olt" | "monitor"
    tipo: str  # LOS | POWER | INDETERMINADO
    olt: str
    slot_pon: str
    afetados: int
    inicio: float
    causa_provavel: str
    local: str
    ativo: bool = True
    numero: int = 0  # the console's numeric id (see the module docstring)
    gemeos: tuple[str, ...] = ()  # monitor events of the same outage merged into this alert

    @property
    def key(self) -> str:
        return key_of(self.olt, self.slot_pon, self.tipo)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["chave"] = self.key
        return data


def key_of(olt: str, slot_pon: str, tipo: str) -> str:
    return f"{olt}|{slot_pon}|{tipo}"


def probable_cause(tipo: str, affected: int, alert_type: str = "") -> str:
    """The seed's reading of an incident, in Portuguese."""
    if tipo == POWER:
        return "Falta de energia: ONUs desligadas (queda de energia na região)"
    if tipo == LOS:
        if alert_type == "cto_loss" or affected <= CTO_SIZE:
            return "Rompimento de fibra: provável problema na CTO (caixa de atendimento)"
        return "Rompimento de fibra: provável corte na fibra tronco/PON"
    return (
        "Causa indeterminada: escolha o modelo (rompimento de fibra ou falta de energia) ou negue o disparo"
    )


# --- the OLT management system ---------------------------------------------------------

_clients: dict[tuple[str, str, str], OltSystemClient] = {}
_clients_lock = threading.Lock()


def olt_client(settings: Settings) -> OltSystemClient:
    """One logged-in client per configuration, shared by every request (keeps the token)."""
    ident = (settings.api_base_url, settings.api_auth_url, settings.api_user)
    with _clients_lock:
        client = _clients.get(ident)
        if client is None or client.password != settings.api_pass:
            client = OltSystemClient.for_settings(settings)
            client.session = new_session(settings.hsm_enrich_concurrency)
            _clients[ident] = client
        return client


def incident_from_alert(alert: dict[str, Any]) -> Incident | None:
    """An incident for an open alert of a type the console handles, else None.

    The place is the alert's own, the narrowest it names: its CTO (`cto_name`, else
    `cto_id`), else its PON (`slot_pon` or `pon`, whichever spelling the system used) as
    "PON 0/1/2 da OLT-SUL"; "" when it names neither.
    """
    alert_type = str(alert.get("alert_type") or "")
    tipo = OLT_ALERT_TYPES.get(alert_type)
    if tipo is None or alert.get("id") in (None, ""):
        return None
    affected = _int(alert.get("total_devices_count"))
    olt = _text(alert.get("olt_name")) or _text(alert.get("olt_id"))
    pon = _text(alert.get("slot_pon")) or _text(alert.get("pon"))
    cto = _text(alert.get("cto_name")) or _text(alert.get("cto_id"))
    if cto:
        local = cto_label(cto)
    elif pon:
        local = f"PON {pon} da {olt}" if olt else f"PON {pon}"
    else:
        local = ""
    return Incident(
        id=str(alert["id"]),
        fonte="olt",
        tipo=tipo,
        olt=olt,
        slot_pon=pon,
        afetados=affected,
        inicio=_epoch(alert.get("initial_date")),
        causa_provavel=probable_cause(tipo, affected, alert_type),
        local=local,
        ativo=not alert.get("end_date"),
        numero=_int(alert["id"]),
    )


def _text(value: Any) -> str:
    """An alert field as text: "" for a missing or null field (never "None")."""
    return "" if value is None else str(value).strip()


def olt_incidents(client: OltSystemClient) -> list[Incident]:
    """Open alerts as incidents (raises `OltSystemError` when the system cannot be read)."""
    found = (incident_from_alert(alert) for alert in client.open_alerts())
    return [incident for incident in found if incident is not None]


# --- the monitor's events --------------------------------------------------------------

_EVENT_COLUMNS = "id, conexao, timestamp, status, logins, motivo, local, local_detalhe"


def monitor_incidents(conn: sqlite3.Connection) -> list[Incident]:
    rows = conn.execute(
        f"SELECT {_EVENT_COLUMNS} FROM events WHERE status = 'ativo' ORDER BY timestamp"  # noqa: S608
    ).fetchall()
    numbers = event_numbers(conn, [row["id"] for row in rows])
    return [incident_from_event(row, numbers[row["id"]]) for row in rows]


def monitor_incident(conn: sqlite3.Connection, incident_id: str) -> Incident | None:
    event_id = incident_id.removeprefix(MONITOR_PREFIX)
    row = conn.execute(f"SELECT {_EVENT_COLUMNS} FROM events WHERE id = ?", (event_id,)).fetchone()  # noqa: S608
    return None if row is None else incident_from_event(row, event_numbers(conn, [event_id])[event_id])


def event_numbers(conn: sqlite3.Connection, event_ids: list[str]) -> dict[str, int]:
    """The console number (−N) of each event, giving the next free N to events without one."""
    found = _numbers(conn, event_ids)
    missing = [event_id for event_id in event_ids if event_id not in found]
    if missing:
        with transaction(conn):
            conn.executemany(
                "INSERT OR IGNORE INTO incident_numbers (event_id) VALUES (?)", [(m,) for m in missing]
            )
        found = _numbers(conn, event_ids)
    return found


def _numbers(conn: sqlite3.Connection, event_ids: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk, marks in in_chunks(event_ids):
        rows = conn.execute(
            f"SELECT event_id, numero FROM incident_numbers WHERE event_id IN ({marks})",  # noqa: S608
            chunk,
        )
        found.update({row[0]: -int(row[1]) for row in rows})
    return found


def incident_from_event(row: sqlite3.Row, numero: int) -> Incident:
    tipo = {CAUSE_POWER: POWER, CAUSE_LOS: LOS}.get(row["motivo"], UNKNOWN)
    detail = _json_object(row["local_detalhe"])
    affected = len(json.loads(row["logins"] or "[]"))
    pons = detail.get("pon") or ",".join(str(p) for p in detail.get("pons") or [])
    return Incident(
        id=MONITOR_PREFIX + row["id"],
        fonte="monitor",
        tipo=tipo,
        olt=str(detail.get("olt") or row["conexao"]),
        slot_pon=str(pons or ""),
        afetados=affected,
        inicio=float(row["timestamp"]),
        causa_provavel=probable_cause(tipo, affected),
        local=str(row["local"] or row["conexao"]),
        ativo=row["status"] == "ativo",
        numero=numero,
    )


def event_id_of(incident: Incident) -> str:
    return incident.id.removeprefix(MONITOR_PREFIX)


# --- both -----------------------------------------------------------------------------


@dataclass
class Listing:
    incidents: list[Incident]
    warnings: list[str]
    olt_read: bool  # False when the OLT system is configured but could not be read


def open_incidents(conn: sqlite3.Connection, settings: Settings) -> Listing:
    """Every open incident; a source that fails becomes a warning, never an error."""
    incidents = monitor_incidents(conn)
    warnings: list[str] = []
    olt_read = True
    if settings.olt_system_enabled:
        try:
            incidents = merge_twins(olt_incidents(olt_client(settings)), incidents)
        except OltSystemError as exc:
            warnings.append(str(exc))
            olt_read = False
    return Listing(incidents, warnings, olt_read)


def merge_twins(from_olt: list[Incident], from_monitor: list[Incident]) -> list[Incident]:
    """One entry per outage (see the module docstring): each OLT alert takes the monitor events
    that are its twins; the other events are listed as they are."""
    taken: set[str] = set()
    merged = []
    for alert in from_olt:
        twins = [m for m in from_monitor if m.id not in taken and is_twin(alert, m)]
        taken.update(m.id for m in twins)
        merged.append(with_twins(alert, twins))
    return merged + [m for m in from_monitor if m.id not in taken]


def is_twin(alert: Incident, event: Incident) -> bool:
    """Whether a monitor event is the same outage as an OLT alert."""
    same_type = event.tipo in (alert.tipo, UNKNOWN)
    close = abs(event.inicio - alert.inicio) <= TWIN_WINDOW
    return (
        same_type
        and close
        and _same_olt(alert.olt, event.olt)
        and _pons_overlap(alert.slot_pon, event.slot_pon)
    )


def with_twins(alert: Incident, twins: list[Incident]) -> Incident:
    if not twins:
        return alert
    return replace(
        alert,
        local=alert.local or next((t.local for t in twins if t.local), ""),
        afetados=max([alert.afetados, *(t.afetados for t in twins)]),
        gemeos=tuple(t.id for t in twins),
    )


def _same_olt(first: str, second: str) -> bool:
    return first.strip().casefold() == second.strip().casefold()


def _pons_overlap(first: str, second: str) -> bool:
    """Whether two PON lists ("0/1/1" or "0/1/1,0/1/2") share a PON; an empty one is the whole OLT."""
    ours, theirs = _pons(first), _pons(second)
    return not ours or not theirs or bool(ours & theirs)


def _pons(text: str) -> set[str]:
    return {normalize_fsp(part) or part.strip() for part in text.split(",") if part.strip()}


def find_incident(conn: sqlite3.Connection, settings: Settings, incident_id: str) -> Incident | None:
    """The incident with this id -- `7`, `-3` or `ev-<event id>` -- (an OLT alert only while
    open), merged with its twins; None when unknown. A monitor event merged into an open OLT
    alert answers as that alert.

    Raises `OltSystemError` when the OLT system cannot be read to tell.
    """
    if incident_id.startswith(MONITOR_PREFIX):
        return _with_twins(conn, settings, monitor_incident(conn, incident_id))
    if incident_id.startswith("-") and incident_id[1:].isdecimal() and incident_id[1:].isascii():
        row = conn.execute(
            "SELECT event_id FROM incident_numbers WHERE numero = ?", (int(incident_id[1:]),)
        ).fetchone()
        return None if row is None else _with_twins(conn, settings, monitor_incident(conn, row[0]))
    if incident_id.isdecimal() and incident_id.isascii() and settings.olt_system_enabled:
        alert = next((i for i in olt_incidents(olt_client(settings)) if i.id == incident_id), None)
        if alert is None:
            return None
        return with_twins(alert, [m for m in monitor_incidents(conn) if is_twin(alert, m)])
    return None


def _with_twins(conn: sqlite3.Connection, settings: Settings, event: Incident | None) -> Incident | None:
    """The open OLT alert a monitor event is a twin of, merged; else the event itself."""
    if event is None or not event.ativo or not settings.olt_system_enabled:
        return event
    listed = merge_twins(olt_incidents(olt_client(settings)), monitor_incidents(conn))
    return next((i for i in listed if event.id in i.gemeos), event)


def console_number(conn: sqlite3.Connection, incident_id: str) -> int:
    """The numeric id of an incident known by its internal id (`7` or `ev-<event id>`)."""
    if incident_id.startswith(MONITOR_PREFIX):
        event_id = incident_id.removeprefix(MONITOR_PREFIX)
        return event_numbers(conn, [event_id])[event_id]
    return _int(incident_id)


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _epoch(value: Any) -> float:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


def _json_object(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
