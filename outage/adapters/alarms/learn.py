"""Reading an OLT's own tables once, so its alarms can be placed and mapped to logins.

- ZTE traps name the PON by ifIndex, whose encoding differs by model and firmware: the
  ifIndex -> interface table is read from the OLT (IF-MIB ifName, SNMP walk), never computed.
- Huawei alarms name the ONT by frame/slot/port and ONT id: its serial and description are
  read from the OLT, by SNMP (hwGponDeviceOntSn `…2011.6.128.1.1.2.43.1.3`, rows
  `<ifIndex>.<ontId>`, and the description `…43.1.9`) when the inventory gives a read
  community, else over SSH with `display ont info summary F/S` (one command per slot).

Every function returns what it read or raises `LearnError` with a Portuguese reason.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from outage.adapters.alarms.index import Ont
from outage.adapters.alarms.traps import HW_ONT_SERIAL, IF_NAME, huawei_fsp
from outage.adapters.cause.inventory import OltEntry
from outage.adapters.cause.parsers import normalize_fsp

HW_ONT_DESCRIPTION = "1.3.6.1.4.1.2011.6.128.1.1.2.43.1.9"
WALK_TIMEOUT = 2.0
WALK_RETRIES = 2


class LearnError(Exception):
    """The OLT could not be read; the reason is safe to log (no community, no password)."""


async def walk(olt: OltEntry, oid: str) -> list[tuple[str, object]]:
    """Every (OID, value) under `oid` on the OLT (SNMP v2c GETBULK walk with its read community)."""
    from pysnmp.hlapi.v3arch.asyncio import (
        CommunityData,
        ContextData,
        ObjectIdentity,
        ObjectType,
        SnmpEngine,
        UdpTransportTarget,
        bulk_walk_cmd,
    )

    engine = SnmpEngine()
    try:
        target = await UdpTransportTarget.create(
            (olt.host, olt.snmp_port), timeout=WALK_TIMEOUT, retries=WALK_RETRIES
        )
        rows: list[tuple[str, object]] = []
        async for error, status, _, var_binds in bulk_walk_cmd(
            engine,
            CommunityData(olt.snmp_read_community, mpModel=1),  # noqa: S508 - the OLTs speak v2c
            target,
            ContextData(),
            0,
            50,
            ObjectType(ObjectIdentity(oid)),
            lexicographicMode=False,
        ):
            if error or status:
                raise LearnError(
                    f"OLT {olt.name}: leitura SNMP de {oid} falhou ({error or status.prettyPrint()})."
                )
            rows += [(str(name), value) for name, value in var_binds]
        return rows
    except OSError as exc:
        raise LearnError(
            f"OLT {olt.name}: leitura SNMP de {olt.host}:{olt.snmp_port} falhou ({exc})."
        ) from exc
    finally:
        engine.close_dispatcher()


def _suffix(oid: str, base: str) -> list[int]:
    rest = oid[len(base) + 1 :] if oid.startswith(base + ".") else ""
    return [int(p) for p in rest.split(".")] if rest and all(p.isdigit() for p in rest.split(".")) else []


def _text(value: object) -> str:
    raw = value.asOctets() if hasattr(value, "asOctets") else bytes(str(value), "utf-8")
    return raw.decode("utf-8", "replace").strip()


async def zte_ports(olt: OltEntry) -> dict[int, str]:
    """ifIndex -> PON (`F/S/P`) of the OLT's GPON ports (ifName `gpon-olt_1/2/1` or `gpon_olt-1/2/1`)."""
    ports: dict[int, str] = {}
    for oid, value in await walk(olt, IF_NAME):
        index, name = _suffix(oid, IF_NAME), _text(value)
        if len(index) == 1 and "olt" in name.lower() and normalize_fsp(name):
            ports[index[0]] = normalize_fsp(name)
    return ports


async def huawei_onts_snmp(olt: OltEntry) -> list[Ont]:
    """The OLT's ONTs with serial (hex) and description, from its SNMP tables."""
    descriptions = {
        tuple(_suffix(oid, HW_ONT_DESCRIPTION)): _text(value)
        for oid, value in await walk(olt, HW_ONT_DESCRIPTION)
    }
    onts = []
    for oid, value in await walk(olt, HW_ONT_SERIAL):
        index = _suffix(oid, HW_ONT_SERIAL)
        if len(index) != 2 or not huawei_fsp(index[0]):
            continue
        raw = value.asOctets() if hasattr(value, "asOctets") else b""
        serial = raw.hex().upper() if len(raw) == 8 else ""
        onts.append(Ont(huawei_fsp(index[0]), index[1], serial, descriptions.get(tuple(index), "")))
    return onts


def huawei_onts_cli(olt: OltEntry, slots: Iterable[str], timeout: float) -> list[Ont]:
    """The ONTs of those slots (`F/S`) from `display ont info summary F/S`, over SSH (blocking)."""
    from outage.adapters.cause.backend import Sources
    from outage.adapters.cause.huawei import HuaweiBackend
    from outage.adapters.cause.parsers import parse_huawei_summary
    from outage.adapters.cause.ssh import CommandRejected, OltError

    onts: list[Ont] = []
    try:
        with HuaweiBackend(olt, Sources()).open_cli(time.monotonic() + timeout) as cli:
            for slot in sorted(set(slots)):
                try:
                    found = parse_huawei_summary(cli.run(f"display ont info summary {slot}"))
                except CommandRejected:
                    continue
                onts += [Ont(o.fsp, o.ont_id, o.sn, o.description) for o in found if o.fsp]
    except OltError as exc:
        raise LearnError(str(exc)) from exc
    return onts
