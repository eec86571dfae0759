"""Syslog from OLTs and concentrators: framing (RFC 6587), headers (RFC 3164 / 5424), and the
two kinds of lines that matter here.

- The Huawei alarm block (as `display alarm history` prints it), which reaches syslog as ONE
  message with embedded CR LF — shown by rsyslog as `#015#012` — or, over TCP with newline
  framing, as several lines of which only the first has a `<PRI>`:

      ALARM 531377 FAULT MINOR 0x2e11a00b SERVICE QUALITY 2017-12-06 08:19:27+02:00
      ALARM NAME : The dying-gasp of GPON ONTi (DGi) is generated
      PARAMETERS : FrameID: 0, SlotID: 5, PortID: 6, ONT ID: 32, Equipment ID:
      DESCRIPTION : The ONT is power off

  Known by its alarm id (dying gasp `0x2e11a00b`, LOSi `0x2e112007`, its recovery
  `0x2e122007`) or, for others, by the words of its name (PON LOS: "The feeder fiber is broken
  ..."). The header says `FAULT <severity>` or `RECOVERY CLEARED`.
- A concentrator's log of a session whose line died: accel-ppp `ppp12:joao.silva: lcp: no echo
  reply`; MikroTik `<pppoe-joao.silva>: terminating... - peer is not responding` (circulates in
  public code, not confirmed by MikroTik); or the operator's own pattern.

Nothing here raises on bad input: an unreadable message is None.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from outage.adapters.alarms.event import LINE, LOSS, ONU_DOWN, ONU_UP, PON_DOWN, PON_UP, POWER, SESSION_END

MAX_MESSAGE = 16_384  # bytes of one syslog message we keep (RFC 5425 asks receivers for 8 KiB at least)

_PRI = re.compile(r"^<(\d{1,3})>")
_RFC5424 = re.compile(r"^1 (\S+) \S+ \S+ \S+ \S+ (?:-|(?:\[.*?\])+)\s?(.*)$", re.S)
_RFC3164 = re.compile(r"^[A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} (.*)$", re.S)
_ESCAPES = (("#015#012", "\n"), ("#012", "\n"), ("#015", "\n"), ("#011", "\t"), ("\r\n", "\n"), ("\r", "\n"))

_BLOCK = re.compile(
    r"ALARM\s+\d+\s+(?P<type>FAULT|RECOVERY|EVENT)\s+\S+\s+(?P<id>0x[0-9a-fA-F]{8})[^\n]*?"
    r"(?P<date>\d{4}-\d{2}-\d{2}\s+\d{1,2}:\d{2}:\d{2}(?:[+-]\d{2}:?\d{2}|Z)?)?\s*$",
    re.M,
)
_BLOCK_START = re.compile(rb"ALARM\s+\d+\s+(?:FAULT|RECOVERY|EVENT)\s")
_FIELD = re.compile(r"^\s*(ALARM NAME|PARAMETERS|DESCRIPTION)\s*:\s*(.*)$", re.M)
_PARAM = re.compile(r"(FrameID|SlotID|PortID|ONT ID|ONTID)\s*:\s*(\d+)", re.I)
_SERIAL = re.compile(r"\b([0-9A-Fa-f]{16})\b")

# alarm id -> (kind, cause, the device's word); recoveries by id where published
HUAWEI_ALARM_IDS = {
    "0x2e11a00b": (ONU_DOWN, POWER, "dying-gasp"),
    "0x2e112007": (ONU_DOWN, LOSS, "LOSi"),
    "0x2e122007": (ONU_UP, LOSS, "LOSi recovery"),
}
# by the words of the alarm name, for the ids not published: (pattern, PON alarm?, cause, word)
_HUAWEI_NAMES = (
    (re.compile(r"dying.gasp|\(DGi\)", re.I), False, POWER, "dying-gasp"),
    (re.compile(r"distribute fiber is broken|LOSi", re.I), False, LOSS, "LOSi"),
    (re.compile(r"feeder fiber is broken|signals\s*\(LOS\)", re.I), True, LOSS, "PON LOS"),
)

BNG_PATTERNS = {
    "accel-ppp": re.compile(r"(?:^|\s)(?:ppp\d+:\s*)?(?P<login>[^\s:]+):\s+lcp: no echo reply"),
    "mikrotik": re.compile(r"<pppoe-(?P<login>[^>\s]+)>:\s+terminating\.\.\.\s+-\s+peer is not responding"),
}
BNG_REASONS = {"accel-ppp": "lcp: no echo reply", "mikrotik": "peer is not responding"}


@dataclass(frozen=True, slots=True)
class LogFacts:
    """The alarm fields a syslog message gives (see `event.Alarm`); `at` is the device's time
    (epoch) when the message carried one with its zone, else None."""

    kind: str
    cause: str
    reason: str
    at: float | None = None
    fsp: str = ""
    ont_id: int | None = None
    serial: str = ""
    login: str = ""


def unescape(text: str) -> str:
    """Line breaks as `\\n` whatever way they came (CR LF, bare CR, rsyslog's `#015#012`)."""
    for old, new in _ESCAPES:
        text = text.replace(old, new)
    return text


def split_header(text: str) -> tuple[float | None, str]:
    """(the RFC 5424 timestamp as epoch, or None; the message after the header). An RFC 3164
    header's time has no zone or year: it is not used."""
    body = _PRI.sub("", text, count=1)
    match = _RFC5424.match(body)
    if match:
        return _iso_time(match.group(1)), match.group(2)
    match = _RFC3164.match(body)
    return None, match.group(1) if match else body


def _iso_time(value: str) -> float | None:
    try:
        stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return stamp.timestamp() if stamp.tzinfo is not None else None


def _block_time(value: str | None) -> float | None:
    """The alarm header's date when it carries its offset (`2017-12-06 08:19:27+02:00`)."""
    if not value or not re.search(r"([+-]\d{2}:?\d{2}|Z)$", value):
        return None
    text = re.sub(r"\s+", "T", value.strip(), count=1)
    text = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", text)
    return _iso_time(text)


def huawei_block(message: str) -> LogFacts | None:
    """The facts of a Huawei alarm block (see the module docstring); None when it is not one we know."""
    header = _BLOCK.search(message)
    if header is None:
        return None
    fields = {name.upper(): value.strip() for name, value in _FIELD.findall(message)}
    name = fields.get("ALARM NAME", "")
    alarm_id = header.group("id").lower()
    recovery = header.group("type") == "RECOVERY"
    meaning = _huawei_meaning(alarm_id, name, recovery)
    if meaning is None:
        return None
    kind, cause, reason = meaning
    params = {
        key.upper().replace(" ", ""): int(value)
        for key, value in _PARAM.findall(fields.get("PARAMETERS", ""))
    }
    frame, slot, port = (params.get(k) for k in ("FRAMEID", "SLOTID", "PORTID"))
    fsp = f"{frame}/{slot}/{port}" if None not in (frame, slot, port) else ""
    serial = _SERIAL.search(fields.get("PARAMETERS", ""))
    return LogFacts(
        kind,
        cause,
        reason,
        _block_time(header.group("date")),
        fsp,
        params.get("ONTID") if kind in (ONU_DOWN, ONU_UP) else None,
        serial.group(1).upper() if serial else "",
    )


def _huawei_meaning(alarm_id: str, name: str, recovery: bool) -> tuple[str, str, str] | None:
    if alarm_id in HUAWEI_ALARM_IDS:
        return HUAWEI_ALARM_IDS[alarm_id]
    for pattern, pon, cause, word in _HUAWEI_NAMES:
        if pattern.search(name):
            if pon:
                return (PON_UP if recovery else PON_DOWN), cause, word + (" recovery" if recovery else "")
            return (ONU_UP if recovery else ONU_DOWN), cause, word + (" recovery" if recovery else "")
    return None


def compile_patterns(formats: Iterable[str], custom: str = "") -> list[tuple[re.Pattern[str], str]]:
    """The concentrator log patterns to look for, each with the reason it stands for."""
    chosen = [(BNG_PATTERNS[name], BNG_REASONS[name]) for name in formats if name in BNG_PATTERNS]
    if custom:
        chosen.append((re.compile(custom), "padrão configurado"))
    return chosen


def session_end(message: str, patterns: list[tuple[re.Pattern[str], str]]) -> LogFacts | None:
    """A session whose line died, from a concentrator's log line; None for any other line."""
    for pattern, reason in patterns:
        match = pattern.search(message)
        if match and match.group("login"):
            return LogFacts(SESSION_END, LINE, reason, login=match.group("login"))
    return None


class StreamFramer:
    """Splits a TCP syslog stream into messages (RFC 6587): octet-counting (`<len> <msg>`) or
    newline framing. With newline framing a Huawei alarm block may arrive with its line breaks:
    the lines after its `ALARM ... FAULT|RECOVERY` line that carry no `<PRI>` continue it, until
    the next message or `flush()` (the sender paused). Bounded: a message beyond `MAX_MESSAGE`
    is cut (the rest skipped) and counted in `oversized`; a length field that is not a number
    ends the stream (`broken`)."""

    def __init__(self) -> None:
        self._buffer = b""
        self._pending: list[bytes] = []
        self._skip = 0
        self.oversized = 0
        self.broken = False

    @property
    def waiting(self) -> bool:
        """Whether an alarm block waits for more lines (flush it if the sender pauses)."""
        return bool(self._pending)

    def feed(self, data: bytes) -> list[bytes]:
        """The complete messages in `data`."""
        self._buffer += data
        out: list[bytes] = []
        while self._buffer and not self.broken:
            if self._skip:
                dropped = min(self._skip, len(self._buffer))
                self._buffer, self._skip = self._buffer[dropped:], self._skip - dropped
            elif self._buffer[:1].isdigit():
                if not self._octet_counted(out):
                    break
            elif not self._line(out):
                break
        return out

    def flush(self) -> list[bytes]:
        """The alarm block still waiting for continuation lines, if any."""
        done, self._pending = self._pending, []
        return [b"\n".join(done)] if done else []

    def _octet_counted(self, out: list[bytes]) -> bool:
        space = self._buffer.find(b" ", 0, 12)
        count = self._buffer[:space] if space > 0 else b""
        if not count.isdigit():
            self.broken = space > 0 or len(self._buffer) >= 12
            return False
        length = int(count)
        kept = min(length, MAX_MESSAGE)
        if len(self._buffer) < space + 1 + kept:
            return False
        out += self.flush()
        out.append(self._buffer[space + 1 : space + 1 + kept])
        self._buffer = self._buffer[space + 1 + kept :]
        if length > MAX_MESSAGE:
            self.oversized += 1
            self._skip = length - MAX_MESSAGE
        return True

    def _line(self, out: list[bytes]) -> bool:
        end = self._buffer.find(b"\n")
        if end < 0:
            if len(self._buffer) > MAX_MESSAGE:
                self.oversized += 1
                out += self.flush()
                out.append(self._buffer[:MAX_MESSAGE])
                self._buffer = b""
            return False
        line = self._buffer[:end].rstrip(b"\r\x00")
        self._buffer = self._buffer[end + 1 :]
        size = sum(map(len, self._pending)) + len(line)
        if self._pending and not line.startswith(b"<") and size < MAX_MESSAGE:
            self._pending.append(line)
            return True
        out += self.flush()
        if _BLOCK_START.search(line):
            self._pending = [line]
        elif line:
            out.append(line)
        return True
