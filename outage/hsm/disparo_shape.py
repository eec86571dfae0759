"""`disparo_hsm`'s field names, put beside ours in the answers of its routes.

`disparo_hsm`'s page reads, for an incident: `id` (a number, pasted unquoted into JavaScript),
`alert_type` (`pon_loss` shows LOS, anything else ENERGIA), `initial_date` (ISO 8601, read
with `new Date()`), `total_devices_count`, `olt_name`, `slot_pon`, and in the details
`causa_provavel`. A monitor incident is given the OLT system's spelling of its type:
LOS -> `pon_loss`, POWER -> `pon_no_power`, undetermined -> `indeterminado`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from outage.hsm.incidents import LOS, POWER

TIMEZONE = ZoneInfo("America/Sao_Paulo")
ALERT_TYPES = {LOS: "pon_loss", POWER: "pon_no_power"}
UNDETERMINED_ALERT = "indeterminado"


def disparo_incident(data: Mapping[str, Any]) -> dict[str, Any]:
    """`disparo_hsm`'s fields of an incident, from `Incident.as_json()` or a decision's snapshot."""
    started = float(data.get("inicio") or 0.0)
    return {
        "id": int(data.get("numero") or 0),
        "alert_type": ALERT_TYPES.get(str(data.get("tipo")), UNDETERMINED_ALERT),
        "initial_date": datetime.fromtimestamp(started, TIMEZONE).isoformat() if started else "",
        "total_devices_count": int(data.get("afetados") or 0),
        "olt_name": str(data.get("olt") or ""),
        "slot_pon": str(data.get("slot_pon") or ""),
        "causa_provavel": str(data.get("causa_provavel") or ""),
    }


def with_disparo_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    """Our incident fields with `disparo_hsm`'s beside them; `id` is `disparo_hsm`'s number, and our
    own id (`7` or `ev-<event id>`) is `incidente`."""
    return {**data, "incidente": data.get("id"), **disparo_incident(data)}
