"""What a Huawei or ZTE OLT's trap means: the OIDs of the vendors' MIBs, as constants.

Sources: HUAWEI-XPON-TRAP-MIB (profile mode `…2011.6.128.1.1.12.2`, distributing mode
`…2011.5.100.1.1.31.2`, PON-port traps, `…2011.6.145` district power-off and LOS counts) and
ZXGPON-SERVICE-MIB (`…3902.1012.3.45`). Which Huawei tree a firmware emits is not documented:
both are accepted. The varbinds' instance suffixes are not documented either, so a varbind is
recognised by its object's OID as a prefix, and frame/slot/port/ONT id are read from values.

`read(notification, port_name)` turns a decoded notification into the fields of an `Alarm`
(`TrapFacts`), or None when the trap is not one of these (the caller logs it verbatim).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from outage.adapters.alarms.ber import Notification, Value
from outage.adapters.alarms.event import LOSS, ONU_DOWN, ONU_UP, PON_DOWN, PON_UP, POWER, UNKNOWN

# --- Huawei ----------------------------------------------------------------------------
HW_ONT_PROFILE = "1.3.6.1.4.1.2011.6.128.1.1.12.2.2.0."
HW_ONT_DISTRIBUTING = "1.3.6.1.4.1.2011.5.100.1.1.31.2.2.0."
HW_PON_PROFILE = "1.3.6.1.4.1.2011.6.128.1.1.12.2.1.0."
HW_PON_LOS_DISTRIBUTING = "1.3.6.1.4.1.2011.5.100.1.1.31.2.1.0.1"
HW_DISTRICT_POWER_RESTORE = "1.3.6.1.4.1.2011.6.145.3.2.1.0.7"
# ONT traps (both trees): N -> (kind, cause, the device's word)
HW_ONT_TRAPS = {
    12: (ONU_DOWN, LOSS, "LOSi"),
    13: (ONU_UP, LOSS, "LOSi recovery"),
    18: (ONU_DOWN, POWER, "dying-gasp"),
    19: (ONU_UP, POWER, "dying-gasp recovery"),
    45: (PON_DOWN, POWER, "numerous ONTs powered off in one district"),
}
HW_PON_TRAPS = {
    1: (PON_DOWN, LOSS, "feeder fiber LOS"),
    2: (PON_UP, LOSS, "feeder fiber LOS recovery"),
    108: (PON_DOWN, LOSS, "PON LOS"),
    109: (PON_UP, LOSS, "PON LOS recovery"),
    121: (PON_DOWN, UNKNOWN, "numerous ONTs offline"),
    122: (PON_UP, UNKNOWN, "numerous ONTs offline restored"),
}
HW_FRAME = "1.3.6.1.4.1.2011.6.3.3.1.1.1"  # hwFrameIndex
HW_SLOT = "1.3.6.1.4.1.2011.6.3.3.2.1.1"  # hwSlotIndex
HW_PORT = "1.3.6.1.4.1.2011.6.3.3.4.1.1"  # hwPortIndex
HW_ONT_INDEX = "1.3.6.1.4.1.2011.6.128.1.1.2.43.1.1"  # hwGponDeviceOntIndex
HW_ONT_OBJECT_INDEX = "1.3.6.1.4.1.2011.5.100.1.1.1.5.1.1"  # hwGponDeviceOntObjectIndex (distributing)
HW_EQUIPMENT = "1.3.6.1.4.1.2011.6.128.1.1.2.45.1.4"  # hwGponDeviceOntEquipmentId
HW_ONT_SERIAL = "1.3.6.1.4.1.2011.6.128.1.1.2.43.1.3"  # hwGponDeviceOntSn (table, for walks)
HW_LOS_AFFECTED = "1.3.6.1.4.1.2011.6.145.2.48"  # hwXponOltLosAffectOntNum
HW_LOS_DYING_GASP = "1.3.6.1.4.1.2011.6.145.2.49"  # hwXponOltLosDgiOntNum
HW_GPON_IFINDEX_TYPE = (
    125  # a GPON port's ifIndex is (125 << 25) + (shelf << 19) + (slot << 13) + (port << 8)
)

# --- ZTE -------------------------------------------------------------------------------
ZTE_ENTERPRISE = "1.3.6.1.4.1.3902."
ZTE_GPON_TRAPS = "1.3.6.1.4.1.3902.1012.3.45."
ZTE_TRAPS = {
    101: (ONU_DOWN, LOSS, "LOSi"),
    102: (ONU_UP, LOSS, "LOSi restore"),
    103: (ONU_DOWN, LOSS, "LOFi"),
    104: (ONU_UP, LOSS, "LOFi restore"),
    123: (ONU_DOWN, POWER, "DyingGasp"),
    124: (ONU_UP, POWER, "DyingGasp restore"),
    173: (ONU_DOWN, POWER, "DyingGasp"),  # zxGponLinkOntDyingGasp: ifIndex only
    174: (ONU_UP, POWER, "DyingGasp restore"),
}
IF_INDEX = "1.3.6.1.2.1.2.2.1.1"
IF_NAME = "1.3.6.1.2.1.31.1.1.1.1"  # IF-MIB ifName (table, for walks)
ZTE_ONU_TYPE = "1.3.6.1.4.1.3902.1012.3.28.1.1.1"
ZTE_ONU_NAME = "1.3.6.1.4.1.3902.1012.3.28.1.1.2"
ZTE_ONU_DESCRIPTION = "1.3.6.1.4.1.3902.1012.3.28.1.1.3"
ZTE_ONU_TABLE = (ZTE_ONU_TYPE, ZTE_ONU_NAME, ZTE_ONU_DESCRIPTION)
_ZTE_SERIAL = re.compile(rb"\b(ZTEG[0-9A-Fa-f]{8}|5A544547[0-9A-Fa-f]{8})\b")
_ZTE_WORDS = (
    (re.compile(rb"dying ?gasp|\bDGi\b", re.I), POWER, "DyingGasp"),
    (re.compile(rb"\bLOS[Ii]?\b|\bLOFi\b|loss of signal", re.I), LOSS, "LOSi"),
)
_RESTORE = re.compile(rb"restor|recover|clear", re.I)

PortName = Callable[[int], str]
"""An OLT's ifIndex -> its PON as `F/S/P` ("" when unknown), learned from the OLT."""


@dataclass(frozen=True, slots=True)
class TrapFacts:
    """The alarm fields a trap gives (see `event.Alarm`)."""

    kind: str
    cause: str
    reason: str
    fsp: str = ""
    ont_id: int | None = None
    serial: str = ""
    login_hint: str = ""  # a ZTE ONU's name or description (often the login)
    affected: int | None = None
    dying_gasp: int | None = None


def read(n: Notification, port_name: PortName) -> TrapFacts | None:
    """The facts of a known trap (see the module docstring); None for any other."""
    oid = n.trap_oid
    for prefix, table in ((HW_ONT_PROFILE, HW_ONT_TRAPS), (HW_ONT_DISTRIBUTING, HW_ONT_TRAPS)):
        number = _tail(oid, prefix)
        if number in table:
            return _huawei(n, *table[number])
    number = _tail(oid, HW_PON_PROFILE)
    if number in HW_PON_TRAPS:
        return _huawei(n, *HW_PON_TRAPS[number])
    if oid == HW_PON_LOS_DISTRIBUTING:
        return _huawei(n, PON_DOWN, LOSS, "PON LOS")
    if oid == HW_DISTRICT_POWER_RESTORE:
        return _huawei(n, PON_UP, POWER, "district power-off restore")
    if oid.startswith(ZTE_ENTERPRISE):
        return _zte(n, port_name)
    return None


def _tail(oid: str, prefix: str) -> int | None:
    if not oid.startswith(prefix):
        return None
    rest = oid[len(prefix) :]
    return int(rest) if rest.isdigit() else None


def _value(n: Notification, *objects: str) -> Value:
    """The value of the first varbind that is an instance of one of `objects`."""
    for oid, value in n.varbinds:
        for obj in objects:
            if oid == obj or oid.startswith(obj + "."):
                return value
    return None


def _number(n: Notification, *objects: str) -> int | None:
    value = _value(n, *objects)
    return value if isinstance(value, int) else None


def _huawei(n: Notification, kind: str, cause: str, reason: str) -> TrapFacts:
    frame, slot, port = (_number(n, obj) for obj in (HW_FRAME, HW_SLOT, HW_PORT))
    ont_id = _number(n, HW_ONT_INDEX, HW_ONT_OBJECT_INDEX)
    fsp = f"{frame}/{slot}/{port}" if None not in (frame, slot, port) else _huawei_fsp_from_instance(n)
    affected, dying_gasp = _number(n, HW_LOS_AFFECTED), _number(n, HW_LOS_DYING_GASP)
    if reason == "numerous ONTs powered off in one district":
        mask = next(
            (v for o, v in n.varbinds if isinstance(v, bytes) and not o.startswith(HW_EQUIPMENT)), None
        )
        affected = sum(bin(b).count("1") for b in mask) if isinstance(mask, bytes) else None
    if kind == PON_DOWN and affected and dying_gasp is not None:
        cause = POWER if dying_gasp * 2 > affected else LOSS  # most ONTs said goodbye: the power
    return TrapFacts(
        kind, cause, reason, fsp, ont_id if kind in (ONU_DOWN, ONU_UP) else None, "", "", affected, dying_gasp
    )


def huawei_fsp(if_index: int) -> str:
    """A Huawei GPON port's `F/S/P` from its ifIndex (`(125 << 25) + (shelf << 19) + (slot << 13)
    + (port << 8)`), "" for another kind of ifIndex."""
    if if_index >> 25 != HW_GPON_IFINDEX_TYPE:
        return ""
    return f"{(if_index >> 19) & 0x3F}/{(if_index >> 13) & 0x3F}/{(if_index >> 8) & 0x1F}"


def _huawei_fsp_from_instance(n: Notification) -> str:
    """The PON from an ONT varbind's instance (`<ifIndex>.<ontId>`) when frame/slot/port are absent."""
    for oid, _ in n.varbinds:
        for obj in (HW_ONT_INDEX, HW_ONT_OBJECT_INDEX):
            parts = oid[len(obj) + 1 :].split(".") if oid.startswith(obj + ".") else []
            if len(parts) == 2 and parts[0].isdigit() and huawei_fsp(int(parts[0])):
                return huawei_fsp(int(parts[0]))
    return ""


def _zte(n: Notification, port_name: PortName) -> TrapFacts | None:
    """zxGponOlt* traps by number (under the GPON tree, `.0.N` accepted too); the newer ZXAN form
    by the ONU serial in its varbinds, its meaning from the number or the varbinds' words."""
    number = _tail(n.trap_oid, ZTE_GPON_TRAPS)
    if number is None:
        number = _tail(n.trap_oid, ZTE_GPON_TRAPS + "0.")
    serial = _zte_serial(n)
    if number not in ZTE_TRAPS and serial:
        number = _tail(n.trap_oid, n.trap_oid.rsplit(".", 1)[0] + ".")
    if number in ZTE_TRAPS:
        kind, cause, reason = ZTE_TRAPS[number]
    elif serial:
        meaning = _zte_words(n)
        if meaning is None:
            return None
        kind, cause, reason = meaning
    else:
        return None
    if_index, ont_id, hint = _zte_onu(n)
    return TrapFacts(kind, cause, reason, port_name(if_index) if if_index else "", ont_id, serial, hint)


def _zte_onu(n: Notification) -> tuple[int | None, int | None, str]:
    """(PON ifIndex, ONU id, name or description) from the ONU table varbinds
    (`…28.1.1.N.<ifIndex>.<onuId>`) and the ifIndex varbind."""
    if_index = _number(n, IF_INDEX)
    ont_id = None
    hint = ""
    for oid, value in n.varbinds:
        obj = next((o for o in ZTE_ONU_TABLE if oid.startswith(o + ".")), None)
        if obj is None:
            continue
        parts = oid[len(obj) + 1 :].split(".")
        if len(parts) == 2 and all(p.isdigit() for p in parts):
            if_index = if_index if if_index is not None else int(parts[0])
            ont_id = int(parts[1])
        if obj != ZTE_ONU_TYPE and isinstance(value, bytes) and not hint:
            hint = value.decode("utf-8", "replace").strip()
    return if_index, ont_id, hint


def _zte_serial(n: Notification) -> str:
    """The ONU serial (hex form) found in any text varbind, "" when none."""
    for _, value in n.varbinds:
        if isinstance(value, bytes):
            match = _ZTE_SERIAL.search(value)
            if match:
                found = match.group(1).decode("ascii").upper()
                return found if found.startswith("5A544547") else "5A544547" + found[4:]
    return ""


def _zte_words(n: Notification) -> tuple[str, str, str] | None:
    """Kind, cause and word from the varbinds' text, for a ZXAN trap of an unknown number."""
    text = b" ".join(v for _, v in n.varbinds if isinstance(v, bytes))
    for pattern, cause, reason in _ZTE_WORDS:
        if pattern.search(text):
            up = bool(_RESTORE.search(text))
            return (ONU_UP if up else ONU_DOWN), cause, reason + (" restore" if up else "")
    return None
