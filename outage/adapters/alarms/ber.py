"""A strict reader of SNMP v1/v2c notifications (BER, X.690) — only what a trap can hold.

pysnmp decodes through pyasn1, about 1,100 traps per second on a 2-core server: an OLT that
reboots sends thousands within two seconds, so the receiver reads the few shapes a trap has
here (30 to 50 times faster) and pysnmp remains what sends traps and walks tables. Tests check
this reader against pysnmp's own encoder and decoder.

`read_notification(data)` returns a `Notification` or raises `BerError` (never anything else)
for anything malformed, truncated, oversized or not a notification.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_MESSAGE = 65_535
MAX_VARBINDS = 512

SEQUENCE = 0x30
INTEGER = 0x02
OCTET_STRING = 0x04
NULL = 0x05
OID = 0x06
IP_ADDRESS = 0x40
UNSIGNED = (0x41, 0x42, 0x43, 0x46)  # Counter32, Gauge32, TimeTicks, Counter64
OPAQUE = 0x44
EXCEPTIONS = (0x80, 0x81, 0x82)  # noSuchObject, noSuchInstance, endOfMibView
TRAP_V1 = 0xA4
INFORM = 0xA6
TRAP_V2 = 0xA7
RESPONSE = 0xA2

SNMP_TRAP_OID = "1.3.6.1.6.3.1.1.4.1.0"
SYS_UPTIME = "1.3.6.1.2.1.1.3.0"
GENERIC_TRAPS = "1.3.6.1.6.3.1.1.5."  # v1 generic-trap n is snmpTraps.(n+1) (RFC 3584)

Value = int | bytes | str | None


class BerError(ValueError):
    """The bytes are not an SNMP notification this reader accepts (the reason in English, for counters)."""


@dataclass(frozen=True, slots=True)
class Notification:
    """A decoded trap or inform: `varbinds` without sysUpTime and snmpTrapOID (their values are
    `uptime` and `trap_oid`); v1 traps are converted as RFC 3584 says."""

    version: int  # 0 = v1, 1 = v2c
    community: bytes
    trap_oid: str
    varbinds: tuple[tuple[str, Value], ...]
    uptime: int = 0
    inform: bool = False
    pdu_offset: int = 0  # where the PDU tag is, to answer an inform

    def response(self, data: bytes) -> bytes:
        """The Response an inform asks for: the same message with the PDU tag changed (RFC 3416
        §4.2.7: same request-id, error-status and error-index zero, same variable bindings)."""
        return data[: self.pdu_offset] + bytes([RESPONSE]) + data[self.pdu_offset + 1 :]


class _Reader:
    __slots__ = ("data", "pos")

    def __init__(self, data: bytes, pos: int = 0) -> None:
        self.data = data
        self.pos = pos

    def header(self) -> tuple[int, int, int]:
        """(tag, start of content, end of content) of the next element."""
        data, pos = self.data, self.pos
        if pos + 2 > len(data):
            raise BerError("truncated header")
        tag, first = data[pos], data[pos + 1]
        pos += 2
        if first & 0x80:
            count = first & 0x7F
            if count == 0 or count > 4 or pos + count > len(data):
                raise BerError("bad length")
            length = int.from_bytes(data[pos : pos + count], "big")
            pos += count
        else:
            length = first
        end = pos + length
        if end > len(data):
            raise BerError("length beyond the message")
        return tag, pos, end

    def enter(self, tag: int) -> int:
        """Step into a constructed element of `tag`; returns where it ends."""
        found, start, end = self.header()
        if found != tag:
            raise BerError(f"expected tag 0x{tag:02x}, found 0x{found:02x}")
        self.pos = start
        return end

    def expect(self, tag: int) -> tuple[int, int]:
        """Step over a primitive element of `tag`; returns its content's (start, end)."""
        found, start, end = self.header()
        if found != tag:
            raise BerError(f"expected tag 0x{tag:02x}, found 0x{found:02x}")
        self.pos = end
        return start, end

    def integer(self) -> int:
        start, end = self.expect(INTEGER)
        return _signed(self.data, start, end)

    def value(self) -> Value:
        tag, start, end = self.header()
        self.pos = end
        data = self.data
        if tag == INTEGER:
            return _signed(data, start, end)
        if tag in (OCTET_STRING, OPAQUE):
            return data[start:end]
        if tag == OID:
            return _oid(data, start, end)
        if tag in UNSIGNED:
            if end - start > 9:
                raise BerError("unsigned too long")
            return int.from_bytes(data[start:end], "big")
        if tag == IP_ADDRESS:
            if end - start != 4:
                raise BerError("bad IpAddress")
            return ".".join(str(b) for b in data[start:end])
        if tag == NULL or tag in EXCEPTIONS:
            return None
        raise BerError(f"unknown value tag 0x{tag:02x}")


def _signed(data: bytes, start: int, end: int) -> int:
    if end == start or end - start > 9:
        raise BerError("bad INTEGER")
    return int.from_bytes(data[start:end], "big", signed=True)


def _oid(data: bytes, start: int, end: int) -> str:
    if end == start or end - start > 256:
        raise BerError("bad OID")
    parts: list[int] = []
    value = 0
    for byte in data[start:end]:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            parts.append(value)
            value = 0
    if data[end - 1] & 0x80:
        raise BerError("truncated OID")
    first = parts[0]
    head = [min(first // 40, 2), first - 40 * min(first // 40, 2)]
    return ".".join(str(p) for p in head + parts[1:])


def read_notification(data: bytes) -> Notification:
    """Decode one SNMP v1 trap, v2c trap or v2c inform (see the module docstring)."""
    if len(data) > MAX_MESSAGE:
        raise BerError("message too long")
    r = _Reader(data)
    if r.enter(SEQUENCE) != len(data):
        raise BerError("trailing bytes")
    version = r.integer()
    if version not in (0, 1):
        raise BerError(f"unsupported version {version}")
    c_start, c_end = r.expect(OCTET_STRING)
    community = data[c_start:c_end]
    pdu_offset = r.pos
    tag, p_start, p_end = r.header()
    if p_end != len(data):
        raise BerError("trailing bytes after the PDU")
    r.pos = p_start
    if version == 0 and tag == TRAP_V1:
        return _v1(r, community)
    if version == 1 and tag in (TRAP_V2, INFORM):
        r.integer()  # request-id
        r.integer()  # error-status
        r.integer()  # error-index
        return _v2(_varbinds(r), community, inform=tag == INFORM, pdu_offset=pdu_offset)
    raise BerError(f"not a notification (version {version}, PDU 0x{tag:02x})")


def _varbinds(r: _Reader) -> list[tuple[str, Value]]:
    end = r.enter(SEQUENCE)
    found: list[tuple[str, Value]] = []
    while r.pos < end:
        if len(found) >= MAX_VARBINDS:
            raise BerError("too many variable bindings")
        item_end = r.enter(SEQUENCE)
        oid_start, oid_end = r.expect(OID)
        value = r.value()
        if r.pos != item_end:
            raise BerError("extra bytes in a variable binding")
        found.append((_oid(r.data, oid_start, oid_end), value))
    if r.pos != end:
        raise BerError("variable bindings overrun")
    return found


def _v2(
    varbinds: list[tuple[str, Value]], community: bytes, *, inform: bool, pdu_offset: int
) -> Notification:
    """RFC 3416: the first binding is sysUpTime.0, the second snmpTrapOID.0."""
    if len(varbinds) < 2 or varbinds[0][0] != SYS_UPTIME or varbinds[1][0] != SNMP_TRAP_OID:
        raise BerError("missing sysUpTime.0 / snmpTrapOID.0")
    uptime, trap_oid = varbinds[0][1], varbinds[1][1]
    if not isinstance(trap_oid, str):
        raise BerError("snmpTrapOID.0 is not an OID")
    return Notification(
        1,
        community,
        trap_oid,
        tuple(varbinds[2:]),
        uptime if isinstance(uptime, int) else 0,
        inform,
        pdu_offset,
    )


def _v1(r: _Reader, community: bytes) -> Notification:
    """RFC 3584 §3.1: enterprise-specific traps become `enterprise.0.specific`."""
    e_start, e_end = r.expect(OID)
    enterprise = _oid(r.data, e_start, e_end)
    r.value()  # agent-addr
    generic = r.integer()
    specific = r.integer()
    uptime = r.value()
    varbinds = _varbinds(r)
    if generic == 6:
        trap_oid = f"{enterprise}.0.{specific}"
    elif 0 <= generic < 6:
        trap_oid = f"{GENERIC_TRAPS}{generic + 1}"
    else:
        raise BerError(f"bad generic-trap {generic}")
    return Notification(0, community, trap_oid, tuple(varbinds), uptime if isinstance(uptime, int) else 0)
