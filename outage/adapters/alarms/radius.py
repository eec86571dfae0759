"""RADIUS accounting (RFC 2866) from the concentrators, read and answered with pyrad's packets.

An Accounting-Request whose Request Authenticator checks with the shared secret is answered
with an Accounting-Response (or the concentrator retries it), then read:

- Stop with Acct-Terminate-Cause Lost-Carrier (the echo timed out: the router behind the ONU
  died without a goodbye), Lost-Service or Port-Error: a line that died (`linha`); NAS-Error or
  NAS-Reboot: the concentrator itself (`concentrador`); User-Request, Idle-Timeout,
  Session-Timeout, Admin-Reset... : a session ended on purpose (cause "").
- Huawei NE8000 / ME60 file "Physical link down" (sub-code 674) under User-Request, and with
  `pppuser-offline-standardize` echo failures too: for the concentrators listed in
  ALARM_RADIUS_USER_REQUEST_SUSPECT a User-Request counts as a line that died.
- Start: a session came up. Accounting-On/Off: every session of that concentrator is gone.
- Interim-Update: answered, nothing to report.

The attribute dictionary ships beside this module (`dictionary.radius`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pyrad.dictionary import Dictionary
from pyrad.packet import AccountingRequest, AcctPacket, PacketError

from outage.adapters.alarms.event import CONCENTRATOR, LINE, NAS_RESTART, SESSION_END, SESSION_START, UNKNOWN

DICTIONARY_PATH = Path(__file__).with_name("dictionary.radius")
LINE_DIED = {"Lost-Carrier", "Lost-Service", "Port-Error"}
CONCENTRATOR_DIED = {"NAS-Error", "NAS-Reboot"}
USER_REQUEST = "User-Request"

_dictionary: Dictionary | None = None


def dictionary() -> Dictionary:
    """The shipped attribute dictionary (read once)."""
    global _dictionary
    if _dictionary is None:
        _dictionary = Dictionary(str(DICTIONARY_PATH))
    return _dictionary


class Refused(Exception):
    """A packet not to answer: its reason (Portuguese, for the counters) in `args[0]`."""


@dataclass(frozen=True, slots=True)
class Accounting:
    """What one Accounting-Request says; `reply` is the Accounting-Response to send back.

    kind: `session_end`, `session_start`, `nas_restart` or "" (nothing to report);
    at: Event-Timestamp, else None (the caller takes the arrival time minus `delay`)."""

    reply: bytes
    kind: str = ""
    cause: str = UNKNOWN
    reason: str = ""
    login: str = ""
    nas: str = ""
    at: float | None = None
    delay: float = 0.0
    summary: str = ""


def read(
    data: bytes, secret: bytes, sender: str, suspect: Callable[[str], bool] = lambda _: False
) -> Accounting:
    """Check, answer and read one Accounting-Request from `sender`; raise `Refused` for anything else.

    The concentrator (`nas`) is the NAS-IP-Address, else the sender; `suspect(nas)` says whether
    a User-Request there may be a line that died.
    """
    try:
        packet = AcctPacket(secret=secret, dict=dictionary(), packet=data)
    except (PacketError, KeyError, IndexError, ValueError, TypeError) as exc:
        raise Refused("pacote RADIUS malformado") from exc
    if packet.code != AccountingRequest:
        raise Refused("não é Accounting-Request")
    if not packet.VerifyAcctRequest():
        raise Refused("segredo RADIUS errado (autenticador não confere)")
    try:
        return _read(packet, sender, suspect)
    except (KeyError, IndexError, ValueError, TypeError, UnicodeDecodeError) as exc:
        raise Refused("atributos RADIUS ilegíveis") from exc


def _first(packet: AcctPacket, name: str) -> object:
    values = packet.get(name)
    return values[0] if values else None


def _read(packet: AcctPacket, sender: str, suspect: Callable[[str], bool]) -> Accounting:
    reply = packet.CreateReply().ReplyPacket()
    status = _first(packet, "Acct-Status-Type")
    login = str(_first(packet, "User-Name") or "")
    nas = str(_first(packet, "NAS-IP-Address") or sender)
    stamp = _first(packet, "Event-Timestamp")
    delay = _first(packet, "Acct-Delay-Time")
    at = float(stamp) if isinstance(stamp, int) and stamp > 0 else None
    base = Accounting(
        reply, login=login, nas=nas, at=at, delay=float(delay) if isinstance(delay, int) else 0.0
    )
    if status == "Stop":
        terminate = str(_first(packet, "Acct-Terminate-Cause") or "")
        cause = _stop_cause(terminate, suspect(nas))
        summary = f"Accounting-Request Stop {login} {terminate or 'sem Acct-Terminate-Cause'} NAS {nas}"
        return _replace(base, SESSION_END, cause, terminate, summary)
    if status == "Start":
        return _replace(base, SESSION_START, UNKNOWN, "Start", f"Accounting-Request Start {login} NAS {nas}")
    if status in ("Accounting-On", "Accounting-Off"):
        return _replace(
            base, NAS_RESTART, CONCENTRATOR, str(status), f"Accounting-Request {status} NAS {nas}"
        )
    return base


def _stop_cause(terminate: str, suspect: bool) -> str:
    if terminate in LINE_DIED or (suspect and terminate == USER_REQUEST):
        return LINE
    if terminate in CONCENTRATOR_DIED:
        return CONCENTRATOR
    return UNKNOWN


def _replace(base: Accounting, kind: str, cause: str, reason: str, summary: str) -> Accounting:
    return Accounting(base.reply, kind, cause, reason, base.login, base.nas, base.at, base.delay, summary)
