"""Pure parsers of Huawei SmartAX and ZTE ZXAN CLI output, and the cause classification.

Every parser takes the raw text a command printed (with or without the echoed command,
the `Command is being executed. Please wait` notice, paging leftovers or the prompt) and
returns plain data; none raises on unexpected text: it returns what it could read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from outage.model import CAUSE_LOS, CAUSE_POWER

NO_VOTE = "sem_voto"

_POWER_CAUSES = {"dying-gasp", "dyinggasp", "dying gasp"}
_LOS_CAUSES = {"los", "losi/lobi", "lofi", "losi", "lobi", "lofi/lobi"}

CLI_ERROR = re.compile(
    r"^\s*%\s*(Parameter error|Unknown command|Too many parameters|Incomplete command|Error)", re.M
)
_BUSY_NOTICE = re.compile(r"Command is being executed\. Please wait\.*", re.I)
_FSP = re.compile(r"(\d+)\s*/\s*(\d+)\s*/\s*(\d+)")
_ZTE_ONU = re.compile(r"gpon[-_]onu_(\d+/\d+/\d+):(\d+)", re.I)
_ZTE_OLT = re.compile(r"gpon[-_]olt_(\d+/\d+/\d+)", re.I)
_DATE = r"(?:\d{4}-\d{2}-\d{2}|\d{2}/\d{2}/\d{4})\s+\d{2}:\d{2}:\d{2}(?:[+-]\d{2}:\d{2}|Z)?"
_DATE_OR_DASH = rf"(?:{_DATE}|-)"


def classify(raw_cause: str) -> str:
    """Map a raw last-down cause to `energia`, `loss` or `sem_voto` (no vote)."""
    cause = raw_cause.strip().lower()
    if cause in _POWER_CAUSES:
        return CAUSE_POWER
    if cause in _LOS_CAUSES:
        return CAUSE_LOS
    return NO_VOTE


def clean_output(text: str) -> str:
    """Drop CR characters and the Huawei busy notice, keep everything else."""
    return _BUSY_NOTICE.sub("", text.replace("\r", ""))


def cli_error(text: str) -> str:
    """The `% ...` error line the device printed, or "" when the command was accepted."""
    for line in text.replace("\r", "").splitlines():
        if CLI_ERROR.match(line):
            return line.strip()
    return ""


def normalize_fsp(text: str) -> str:
    """`0/ 1/0`, `GPON 0/1/0`, `gpon-olt_1/2/1` or `gpon-onu_1/2/1:4` → `0/1/0` / `1/2/1`; "" if none."""
    match = _FSP.search(text or "")
    if not match:
        return ""
    return "/".join(str(int(part)) for part in match.groups())


def zte_onu_index(text: str) -> tuple[str, int] | None:
    """`gpon-onu_1/2/1:4` → (`1/2/1`, 4); None when the text names no ZTE ONU."""
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


def parse_huawei_ont_list(text: str) -> list[HuaweiOnt]:
    """Parse `display ont info by-desc` / `by-sn` (two tables joined by F/S/P and ONT id)."""
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
    """Parse `display ont info F S P ID` (key : value lines); None if it has no F/S/P + ONT-ID."""
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


_SUMMARY_ROW = re.compile(
    rf"^\s*(\d+)\s+([A-Za-z]+)\s+(?P<up>{_DATE_OR_DASH})\s+(?P<down>{_DATE_OR_DASH})(?:\s+(?P<cause>.*))?$"
)


def parse_huawei_summary(text: str) -> list[HuaweiOnt]:
    """Parse `display ont info summary F/S/P`: state/times/cause table + SN/description table."""
    clean = clean_output(text)
    port = re.search(r"In port\s+([\d\s/]+?)\s*,", clean)
    fsp = normalize_fsp(port.group(1)) if port else ""
    states: dict[int, dict[str, str]] = {}
    extras: dict[int, dict[str, str]] = {}
    for line in clean.splitlines():
        match = _SUMMARY_ROW.match(line)
        if match:
            states[int(match.group(1))] = {
                "run_state": match.group(2),
                "last_up_time": match.group("up"),
                "last_down_time": match.group("down"),
                "last_down_cause": (match.group("cause") or "").strip(),
            }
            continue
        parts = line.split()
        if len(parts) >= 2 and parts[0].isdigit() and re.fullmatch(r"[0-9A-Fa-f]{16}", parts[1]):
            description = parts[-1] if len(parts) >= 6 else ""
            extras[int(parts[0])] = {"sn": parts[1].upper(), "description": description}
    return [
        HuaweiOnt(fsp=fsp, ont_id=ont_id, **states.get(ont_id, {}), **extras.get(ont_id, {}))
        for ont_id in sorted(set(states) | set(extras))
    ]


# --- ZTE -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ZteOnuState:
    """One row of `show gpon onu state`."""

    pon: str
    onu_id: int
    admin_state: str
    omcc_state: str
    phase_state: str


def parse_zte_onu_state(text: str) -> list[ZteOnuState]:
    """Parse `show gpon onu state gpon-olt_R/S/P` (C300/C320 and C600 headers)."""
    found: list[ZteOnuState] = []
    for line in clean_output(text).splitlines():
        parts = line.split()
        if len(parts) < 4:
            continue
        match = re.fullmatch(r"(?:gpon[-_]onu_)?(\d+/\d+/\d+):(\d+)", parts[0], re.I)
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


def _zte_time_key(value: str) -> str:
    """Sortable form of `YYYY-MM-DD HH:MM:SS` or `DD/MM/YYYY HH:MM:SS`."""
    match = re.match(r"(\d{2})/(\d{2})/(\d{4})\s+(.*)", value)
    return f"{match.group(3)}-{match.group(2)}-{match.group(1)} {match.group(4)}" if match else value


def parse_zte_onu_detail(text: str) -> ZteOnuDetail | None:
    """Parse `show gpon onu detail-info gpon-onu_R/S/P:N`; the latest OfflineTime row wins.

    Rows are not always in time order and unused rows read `0000-00-00 00:00:00`.
    """
    clean = clean_output(text)
    header: dict[str, str] = {}
    latest: dict[str, str] = {}
    for line in clean.splitlines():
        row = _ZTE_HISTORY_ROW.match(line)
        if row:
            down = row.group("down")
            if not down.startswith("0000") and _zte_time_key(down) > _zte_time_key(latest.get("down", "")):
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
    """Parse `show gpon onu by sn ...` → the ONU indexes it lists."""
    return [(m.group(1), int(m.group(2))) for m in _ZTE_ONU.finditer(clean_output(text))]
