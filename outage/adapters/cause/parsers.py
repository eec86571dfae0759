"""Pure parsers of Huawei SmartAX and ZTE ZXAN CLI output, and the cause classification.

Every parser takes the raw text a command printed (with or without the echoed command,
the `Command is being executed. Please wait` notice, paging leftovers or the prompt) and
returns plain data; none raises on unexpected text: it returns what it could read.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from outage.core.model import CAUSE_LOS, CAUSE_POWER
from outage.core.place import normalize_fsp

NO_VOTE = "sem_voto"

_POWER_CAUSES = {"dying-gasp", "dyinggasp", "dying gasp"}
_LOS_CAUSES = {"los", "losi/lobi", "lofi", "losi", "lobi", "lofi/lobi"}

CLI_ERROR = re.compile(
    r"^\s*(?:%\s*(?:Parameter error|Unknown command|Too many parameters|Incomplete command|Error|Code)"
    r"|Failure:)",
    re.M,
)
_BUSY_NOTICE = re.compile(r"Command is being executed\. Please wait\.*", re.I)
# C300/C320 spell `gpon-onu_1/2/1:4`, C600/C620/C650 (TITAN) `gpon_onu-1/4/1:2`.
_ZTE_ONU = re.compile(r"gpon[-_]onu[-_](\d+/\d+/\d+):(\d+)", re.I)
_ZTE_MODEL = re.compile(r"\b(C[36]\d{2})\b", re.I)
_DAY_FIRST = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})\s+(\d{1,2}):(\d{2}):(\d{2})(.*)")
_YEAR_FIRST = re.compile(r"(\d{4})-(\d{2})-(\d{2})\s+(\d{1,2}):(\d{2}):(\d{2})(.*)")
_DATE = r"(?:\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{4})\s+\d{1,2}:\d{2}:\d{2}(?:[+-]\d{2}:\d{2}|Z)?"
_DATE_OR_DASH = rf"(?:{_DATE}|-)"


def classify(raw_cause: str) -> str:
    """Map a raw last-down cause to `energia`, `loss` or `sem_voto` (no vote)."""
    cause = raw_cause.strip().lower()
    if cause in _POWER_CAUSES:
        return CAUSE_POWER
    if cause in _LOS_CAUSES:
        return CAUSE_LOS
    return NO_VOTE


def onu_state(raw_state: str) -> str:
    """An ONU's state now: `online` (Huawei run state `online`, ZTE phase `working`), `offline`
    (`offline`, `LOS`, `DyingGasp`, `OffLine`, ...) or "" when the OLT did not say."""
    state = raw_state.strip().lower()
    if not state or state == "-":
        return ""
    return "online" if state in ("online", "working") else "offline"


def clean_output(text: str) -> str:
    """Drop CR characters and the Huawei busy notice, keep everything else."""
    return _BUSY_NOTICE.sub("", text.replace("\r", ""))


def cli_error(text: str) -> str:
    """The error line the device printed (`% ...`, `%Error ...`, `%Code ...`, `Failure: ...`), or ""."""
    for line in text.replace("\r", "").splitlines():
        if CLI_ERROR.match(line):
            return line.strip()
    return ""


def screen_text(raw: str, more_prompts: Sequence[str] = ()) -> str:
    """What a terminal would show for `raw`: cursor moves applied, paging prompts removed.

    Devices erase their `--More--` with backspaces (or `ESC[nD`), spaces and backspaces
    again, and a C600 pauses in the middle of a line: rendering each line as a screen would
    glue its two halves back together. Trailing spaces are dropped from every line.
    """
    lines = []
    for line in raw.split("\n"):
        text = _render_line(line) if _CURSOR_MOVE.search(line) else line
        for prompt in more_prompts:
            text = text.replace(prompt, "")
        lines.append(text.rstrip())
    return "\n".join(lines)


_CURSOR_MOVE = re.compile(r"(\x1b\[\d*D|\r|\x08)")


def _render_line(line: str) -> str:
    cells: list[str] = []
    cursor = 0
    for piece in _CURSOR_MOVE.split(line):
        if piece == "\r":
            cursor = 0
        elif piece == "\x08":
            cursor = max(0, cursor - 1)
        elif piece.startswith("\x1b["):
            cursor = max(0, cursor - int(piece[2:-1] or 1))
        else:
            cells[cursor : cursor + len(piece)] = piece
            cursor += len(piece)
    return "".join(cells)


def olt_time(value: str) -> str:
    """An OLT date as `YYYY-MM-DD HH:MM:SS` (zone offset kept); "" for `-` or the zero date.

    Accepts `2026-03-05 09:55:28-03:00`, `05/03/2026 09:55:28` and `1/1/2000 0:00:00`
    (day first, as every OLT prints it).
    """
    text = (value or "").strip()
    day_first = _DAY_FIRST.fullmatch(text)
    year_first = _YEAR_FIRST.fullmatch(text)
    if day_first:
        day, month, year, hour, minute, second, rest = day_first.groups()
    elif year_first:
        year, month, day, hour, minute, second, rest = year_first.groups()
    else:
        return ""
    if int(year) == 0:
        return ""
    stamp = f"{int(year):04d}-{int(month):02d}-{int(day):02d} {int(hour):02d}:{minute}:{second}"
    return stamp + rest.strip()


def zte_onu_index(text: str) -> tuple[str, int] | None:
    """`gpon-onu_1/2/1:4` or `gpon_onu-1/2/1:4` → (`1/2/1`, 4); None when the text names no ZTE ONU."""
    match = _ZTE_ONU.search(text or "")
    if not match:
        return None
    return match.group(1), int(match.group(2))


def serial_forms(onu_mac: str) -> tuple[str, str]:
    """A GPON serial in both spellings: hex (`485754431A8287A8`) and vendor (`HWTC1A8287A8`).

    IXC stores the hex form in `onu_mac`; ZTE prints the vendor form. Returns ("", "")
    for something that is not a GPON serial.
    """
    value = re.sub(r"[^0-9A-Za-z]", "", onu_mac or "").upper()
    if re.fullmatch(r"[0-9A-F]{16}", value):
        try:
            vendor = bytes.fromhex(value[:8]).decode("ascii")
        except (UnicodeDecodeError, ValueError):
            return value, ""
        return (value, vendor + value[8:]) if vendor.isalnum() else (value, "")
    if re.fullmatch(r"[A-Z]{4}[0-9A-F]{8}", value):
        return value[:4].encode("ascii").hex().upper() + value[4:], value
    return "", ""


# --- Huawei --------------------------------------------------------------------------


@dataclass(frozen=True)
class HuaweiOnt:
    """One ONT as a Huawei table or detail shows it (fields absent from a view stay empty)."""

    fsp: str
    ont_id: int
    sn: str = ""
    run_state: str = ""
    description: str = ""
    last_down_cause: str = ""
    last_down_time: str = ""
    last_up_time: str = ""


def parse_huawei_ont_table(text: str) -> list[HuaweiOnt]:
    """Parse `display ont info by-desc` (two tables joined by F/S/P and ONT id)."""
    rows: dict[tuple[str, int], dict[str, str]] = {}
    row_re = re.compile(r"^\s*(\d+\s*/\s*\d+\s*/\s*\d+)\s+(\d+)\s+(.*)$")
    for line in clean_output(text).splitlines():
        match = row_re.match(line)
        if not match:
            continue
        key = (normalize_fsp(match.group(1)), int(match.group(2)))
        rest = match.group(3).split()
        entry = rows.setdefault(key, {})
        if len(rest) >= 3 and re.fullmatch(r"[0-9A-Fa-f]{16}", rest[0]):
            entry["sn"], entry["run_state"] = rest[0].upper(), rest[2]
        elif rest:
            entry["description"] = match.group(3).strip()
    return [HuaweiOnt(fsp=k[0], ont_id=k[1], **v) for k, v in rows.items()]


_HW_FIELDS = {
    "f/s/p": "fsp",
    "ont-id": "ont_id",
    "run state": "run_state",
    "description": "description",
    "sn": "sn",
    "last down cause": "last_down_cause",
    "last down time": "last_down_time",
    "last up time": "last_up_time",
}


def parse_huawei_ont_detail(text: str) -> HuaweiOnt | None:
    """Parse the key/value block of `display ont info F S P ID` and `display ont info by-sn SN`.

    Only the first occurrence of each key counts (the T-CONT and profile sections below
    the block repeat some words). None when the text has no F/S/P and ONT-ID.
    """
    values: dict[str, str] = {}
    for line in clean_output(text).splitlines():
        key, sep, value = line.partition(":")
        name = _HW_FIELDS.get(key.strip().lower())
        if sep and name and name not in values:
            values[name] = value.strip()
    if "fsp" not in values or not values.get("ont_id", "").isdigit():
        return None
    values["fsp"] = normalize_fsp(values["fsp"])
    values["sn"] = values.get("sn", "").split("(")[0].strip().upper()
    ont_id = int(values.pop("ont_id"))
    return HuaweiOnt(ont_id=ont_id, **values)


_SUMMARY_PORT = re.compile(r"In port\s+([\d\s/]+?)\s*,")
_SUMMARY_ROW = re.compile(
    rf"^\s*(\d+)\s+([A-Za-z]+)\s+(?P<up>{_DATE_OR_DASH})\s+(?P<down>{_DATE_OR_DASH})(?:\s+(?P<cause>.*))?$"
)
_SUMMARY_SN_ROW = re.compile(r"^\s*(\d+)\s+([0-9A-Fa-f]{16})\b(.*)$")


def parse_huawei_summary(text: str) -> list[HuaweiOnt]:
    """Parse `display ont info summary F/S/P` (or `F/S`, several ports in one output).

    Each port's rows follow its own `In port F/S/P, the total of ONTs are: ...` line
    (either footer wording). Per port: a state/times/cause table and an SN/description
    table, joined by ONT id. Dates in any of the three forms the OLTs print.
    """
    fsp = ""
    states: dict[tuple[str, int], dict[str, str]] = {}
    extras: dict[tuple[str, int], dict[str, str]] = {}
    for line in clean_output(text).splitlines():
        port = _SUMMARY_PORT.search(line)
        if port:
            fsp = normalize_fsp(port.group(1))
            continue
        row = _SUMMARY_ROW.match(line)
        if row:
            states[(fsp, int(row.group(1)))] = {
                "run_state": row.group(2),
                "last_up_time": row.group("up"),
                "last_down_time": row.group("down"),
                "last_down_cause": (row.group("cause") or "").strip(),
            }
            continue
        serial = _SUMMARY_SN_ROW.match(line)
        if serial:
            # ID, SN, Type, Distance, Rx/Tx power, then the description (which may hold spaces).
            rest = serial.group(3).split()
            extras[(fsp, int(serial.group(1)))] = {
                "sn": serial.group(2).upper(),
                "description": " ".join(rest[3:]),
            }
    return [
        HuaweiOnt(fsp=key[0], ont_id=key[1], **states.get(key, {}), **extras.get(key, {}))
        for key in sorted(set(states) | set(extras), key=lambda k: (_port_key(k[0]), k[1]))
    ]


def _port_key(fsp: str) -> tuple[int, ...]:
    return tuple(int(part) for part in fsp.split("/")) if fsp else ()


# --- ZTE -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ZteOnuState:
    """One row of `show gpon onu state`."""

    pon: str
    onu_id: int
    admin_state: str
    omcc_state: str
    phase_state: str


_ZTE_STATE_INDEX = re.compile(r"(?:gpon[-_]onu[-_])?(\d+/\d+/\d+):(\d+)", re.I)


def parse_zte_onu_state(text: str) -> list[ZteOnuState]:
    """Parse `show gpon onu state` of a PON: C300/C320 rows (`1/2/1:4`) and C600 rows (`gpon_onu-1/4/1:2`)."""
    found: list[ZteOnuState] = []
    for line in clean_output(text).splitlines():
        parts = line.split()
        if len(parts) < 4:
            continue
        match = _ZTE_STATE_INDEX.fullmatch(parts[0])
        if match:
            found.append(ZteOnuState(match.group(1), int(match.group(2)), parts[1], parts[2], parts[3]))
    return found


@dataclass(frozen=True)
class ZteOnuDetail:
    """`show gpon onu detail-info`: the header fields and the latest history row."""

    pon: str
    onu_id: int
    name: str
    description: str
    serial: str
    phase_state: str
    last_down_cause: str
    last_down_time: str
    last_up_time: str


_ZTE_HISTORY_ROW = re.compile(rf"^\s*\d+\s+(?P<up>{_DATE})\s+(?P<down>{_DATE})\s*(?P<cause>\S.*)?$")


def parse_zte_onu_detail(text: str) -> ZteOnuDetail | None:
    """Parse `show gpon onu detail-info <ONU>` (either spelling); the latest OfflineTime row wins.

    Rows are not always in time order and unused rows read `0000-00-00 00:00:00`.
    """
    clean = clean_output(text)
    header: dict[str, str] = {}
    latest: dict[str, str] = {}
    for line in clean.splitlines():
        row = _ZTE_HISTORY_ROW.match(line)
        if row:
            down = olt_time(row.group("down"))
            if down and down > latest.get("down", ""):
                latest = {"down": down, "up": row.group("up"), "cause": (row.group("cause") or "").strip()}
            continue
        key, sep, value = line.partition(":")
        if sep and key.strip() and key.strip().lower() not in header:
            header[key.strip().lower()] = value.strip()
    index = zte_onu_index(header.get("onu interface", "") or clean)
    if index is None:
        return None
    return ZteOnuDetail(
        pon=index[0],
        onu_id=index[1],
        name=header.get("name", ""),
        description=header.get("description", ""),
        serial=header.get("serial number", "").upper(),
        phase_state=header.get("phase state", ""),
        last_down_cause=latest.get("cause", ""),
        last_down_time=latest.get("down", ""),
        last_up_time=latest.get("up", ""),
    )


def parse_zte_search(text: str) -> list[tuple[str, int]]:
    """Parse `show gpon onu by sn ...` → the ONU indexes it lists (either spelling)."""
    return [(m.group(1), int(m.group(2))) for m in _ZTE_ONU.finditer(clean_output(text))]


def parse_zte_model(text: str) -> str:
    """The chassis model `show version` names (`C320`, `C600`, ...), upper case; "" if none."""
    match = _ZTE_MODEL.search(clean_output(text))
    return match.group(1).upper() if match else ""
