"""The simulated network's devices speak up: OLT traps and syslog alarms, concentrator accounting.

    alarms = NetworkAlarms(AlarmTargets(snmp_port=10162, syslog_port=10514, radius_port=11813,
                                        radius_secret="s3cr3t")).start()
    network.alarms = alarms            # the network calls the hooks as ONUs and sessions change

What each device sends, as the real ones do (vendor MIBs and alarm texts):

- Huawei OLT: a v2c trap (pysnmp's notification sender) in the profile-mode tree — dying gasp
  `…12.2.2.0.18`, LOSi `…0.12` and their recoveries `…0.19` / `…0.13` — with hwFrameIndex,
  hwSlotIndex, hwPortIndex, hwGponDeviceOntIndex and the equipment id; and the same event as a
  syslog alarm block (one message, lines joined by CR LF): `0x2e11a00b` (DGi), `0x2e112007`
  (LOSi) and `RECOVERY CLEARED 0x2e122007`.
- ZTE OLT: zxGponOltDGi `…3902.1012.3.45.123` / zxGponOltLOSi `.101` and restores `.124` / `.102`
  with the PON's ifIndex and the ONU's name (its login, as many ISPs name them), the instance
  `<ifIndex>.<onuId>`. ZTE's syslog text is not published: ZTE OLTs send traps only.
- Concentrator: an Accounting-Request Stop (pyrad packets) when it ends a session — which the
  network schedules `Timing.session_lag` after the ONU went dark — with Acct-Terminate-Cause
  Lost-Carrier (NAS-Reboot when the concentrator itself failed) and Event-Timestamp; a Start
  when a session comes back. Unanswered requests are sent again (1 s, up to 3 more times, with
  Acct-Delay-Time) as a real BNG does.

Every device sends from its own loopback address (OLT n from `olt_address(n)`, a concentrator
from `concentrator_address(ip)`), so the monitor tells them apart as it would on a real network.
The hooks only queue: sending happens in this sender's own thread, never under the network's lock.
ONUs that go down for other reasons (reset, re-register) raise no alarm, as on a real OLT.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pyrad.packet import AcctPacket

from outage.adapters.alarms.radius import dictionary
from simulator.ports import free_port
from simulator.snmp_agent import zte_if_index

if TYPE_CHECKING:
    from simulator.network import Customer

log = logging.getLogger(__name__)

HW_ONT = "1.3.6.1.4.1.2011.6.128.1.1.12.2.2.0."
HW_FRAME, HW_SLOT, HW_PORT = (
    "1.3.6.1.4.1.2011.6.3.3.1.1.1",
    "1.3.6.1.4.1.2011.6.3.3.2.1.1",
    "1.3.6.1.4.1.2011.6.3.3.4.1.1",
)
HW_ONT_INDEX = "1.3.6.1.4.1.2011.6.128.1.1.2.43.1.1"
HW_EQUIPMENT = "1.3.6.1.4.1.2011.6.128.1.1.2.45.1.4"
ZTE_TRAPS = "1.3.6.1.4.1.3902.1012.3.45."
ZTE_ONU_NAME = "1.3.6.1.4.1.3902.1012.3.28.1.1.2"
IF_INDEX = "1.3.6.1.2.1.2.2.1.1"
POWER_CAUSES = {"dying-gasp"}
LOSS_CAUSES = {"LOS", "LOSi/LOBi", "LOFi"}
RADIUS_TIMEOUT = 1.0
RADIUS_RETRIES = 3
LOCAL_OFFSET = -3 * 3600

HUAWEI_BLOCKS = {
    ("down", "power"): (
        "FAULT MINOR 0x2e11a00b SERVICE QUALITY",
        "The dying-gasp of GPON ONTi (DGi) is generated",
        "The ONT is power off",
    ),
    ("down", "loss"): (
        "FAULT MAJOR 0x2e112007 COMMUNICATIONS",
        "The distribute fiber is broken or the OLT cannot receive expected optical signals from the ONT(LOSi/LOBi)",
        "The optical fiber between the ONT and the splitter is broken",
    ),
    ("up", "loss"): (
        "RECOVERY CLEARED 0x2e122007 COMMUNICATIONS",
        "The distribute fiber is broken or the OLT cannot receive expected optical signals from the ONT(LOSi/LOBi)",
        "The optical signals from the ONT are received again",
    ),
}


def olt_address(olt_id: str) -> str:
    """The loopback address a simulated OLT sends from (`127.1.x.y`)."""
    number = int(olt_id)
    return f"127.1.{number // 250}.{number % 250 + 1}"


def concentrator_address(bng: str) -> str:
    """The loopback address a simulated concentrator sends from (`10.a.b.1` -> `127.2.a.b`)."""
    parts = bng.split(".")
    return f"127.2.{parts[1]}.{parts[2]}"


@dataclass(frozen=True)
class AlarmTargets:
    """Where the devices send (0 = that kind is not sent) and their shared settings."""

    host: str = "127.0.0.1"
    snmp_port: int = 0
    syslog_port: int = 0
    radius_port: int = 0
    radius_secret: str = ""
    community: str = "sim-traps"

    @classmethod
    def on_free_ports(cls, radius_secret: str, community: str) -> AlarmTargets:
        return cls(
            snmp_port=free_port(),
            syslog_port=free_port(),
            radius_port=free_port(),
            radius_secret=radius_secret,
            community=community,
        )

    def receiver_env(self, bngs: Iterable[str]) -> dict[str, str]:
        """The monitor's settings for receivers listening where these devices send, the
        concentrators `bngs` allowed."""
        return {
            "ALARM_LISTEN_ADDRESS": self.host,
            "ALARM_SNMP_PORT": str(self.snmp_port),
            "ALARM_SYSLOG_PORT": str(self.syslog_port),
            "ALARM_RADIUS_PORT": str(self.radius_port),
            "ALARM_RADIUS_SECRET": self.radius_secret,
            "ALARM_CONCENTRATORS": ",".join(sorted({concentrator_address(bng) for bng in bngs})),
        }


class NetworkAlarms:
    """See the module docstring. Counters in `sent` (traps, syslog, stops, starts, retries, unanswered)."""

    def __init__(self, targets: AlarmTargets) -> None:
        self.targets = targets
        self.sent: Counter[str] = Counter()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="sim-alarmes", daemon=True)
        self._numbers = itertools.count(500_000)
        self._engines: dict[str, Any] = {}
        self._syslog: dict[str, socket.socket] = {}
        self._radius: dict[str, _RadiusClient] = {}
        self._pending: set[asyncio.Future[Any]] = set()
        self._busy = 0
        self._busy_lock = threading.Lock()

    def start(self) -> NetworkAlarms:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Send what is queued (10 s at most), then stop."""

        async def finish() -> None:
            for engine in self._engines.values():
                engine.close_dispatcher()
            for client in self._radius.values():
                client.close()

        if self._thread.is_alive():
            self.idle(10)
            asyncio.run_coroutine_threadsafe(finish(), self._loop).result(15)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)
        for sock in self._syslog.values():
            sock.close()

    def idle(self, timeout: float = 10.0) -> bool:
        """Wait until everything queued was sent (and answered or given up); False on timeout."""
        deadline = time.monotonic() + timeout
        while self._busy and time.monotonic() < deadline:
            time.sleep(0.01)
        return not self._busy

    # ---------------------------------------------------------------- hooks (under the network's lock)

    def onu_down(self, customer: Customer, cause: str, when: float) -> None:
        kind = "power" if cause in POWER_CAUSES else "loss" if cause in LOSS_CAUSES else ""
        if kind:
            self._olt(customer, "down", kind, when)

    def onu_up(self, customer: Customer, when: float) -> None:
        cause = customer.down_cause
        kind = "power" if cause in POWER_CAUSES else "loss" if cause in LOSS_CAUSES else ""
        if kind:
            self._olt(customer, "up", kind, when)

    def session_end(self, customer: Customer, when: float) -> None:
        reason = "Lost-Carrier" if not customer.onu_online else "NAS-Reboot"
        self._accounting(customer, "Stop", reason, when)

    def session_start(self, customer: Customer, when: float) -> None:
        self._accounting(customer, "Start", "", when)

    # ---------------------------------------------------------------- sending (in the sender's thread)

    def _submit(self, make: Any) -> None:
        with self._busy_lock:
            self._busy += 1

        def schedule() -> None:
            task = asyncio.ensure_future(make())
            self._pending.add(task)
            task.add_done_callback(self._done)

        self._loop.call_soon_threadsafe(schedule)

    def _done(self, task: asyncio.Future[Any]) -> None:
        self._pending.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("simulador: alarme não enviado (%s)", task.exception())
        with self._busy_lock:
            self._busy -= 1

    def _olt(self, customer: Customer, direction: str, kind: str, when: float) -> None:
        view = (
            customer.olt.id,
            customer.olt.name,
            customer.olt.vendor,
            customer.olt.model,
            customer.port,
            customer.ont_id,
            customer.login,
        )
        if self.targets.snmp_port:
            self._submit(lambda: self._trap(view, direction, kind))
        if (
            self.targets.syslog_port
            and customer.olt.vendor == "huawei"
            and (direction, kind) in HUAWEI_BLOCKS
        ):
            self._submit(lambda: self._block(view, direction, kind, when))

    def _accounting(self, customer: Customer, status: str, reason: str, when: float) -> None:
        if not self.targets.radius_port:
            return
        details = (customer.concentrador, customer.login, customer.id, status, reason, when)
        self._submit(lambda: self._send_accounting(*details))

    async def _trap(self, view: tuple[Any, ...], direction: str, kind: str) -> None:
        from pysnmp.hlapi.v3arch.asyncio import (
            CommunityData,
            ContextData,
            Integer32,
            NotificationType,
            ObjectIdentity,
            OctetString,
            SnmpEngine,
            UdpTransportTarget,
            send_notification,
        )

        olt_id, _, vendor, model, port, ont_id, login = view
        first, second, third = (int(p) for p in port.split("/"))
        if vendor == "huawei":
            number = {("down", "power"): 18, ("up", "power"): 19, ("down", "loss"): 12, ("up", "loss"): 13}
            oid = f"{HW_ONT}{number[(direction, kind)]}"
            varbinds: list[tuple[str, Any]] = [
                (HW_FRAME, Integer32(first)),
                (HW_SLOT, Integer32(second)),
                (HW_PORT, Integer32(third)),
                (HW_ONT_INDEX, Integer32(ont_id)),
                (HW_EQUIPMENT, OctetString("HG8245H")),
            ]
        else:
            number = {
                ("down", "power"): 123,
                ("up", "power"): 124,
                ("down", "loss"): 101,
                ("up", "loss"): 102,
            }
            oid = f"{ZTE_TRAPS}{number[(direction, kind)]}"
            if_index = zte_if_index(model, port)
            varbinds = [
                (f"{IF_INDEX}.{if_index}", Integer32(if_index)),
                (f"{ZTE_ONU_NAME}.{if_index}.{ont_id}", OctetString(login)),
            ]
        engine = self._engines.get(olt_id)
        if engine is None:
            engine = self._engines[olt_id] = SnmpEngine()
        target = await UdpTransportTarget.create((self.targets.host, self.targets.snmp_port))
        target.set_local_address((olt_address(olt_id), 0))
        await send_notification(
            engine,
            CommunityData(self.targets.community, mpModel=1),  # noqa: S508 - OLTs send v2c traps
            target,
            ContextData(),
            "trap",
            NotificationType(ObjectIdentity(oid)).add_varbinds(*varbinds),
        )
        self.sent["traps"] += 1

    async def _block(self, view: tuple[Any, ...], direction: str, kind: str, when: float) -> None:
        olt_id, name, _, _, port, ont_id, _ = view
        frame, slot, number = port.split("/")
        header, alarm_name, description = HUAWEI_BLOCKS[(direction, kind)]
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(when + LOCAL_OFFSET)) + "-03:00"
        block = "\r\n".join(
            [
                f"ALARM {next(self._numbers)} {header} {stamp}",
                f"ALARM NAME : {alarm_name}",
                f"PARAMETERS : FrameID: {frame}, SlotID: {slot}, PortID: {number}, ONT ID: {ont_id}, Equipment ID: HG8245H",
                f"DESCRIPTION : {description}",
            ]
        )
        header_time = time.strftime("%b %d %H:%M:%S", time.gmtime(when + LOCAL_OFFSET))
        message = f"<{23 * 8 + (3 if direction == 'down' else 5)}>{header_time} {name} {block}"
        sock = self._syslog.get(olt_id)
        if sock is None:
            sock = self._syslog[olt_id] = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind((olt_address(olt_id), 0))
        sock.sendto(message.encode("utf-8"), (self.targets.host, self.targets.syslog_port))
        self.sent["syslog"] += 1

    async def _send_accounting(
        self, bng: str, login: str, session: str, status: str, reason: str, when: float
    ) -> None:
        client = self._radius.get(bng)
        if client is None:
            client = self._radius[bng] = await _RadiusClient.open(
                concentrator_address(bng), (self.targets.host, self.targets.radius_port)
            )
        attributes: dict[str, Any] = {
            "User_Name": login,
            "Acct_Status_Type": status,
            "NAS_IP_Address": bng,
            "Acct_Session_Id": f"{session}-{int(when)}",
            "Event_Timestamp": int(when),
            "NAS_Port_Type": "Virtual",
            "Service_Type": "Framed-User",
            "Framed_Protocol": "PPP",
        }
        if reason:
            attributes["Acct_Terminate_Cause"] = reason
        answered, retries = await client.send(self.targets.radius_secret.encode(), attributes)
        self.sent["retries"] += retries
        self.sent["stops" if status == "Stop" else "starts"] += 1
        if not answered:
            self.sent["unanswered"] += 1


class _RadiusClient(asyncio.DatagramProtocol):
    """One concentrator's accounting socket: requests in flight by id, resent until answered."""

    def __init__(self, server: tuple[str, int]) -> None:
        self.server = server
        self.transport: Any = None
        self.waiting: dict[int, asyncio.Future[bytes]] = {}
        self.ids = itertools.cycle(range(256))
        self.window = asyncio.Semaphore(200)

    @classmethod
    async def open(cls, local: str, server: tuple[str, int]) -> _RadiusClient:
        loop = asyncio.get_running_loop()
        _, client = await loop.create_datagram_endpoint(lambda: cls(server), local_addr=(local, 0))
        return client

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: Any) -> None:
        if len(data) >= 20 and data[1] in self.waiting and not self.waiting[data[1]].done():
            self.waiting[data[1]].set_result(data)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    async def send(self, secret: bytes, attributes: dict[str, Any]) -> tuple[bool, int]:
        """(answered, retries): a new id and Acct-Delay-Time on each retry (RFC 2866 §5.2)."""
        async with self.window:
            for attempt in range(RADIUS_RETRIES + 1):
                ident = next(id_ for id_ in self.ids if id_ not in self.waiting)
                packet = AcctPacket(id=ident, secret=secret, dict=dictionary(), **attributes)
                if attempt:
                    packet["Acct-Delay-Time"] = int(attempt * RADIUS_TIMEOUT)
                raw = packet.RequestPacket()
                future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
                self.waiting[ident] = future
                self.transport.sendto(raw, self.server)
                try:
                    reply = await asyncio.wait_for(future, RADIUS_TIMEOUT)
                except TimeoutError:
                    continue
                finally:
                    del self.waiting[ident]
                if packet.VerifyReply(packet.CreateReply(packet=reply), reply):
                    return True, attempt
            return False, RADIUS_RETRIES
