"""The neutral alarm every receiver produces, whatever the device and the protocol.

An `Alarm` says what happened (`kind`), where (`olt` + `fsp` + `ont_id`, or `concentrator`),
to whom (`serial`, `login`), why (`cause`) and when (`at`: the device's own time when it gave
one that agrees with ours, else the arrival time). Recoveries and session starts are alarms
too: the consumer decides what they confirm.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from outage.core.model import CAUSE_CONCENTRATOR, CAUSE_LOS, CAUSE_POWER

SNMP = "snmp"
SYSLOG = "syslog"
RADIUS = "radius"
SOURCES = (SNMP, SYSLOG, RADIUS)

ONU_DOWN = "onu_down"
ONU_UP = "onu_up"
PON_DOWN = (
    "pon_down"  # a PON port lost many ONUs at once (feeder LOS, "numerous ONTs offline", district power-off)
)
PON_UP = "pon_up"
SESSION_END = "session_end"  # a PPPoE session ended at the concentrator
SESSION_START = "session_start"
NAS_RESTART = "nas_restart"  # the concentrator says every session it had is gone (Accounting-On/Off)
KINDS = (ONU_DOWN, ONU_UP, PON_DOWN, PON_UP, SESSION_END, SESSION_START, NAS_RESTART)
DOWN_KINDS = (ONU_DOWN, PON_DOWN)

# Causes: the model's words for power and fiber, plus what a session end can tell.
POWER = CAUSE_POWER  # dying gasp
LOSS = CAUSE_LOS  # LOSi / LOBi / LOS: the fiber
LINE = "linha"  # a session whose line died (echo timeout, Lost-Carrier): power or fiber, unknown which
CONCENTRATOR = CAUSE_CONCENTRATOR  # the concentrator itself failed (NAS-Error, NAS-Reboot)
UNKNOWN = ""


@dataclass(frozen=True, slots=True)
class Alarm:
    """One thing a device told us. Times are epoch seconds.

    source: `snmp`, `syslog` or `radius`; sender: the address it came from;
    olt: the OLT's `id_transmissor` (from the inventory, by sender address), "" for a concentrator;
    concentrator: the concentrator's address (NAS-IP-Address, else the sender) for session alarms;
    kind: one of `KINDS`; cause: `energia`, `loss`, `linha`, `concentrador` or "" (unknown, or a
      session that ended on purpose: User-Request, Idle-Timeout...);
    reason: the device's word for it (`dying-gasp`, `LOSi`, `Lost-Carrier`, `lcp: no echo reply`);
    at: when it happened; received: when it reached us;
    fsp: the PON as `F/S/P` (Huawei frame/slot/port, ZTE rack/shelf/slot... as the interface
      name spells it); ont_id: the ONT/ONU number on that PON, None when not given;
    serial: the GPON serial in hex (`485754431A8287A8`), "" when not given;
    login: the PPPoE login (given by RADIUS and BNG logs, or mapped from the ONU);
    affected / dying_gasp: for PON alarms, the ONTs affected and how many of them sent a dying
      gasp first (None when the device did not count);
    raw: the message as received (trimmed), for the log.
    """

    source: str
    sender: str
    kind: str
    at: float
    received: float
    cause: str = UNKNOWN
    reason: str = ""
    olt: str = ""
    concentrator: str = ""
    fsp: str = ""
    ont_id: int | None = None
    serial: str = ""
    login: str = ""
    affected: int | None = None
    dying_gasp: int | None = None
    raw: str = ""

    @property
    def is_failure(self) -> bool:
        """Whether it reports something that died (an ONU, a PON, a line, a concentrator)."""
        if self.kind in DOWN_KINDS or self.kind == NAS_RESTART:
            return True
        return self.kind == SESSION_END and self.cause != UNKNOWN

    @property
    def place(self) -> str:
        """Where, as one key: `olt:<id>/<F/S/P>`, `olt:<id>`, `bng:<address>` or ""."""
        if self.olt:
            return f"olt:{self.olt}/{self.fsp}" if self.fsp else f"olt:{self.olt}"
        return f"bng:{self.concentrator}" if self.concentrator else ""

    def with_login(self, login: str, fsp: str = "") -> Alarm:
        """The same alarm mapped to a login (and its PON, when the alarm had none)."""
        return replace(self, login=login, fsp=self.fsp or fsp)


MAX_RAW = 2000


def trimmed(text: str) -> str:
    """`text` as kept in `Alarm.raw`: control characters shown, at most `MAX_RAW` characters."""
    shown = text.replace("\r", "\\r").replace("\n", "\\n")
    shown = "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in shown)
    return shown if len(shown) <= MAX_RAW else shown[:MAX_RAW] + "…"
