"""A read-only SNMP v2c agent on 127.0.0.1 serving an OLT's tables, built on pysnmp's messages.

    with SnmpAgent({"leitura": rows}) as agent:      # community -> callable giving (OID, value) rows
        ... walk agent.host:agent.port ...

Answers GET, GETNEXT and GETBULK from the rows its callable returns (read on every request, so
the network's changes are seen), `endOfMibView` past the last one; a wrong community gets no
answer at all, as a real agent does. Values are pysnmp types (`OctetString`, `Integer32`, ...).
What the simulated OLTs serve is `olt_rows()`: IF-MIB ifName of their PON ports (ZTE ifIndex
encodings differ by family, as on real boxes) and, for Huawei, hwGponDeviceOntSn and the ONT
description rows `<ifIndex>.<ontId>`.
"""

from __future__ import annotations

import asyncio
import bisect
import threading
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import Any

from pyasn1.codec.ber import decoder, encoder
from pysnmp.proto import api
from pysnmp.proto.rfc1902 import Integer32, ObjectName, OctetString

Rows = Callable[[], Iterable[tuple[str, Any]]]

IF_NAME = "1.3.6.1.2.1.31.1.1.1.1"
HW_ONT_SERIAL = "1.3.6.1.4.1.2011.6.128.1.1.2.43.1.3"
HW_ONT_DESCRIPTION = "1.3.6.1.4.1.2011.6.128.1.1.2.43.1.9"


def huawei_if_index(port: str) -> int:
    """A Huawei GPON port's ifIndex: (125 << 25) + (shelf << 19) + (slot << 13) + (port << 8)."""
    frame, slot, number = (int(p) for p in port.split("/"))
    return (125 << 25) + (frame << 19) + (slot << 13) + (number << 8)


def zte_if_index(model: str, port: str) -> int:
    """A ZTE PON's ifIndex in this simulator: C300/C320 one encoding, the C600 family another
    (real boxes differ by model and firmware too; receivers must learn it from ifName)."""
    rack, shelf, number = (int(p) for p in port.split("/"))
    if model in ("C600", "C620", "C650"):
        return 0x11000000 + (rack << 20) + (shelf << 12) + number
    return 0x10000000 + (rack << 16) + (shelf << 8) + number - 1


def olt_rows(vendor: str, model: str, onus: Callable[[], Iterable[Mapping[str, Any]]]) -> Rows:
    """The rows a simulated OLT serves (see the module docstring); `onus` as the CLI emulator's."""

    def rows() -> list[tuple[str, Any]]:
        found: list[tuple[str, Any]] = []
        views = list(onus())
        for port in sorted({str(o["port"]) for o in views}):
            if vendor == "huawei":
                found.append((f"{IF_NAME}.{huawei_if_index(port)}", OctetString(f"GPON {port}")))
            else:
                prefix = "gpon_olt-" if model in ("C600", "C620", "C650") else "gpon-olt_"
                found.append((f"{IF_NAME}.{zte_if_index(model, port)}", OctetString(prefix + port)))
        if vendor == "huawei":
            for o in views:
                row = f"{huawei_if_index(str(o['port']))}.{o['ont_id']}"
                found.append((f"{HW_ONT_SERIAL}.{row}", OctetString(bytes.fromhex(str(o["sn"])))))
                found.append((f"{HW_ONT_DESCRIPTION}.{row}", OctetString(str(o["description"]))))
        return found

    return rows


def _key(oid: str) -> tuple[int, ...]:
    return tuple(int(p) for p in oid.split("."))


class SnmpAgent:
    """See the module docstring. `communities` maps a read community to its rows."""

    def __init__(self, communities: Mapping[str, Rows], host: str = "127.0.0.1", port: int = 0) -> None:
        self.communities = dict(communities)
        self.host = host
        self.port = port
        self.requests = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="snmp-agent", daemon=True)
        self._transport: Any = None

    def start(self) -> SnmpAgent:
        async def bind() -> None:
            self._transport, _ = await self._loop.create_datagram_endpoint(
                lambda: _Protocol(self), local_addr=(self.host, self.port)
            )
            self.port = self._transport.get_extra_info("sockname")[1]

        self._thread.start()
        asyncio.run_coroutine_threadsafe(bind(), self._loop).result(10)
        return self

    def stop(self) -> None:
        if self._transport is not None:
            self._loop.call_soon_threadsafe(self._transport.close)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def __enter__(self) -> SnmpAgent:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def answer(self, data: bytes) -> bytes | None:
        """The response to one request, or None (unreadable, wrong community, not a read)."""
        try:
            message, _ = decoder.decode(data, asn1Spec=api.PROTOCOL_MODULES[api.SNMP_VERSION_2C].Message())
        except Exception:
            return None
        v2c = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]
        rows_of = self.communities.get(str(v2c.apiMessage.get_community(message)))
        if rows_of is None:
            return None
        self.requests += 1
        rows = sorted((_key(oid), oid, value) for oid, value in rows_of())
        request = v2c.apiMessage.get_pdu(message)
        response = v2c.apiMessage.get_response(message)
        pdu = v2c.apiMessage.get_pdu(response)
        asked = [str(oid) for oid, _ in v2c.apiPDU.get_varbinds(request)]
        if request.isSameTypeWith(v2c.GetBulkRequestPDU()):
            repetitions = max(1, min(int(v2c.apiBulkPDU.get_max_repetitions(request)), 100))
            answers = [pair for oid in asked for pair in self._next(rows, oid, repetitions)]
        elif request.isSameTypeWith(v2c.GetNextRequestPDU()):
            answers = [self._next(rows, oid, 1)[0] for oid in asked]
        elif request.isSameTypeWith(v2c.GetRequestPDU()):
            exact = {oid: value for _, oid, value in rows}
            answers = [(oid, exact.get(oid, v2c.NoSuchInstance())) for oid in asked]
        else:
            return None
        v2c.apiPDU.set_varbinds(pdu, [(ObjectName(oid), value) for oid, value in answers])
        return bytes(encoder.encode(response))

    @staticmethod
    def _next(rows: list[tuple[tuple[int, ...], str, Any]], oid: str, count: int) -> list[tuple[str, Any]]:
        start = bisect.bisect_right(rows, (_key(oid), "\uffff"))
        found = [(name, value) for _, name, value in rows[start : start + count]]
        if len(found) < count:
            last = found[-1][0] if found else oid
            found.append((last, api.v2c.EndOfMibView()))
        return found


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, agent: SnmpAgent) -> None:
        self.agent = agent
        self.transport: Any = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: Any) -> None:
        reply = self.agent.answer(data)
        if reply is not None:
            self.transport.sendto(reply, addr)


__all__ = ["Integer32", "OctetString", "SnmpAgent", "huawei_if_index", "olt_rows", "zte_if_index"]
