"""Incidents pending a decision, from two sources, with one shape.

- the OLT management system (read by `outage.adapters.cause.olt_system`): open alerts of type `pon_loss` / `cto_loss`
  (LOS) and `pon_no_power` / `no_power` (POWER); id = the system's numeric id as a string;
- the monitor's own active events: id `ev-<event id>`; cause `energia` -> POWER,
  `loss` -> LOS, `concentrador` -> CONCENTRADOR (sessions fell with fiber and power fine:
  never a template about power or fiber), `misto` -> MISTO (a widened incident whose parts
  have different causes: each customer gets its part's template), `indeterminado` ->
  INDETERMINADO (the operator picks the template). `inicio` is the outage's first drop.

Every incident also has a number (`Incident.numero`), the id `disparo_hsm`'s page
needs: an OLT alert keeps its own positive id; a monitor event is −N, N its number in
`incident_numbers` (given on first sight, never reused), so the two never collide.
`find_incident` accepts any of the three spellings: `7`, `-3`, `ev-<event id>`.

The flap-damping key of an incident is `OLT|PON|type` (`Incident.key`).

One row per outage: an OLT alert and the monitor events of the same outage (same OLT,
overlapping PONs, a compatible type, onsets within the onset window plus the concentrator's
session lag) are one incident — the alert, with the events' ids in `gemeos` and the events'
place only when the alert names none. Each event goes to the alert whose onset is closest
to its own (then the lowest id), so a row never jumps between alerts from one poll to the
next. A decision on it covers its twins. Its count is the customers the detail lists and the
approval covers (`outage.hsm.enrich.members_of`: both sources' customers, each ONU once).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any

from outage.adapters.cause.olt_system import OltSystemClient, OltSystemError
from outage.config import Settings
from outage.core.droptime import SESSION_LAG
from outage.core.model import CAUSE_CONCENTRATOR, CAUSE_LOS, CAUSE_MIXED, CAUSE_POWER, cto_label
from outage.core.place import normalize_fsp
from outage.db import MAX_INTEGER, Connection, Record
from outage.http import new_session
from outage.storage import incidents as events

LOS = "LOS"
POWER = "POWER"
CONCENTRATOR = "CONCENTRADOR"
MIXED = "MISTO"
UNKNOWN = "INDETERMINADO"
TYPES = (LOS, POWER, CONCENTRATOR, MIXED, UNKNOWN)
EVENT_TYPES = {CAUSE_POWER: POWER, CAUSE_LOS: LOS, CAUSE_CONCENTRATOR: CONCENTRATOR, CAUSE_MIXED: MIXED}
OLT_ALERT_TYPES = {"pon_loss": LOS, "cto_loss": LOS, "pon_no_power": POWER, "no_power": POWER}
MONITOR_PREFIX = "ev-"
CTO_SIZE = 16  # the original console's heuristic: a LOS on up to 16 ONUs is probably one CTO
NORMALIZING_SHARE = 0.5  # an incident with this share of its customers back is normalizing


@dataclass(frozen=True)
class Incident:
    """One outage the operator may notify customers about (times in epoch seconds)."""

    id: str
    fonte: str  # "olt" | "monitor"
    tipo: str  # LOS | POWER | CONCENTRADOR | MISTO | INDETERMINADO
    olt: str
    slot_pon: str
    afetados: int
    inicio: float
    causa_provavel: str
    local: str
    ativo: bool = True
    numero: int = 0  # the console's numeric id (see the module docstring)
    gemeos: tuple[str, ...] = ()  # monitor events of the same outage merged into this alert
    partes: tuple[dict[str, Any], ...] = ()  # MISTO: {"tipo", "local", "logins"} per part
    relacionado: int = 0  # the console number of the incident open at the same OLT when it began
    ativos: int = 0  # active logins where it is (0: unknown)
    normalizando: bool = False  # most of its customers are back
    origem: str = ""  # how the monitor learned it: "erp" or "alarme" (the network's alarms)
    percebido_em_s: float | None = None  # seconds from its first drop to the monitor opening it

    @property
    def key(self) -> str:
        return key_of(self.olt, self.slot_pon, self.tipo)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["chave"] = self.key
        data["partes"] = [
            {"tipo": p["tipo"], "local": p["local"], "clientes": len(p["logins"])} for p in self.partes
        ]
        return data


def key_of(olt: str, slot_pon: str, tipo: str) -> str:
    return f"{olt}|{slot_pon}|{tipo}"


def probable_cause(tipo: str, affected: int, alert_type: str = "", parts: str = "") -> str:
    """The reading of an incident, in Portuguese (the original console's for LOS and POWER)."""
    if tipo == CONCENTRATOR:
        return "Concentrador ou transporte: as ONUs seguem online, as sessões PPPoE caíram (fibra e energia normais)"
    if tipo == MIXED:
        return f"Causas mistas: {parts}" if parts else "Causas mistas: cada parte com o seu modelo"
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


ALERT_DETAIL_TTL = 15.0  # seconds an alert's affected devices are reused (the list polls every 10 s)
_details: dict[tuple[str, str], tuple[float, dict[str, Any]]] = {}


def alert_detail(settings: Settings, alert_id: str) -> dict[str, Any]:
    """An OLT-system alert with its affected devices, read at most every `ALERT_DETAIL_TTL`
    seconds (raises `OltSystemError`)."""
    key = (settings.api_base_url, alert_id)
    now = time.monotonic()
    with _clients_lock:
        cached = _details.get(key)
    if cached is not None and now - cached[0] < ALERT_DETAIL_TTL:
        return cached[1]
    detail = olt_client(settings).alert_detail(alert_id)
    with _clients_lock:
        _details[key] = (now, detail)
        for stale in [k for k, (at, _) in _details.items() if now - at >= ALERT_DETAIL_TTL]:
            del _details[stale]
    return detail


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


def monitor_incidents(conn: Connection) -> list[Incident]:
    rows = events.console_events(conn)
    numbers = events.event_numbers(
        conn, [row["id"] for row in rows] + [row["relacionado"] for row in rows if row["relacionado"]]
    )
    return [incident_from_event(row, numbers) for row in rows]


def monitor_incident(conn: Connection, incident_id: str) -> Incident | None:
    event_id = incident_id.removeprefix(MONITOR_PREFIX)
    row = events.console_event(conn, event_id)
    if row is None:
        return None
    return incident_from_event(
        row, events.event_numbers(conn, [event_id] + ([row["relacionado"]] if row["relacionado"] else []))
    )


def incident_from_event(row: Record, numbers: dict[str, int]) -> Incident:
    """The console's view of an event (`numbers`: console numbers by event id)."""
    tipo = EVENT_TYPES.get(row["motivo"], UNKNOWN)
    detail = _json_object(row["local_detalhe"])
    affected = len(json.loads(row["logins"] or "[]"))
    pons = detail.get("pon") or ",".join(str(p) for p in detail.get("pons") or [])
    parts = tuple(
        {
            "tipo": EVENT_TYPES.get(str(p.get("motivo")), UNKNOWN),
            "local": str(p.get("local") or ""),
            "logins": list(p.get("logins") or []),
        }
        for p in json.loads(row["causas"] or "[]")
        if isinstance(p, dict)
    )
    return Incident(
        id=MONITOR_PREFIX + row["id"],
        fonte="monitor",
        tipo=tipo,
        olt=str(detail.get("olt") or row["conexao"]),
        slot_pon=str(pons or ""),
        afetados=affected,
        inicio=float(row["primeira_queda"] if row["primeira_queda"] is not None else row["timestamp"]),
        causa_provavel=probable_cause(tipo, affected, parts=str(row["causa_explicacao"] or "")),
        local=str(row["local"] or row["conexao"]),
        ativo=row["status"] == "ativo",
        numero=numbers[row["id"]],
        partes=parts if tipo == MIXED else (),
        relacionado=numbers.get(row["relacionado"], 0) if row["relacionado"] else 0,
        ativos=int(detail.get("ativos") or 0),
        normalizando=affected > 0 and row["de_volta"] >= NORMALIZING_SHARE * affected,
        origem=str(row["origem"]),
        percebido_em_s=None
        if row["primeira_queda"] is None
        else round(max(0.0, row["timestamp"] - row["primeira_queda"]), 1),
    )


def event_id_of(incident: Incident) -> str:
    return incident.id.removeprefix(MONITOR_PREFIX)


# --- both -----------------------------------------------------------------------------


@dataclass
class Listing:
    incidents: list[Incident]
    warnings: list[str]
    olt_read: bool  # False when the OLT system is configured but could not be read


def open_incidents(conn: Connection, settings: Settings) -> Listing:
    """Every open incident, by start; a source that fails becomes a warning, never an error."""
    incidents = monitor_incidents(conn)
    warnings: list[str] = []
    olt_read = True
    if settings.olt_system_enabled:
        try:
            incidents = merge_twins(olt_incidents(olt_client(settings)), incidents, twin_window(settings))
        except OltSystemError as exc:
            warnings.append(str(exc))
            olt_read = False
    return Listing(sorted(incidents, key=lambda i: (i.inicio, i.numero)), warnings, olt_read)


def twin_window(settings: Settings) -> float:
    """How far apart the onsets of one outage's OLT alert and monitor event may be: the onset
    window plus the concentrator's session lag (the monitor sees a drop when the session ends)."""
    return float(settings.onset_window) + SESSION_LAG


def merge_twins(from_olt: list[Incident], from_monitor: list[Incident], window: float) -> list[Incident]:
    """One entry per outage (see the module docstring): each monitor event joins the OLT alert
    that is its twin with the closest onset (then the lowest id); the others stay as they are."""
    twins: dict[str, list[Incident]] = {alert.id: [] for alert in from_olt}
    alone = []
    for event in from_monitor:
        candidates = [alert for alert in from_olt if is_twin(alert, event, window)]
        if not candidates:
            alone.append(event)
            continue
        best = min(candidates, key=lambda a: (abs(a.inicio - event.inicio), a.numero))
        twins[best.id].append(event)
    return [with_twins(alert, twins[alert.id]) for alert in from_olt] + alone


def is_twin(alert: Incident, event: Incident, window: float) -> bool:
    """Whether a monitor event is the same outage as an OLT alert: a compatible cause, onsets
    within `window` and overlapping places."""
    same_type = event.tipo in (alert.tipo, UNKNOWN, MIXED)
    close = abs(event.inicio - alert.inicio) <= window
    return (
        same_type
        and close
        and _same_olt(alert.olt, event.olt)
        and _pons_overlap(alert.slot_pon, event.slot_pon)
    )


def with_twins(alert: Incident, twins: list[Incident]) -> Incident:
    """The alert with its twins: their ids, and their place only when the alert names none."""
    if not twins:
        return alert
    return replace(
        alert,
        local=alert.local or twins[0].local,
        gemeos=tuple(t.id for t in twins),
        normalizando=alert.normalizando or all(t.normalizando for t in twins),
    )


def _same_olt(first: str, second: str) -> bool:
    return first.strip().casefold() == second.strip().casefold()


def _pons_overlap(first: str, second: str) -> bool:
    """Whether two PON lists ("0/1/1" or "0/1/1,0/1/2") share a PON; an empty one is the whole OLT."""
    ours, theirs = _pons(first), _pons(second)
    return not ours or not theirs or bool(ours & theirs)


def _pons(text: str) -> set[str]:
    return {normalize_fsp(part) or part.strip() for part in text.split(",") if part.strip()}


def find_incident(conn: Connection, settings: Settings, incident_id: str) -> Incident | None:
    """The incident with this id -- `7`, `-3` or `ev-<event id>` -- (an OLT alert only while
    open), merged with its twins; None when unknown. A monitor event merged into an open OLT
    alert answers as that alert.

    Raises `OltSystemError` when the OLT system cannot be read to tell.
    """
    if incident_id.startswith(MONITOR_PREFIX):
        return _with_twins(conn, settings, monitor_incident(conn, incident_id))
    if incident_id.startswith("-") and incident_id[1:].isdecimal() and incident_id[1:].isascii():
        if int(incident_id[1:]) > MAX_INTEGER:
            return None  # no event ever had that number
        event_id = events.event_numbered(conn, int(incident_id[1:]))
        return None if event_id is None else _with_twins(conn, settings, monitor_incident(conn, event_id))
    if incident_id.isdecimal() and incident_id.isascii() and settings.olt_system_enabled:
        listed = merge_twins(
            olt_incidents(olt_client(settings)), monitor_incidents(conn), twin_window(settings)
        )
        return next((i for i in listed if i.id == incident_id), None)
    return None


def _with_twins(conn: Connection, settings: Settings, event: Incident | None) -> Incident | None:
    """The open OLT alert a monitor event is a twin of, merged; else the event itself."""
    if event is None or not event.ativo or not settings.olt_system_enabled:
        return event
    listed = merge_twins(olt_incidents(olt_client(settings)), monitor_incidents(conn), twin_window(settings))
    return next((i for i in listed if event.id in i.gemeos), event)


def console_number(conn: Connection, incident_id: str) -> int:
    """The numeric id of an incident known by its internal id (`7` or `ev-<event id>`)."""
    if incident_id.startswith(MONITOR_PREFIX):
        event_id = incident_id.removeprefix(MONITOR_PREFIX)
        return events.event_numbers(conn, [event_id])[event_id]
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
