"""Benchmark: how many alarms the receivers take per second, and what a flood does to them.

The receivers run as in production (one thread, one asyncio loop, real UDP sockets on
127.0.0.1); a "poller" drains the queue every 100 ms. The devices are another process (the
machine has 2 cores: one sends, one receives) that replays packets built the way the devices
build them — traps encoded by pysnmp's message API with Huawei's dying-gasp OIDs, Huawei alarm
blocks over syslog, pyrad Accounting-Stops — each OLT from its own loopback address.

- throughput: 8 OLTs and a concentrator at a paced total rate for a while; every packet must be
  parsed, mapped to its login and queued (none lost, none refused);
- a whole OLT dark: 4,096 dying gasps from one OLT within 2 s, every one received and mapped;
- a flood at 10x the goal (50,000/s) for 30 s, from the OLTs plus garbage and strangers: the
  receivers keep answering RADIUS within a second, the poller's drain stays fast, the refused
  are counted, memory stays bounded (peak RSS of the receiving process).

Run: `python -m bench.bench_alarms` (full) or `--quick` (shorter runs).
"""

from __future__ import annotations

import json
import multiprocessing
import resource
import socket
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any

from bench import figure

GOAL = 5_000.0
OLTS = 8
DYING_GASP = "1.3.6.1.4.1.2011.6.128.1.1.12.2.2.0.18"
COMMUNITY = "traps-bench"
SECRET = "segredo-bench"
BNG = "127.3.0.1"
Packets = list[tuple[str, bytes]]  # (source address, datagram)


def olt_address(n: int) -> str:
    return f"127.3.1.{n + 1}"


def _trap(ont: int, slot: int, port: int) -> bytes:
    """A Huawei dying-gasp v2c trap as pysnmp's message API encodes it."""
    from pyasn1.codec.ber import encoder
    from pysnmp.proto import api

    v2c = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]
    pdu = v2c.TrapPDU()
    v2c.apiTrapPDU.set_defaults(pdu)
    oid = v2c.ObjectIdentifier
    v2c.apiTrapPDU.set_varbinds(
        pdu,
        [
            (oid("1.3.6.1.2.1.1.3.0"), v2c.TimeTicks(123456)),
            (oid("1.3.6.1.6.3.1.1.4.1.0"), oid(DYING_GASP)),
            (oid("1.3.6.1.4.1.2011.6.3.3.1.1.1"), v2c.Integer(0)),
            (oid("1.3.6.1.4.1.2011.6.3.3.2.1.1"), v2c.Integer(slot)),
            (oid("1.3.6.1.4.1.2011.6.3.3.4.1.1"), v2c.Integer(port)),
            (oid("1.3.6.1.4.1.2011.6.128.1.1.2.43.1.1"), v2c.Integer(ont)),
            (oid("1.3.6.1.4.1.2011.6.128.1.1.2.45.1.4"), v2c.OctetString("HG8245H")),
        ],
    )
    message = v2c.Message()
    v2c.apiMessage.set_defaults(message)
    v2c.apiMessage.set_community(message, COMMUNITY)
    v2c.apiMessage.set_pdu(message, pdu)
    return bytes(encoder.encode(message))


def _onts(count: int) -> list[tuple[int, int, int]]:
    """(slot, port, ont id) of `count` ONTs: 16 PONs per slot, 128 ONTs per PON."""
    return [(1 + n // 2048, (n // 128) % 16, n % 128) for n in range(count)]


def _block(slot: int, port: int, ont: int) -> bytes:
    return (
        "<187>Dec  6 08:19:27 OLT ALARM 531377 FAULT MINOR 0x2e11a00b SERVICE QUALITY 2026-12-06 08:19:27-03:00\r\n"
        "ALARM NAME : The dying-gasp of GPON ONTi (DGi) is generated\r\n"
        f"PARAMETERS : FrameID: 0, SlotID: {slot}, PortID: {port}, ONT ID: {ont}, Equipment ID:\r\n"
        "DESCRIPTION : The ONT is power off"
    ).encode()


def _stop(n: int) -> bytes:
    from pyrad.packet import AcctPacket

    from outage.adapters.alarms.radius import dictionary

    packet = AcctPacket(
        secret=SECRET.encode(),
        dict=dictionary(),
        User_Name=f"olt0.cliente{n}",
        Acct_Status_Type="Stop",
        Acct_Terminate_Cause="Lost-Carrier",
        NAS_IP_Address="10.0.0.1",
    )
    return bytes(packet.RequestPacket())


def _send(ports: dict[str, int], packets: list[tuple[str, str, bytes]], rate: float, seconds: float) -> None:
    """In the devices' process: replay (kind, source, datagram) at `rate` per second for `seconds`."""
    sockets: dict[str, socket.socket] = {}
    for _, source, _ in packets:
        if source not in sockets:
            sockets[source] = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sockets[source].bind((source, 0))
    batch = max(1, int(rate / 200))
    started = time.monotonic()
    sent = 0
    total = int(rate * seconds)
    while sent < total:
        for _ in range(min(batch, total - sent)):
            kind, source, data = packets[sent % len(packets)]
            sockets[source].sendto(data, ("127.0.0.1", ports[kind]))
            sent += 1
        ahead = sent / rate - (time.monotonic() - started)
        if ahead > 0:
            time.sleep(ahead)


def _service(rate: float, burst: int, capacity: int) -> Any:
    from outage.adapters.alarms.index import Ont
    from outage.adapters.alarms.service import AlarmService
    from outage.adapters.cause.inventory import OltEntry
    from outage.alarm_settings import AlarmSettings
    from outage.core.model import Subscriber
    from simulator.ports import free_port

    settings = AlarmSettings(
        listen="127.0.0.1",
        snmp_port=free_port(),
        syslog_port=free_port(),
        radius_port=free_port(),
        radius_secret=SECRET,
        concentrators=(BNG,),
        queue_size=capacity,
        rate_per_source=rate,
        burst_per_source=burst,
    )
    olts = {
        str(n): OltEntry(str(n), f"OLT-{n}", "huawei", host=olt_address(n), snmp_community=COMMUNITY)
        for n in range(OLTS)
    }
    service = AlarmService(settings, olts, learn=False)
    subscribers = []
    for n in range(OLTS):
        onts = []
        for index, (slot, port, ont) in enumerate(_onts(4096)):
            serial = f"48575443{n:02X}{index:06X}"
            subscribers.append(Subscriber(f"olt{n}.cliente{index}", id_transmissor=str(n), onu_mac=serial))
            onts.append(Ont(f"0/{slot}/{port}", ont, serial))
        service.index.learn_onts(str(n), onts)
    service.refresh(subscribers)
    service.start()
    return service


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class _Poller:
    """Drains every 100 ms like the poller would; records the slowest drain."""

    def __init__(self, service: Any) -> None:
        self.service = service
        self.alarms = 0
        self.mapped = 0
        self.slowest = 0.0
        self.first: float | None = None
        self.last: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> _Poller:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            started = time.monotonic()
            drained = self.service.drain(1_000_000)
            self.slowest = max(self.slowest, time.monotonic() - started)
            if drained:
                self.first = self.first or drained[0].received
                self.last = drained[-1].received
            self.alarms += len(drained)
            self.mapped += sum(1 for a in drained if a.login)

    def settle(self, expected: int, timeout: float = 20.0) -> None:
        """Wait for `expected` alarms, or until none arrived for a second."""
        deadline = time.monotonic() + timeout
        seen, quiet_since = self.alarms, time.monotonic()
        while self.alarms < expected and time.monotonic() < deadline and time.monotonic() - quiet_since < 1.0:
            time.sleep(0.05)
            if self.alarms != seen:
                seen, quiet_since = self.alarms, time.monotonic()
        time.sleep(0.3)


def _devices(
    ports: dict[str, int], packets: list[tuple[str, str, bytes]], rate: float, seconds: float
) -> Any:
    process = multiprocessing.get_context("spawn").Process(target=_send, args=(ports, packets, rate, seconds))
    process.start()
    return process


def _mixed(count: int) -> list[tuple[str, str, bytes]]:
    """Traps (80 %), alarm blocks (15 %) and accounting stops (5 %) from 8 OLTs and a concentrator."""
    onts = _onts(4096)
    packets = []
    for n in range(count):
        slot, port, ont = onts[n % 4096]
        roll = n % 20
        if roll < 16:
            packets.append(("snmp", olt_address(n % OLTS), _trap(ont, slot, port)))
        elif roll < 19:
            packets.append(("syslog_udp", olt_address(n % OLTS), _block(slot, port, ont)))
        else:
            packets.append(("radius", BNG, _stop(n % 4096)))
    return packets


def throughput(rate: float, seconds: float) -> dict[str, Any]:
    """Paced mixed alarms at `rate` per second: processed per second, lost, mapped."""
    packets = _mixed(4000)
    service = _service(rate=rate, burst=int(rate), capacity=1_000_000)
    try:
        with _Poller(service) as poller:
            started = time.monotonic()
            devices = _devices(service.ports, packets, rate, seconds)
            devices.join()
            poller.settle(int(rate * seconds))
            elapsed = time.monotonic() - started
        snapshot = service.snapshot()
    finally:
        service.stop()
    sent = int(rate * seconds)
    refused = sum(sum(s["recusados"].values()) for s in snapshot["fontes"].values())
    span = (poller.last or 0) - (poller.first or 0)
    return {
        "enviados": sent,
        "processados": poller.alarms,
        "mapeados": poller.mapped,
        "perdidos": sent - poller.alarms,
        "recusados": refused,
        "por_segundo": poller.alarms / span if span > 0 else 0.0,
        "segundos": round(elapsed, 1),
    }


def whole_olt() -> dict[str, Any]:
    """4,096 dying gasps from one OLT within 2 s: received, mapped, when the last was queued."""
    onts = _onts(4096)
    packets = [("snmp", olt_address(0), _trap(ont, slot, port)) for slot, port, ont in onts]
    service = _service(rate=2_500, burst=5_000, capacity=50_000)
    try:
        with _Poller(service) as poller:
            started = time.time()
            devices = _devices(service.ports, packets, 4096 / 2.0, 2.0)
            devices.join()
            poller.settle(4096)
        snapshot = service.snapshot()
    finally:
        service.stop()
    return {
        "recebidos": poller.alarms,
        "mapeados": poller.mapped,
        "recusados": snapshot["fontes"]["snmp"]["recusados"],
        "ultimo_na_fila_s": round((poller.last or started) - started, 2),
    }


def flood(seconds: float) -> dict[str, Any]:
    """50,000 packets per second: OLT traps beyond their rate, garbage, strangers."""
    onts = _onts(4096)
    packets: list[tuple[str, str, bytes]] = []
    for n in range(4000):
        slot, port, ont = onts[n]
        roll = n % 10
        if roll < 7:
            packets.append(("snmp", olt_address(n % OLTS), _trap(ont, slot, port)))
        elif roll < 9:
            packets.append(
                ("snmp", olt_address(n % OLTS), b"\x30\x82\x01\x00" + bytes(n % 251 for _ in range(64)))
            )
        else:
            packets.append(("syslog_udp", f"127.4.0.{n % 200 + 1}", _block(slot, port, ont)))
    service = _service(rate=2_500, burst=5_000, capacity=50_000)
    answers: list[float] = []
    try:
        with _Poller(service) as poller:
            rss_before = _rss_mb()
            devices = _devices(service.ports, packets, 10 * GOAL, seconds)
            while devices.is_alive():
                answers.append(_radius_round_trip(service.ports["radius"]))
                time.sleep(0.25)
            devices.join()
            poller.settle(0, timeout=1)
        snapshot = service.snapshot()
    finally:
        service.stop()
    refused = {k: v for s in snapshot["fontes"].values() for k, v in s["recusados"].items()}
    received = sum(s["recebidos"] for s in snapshot["fontes"].values())
    return {
        "pacotes_por_segundo": 10 * GOAL,
        "segundos": seconds,
        "lidos_pelo_receptor": received,
        "aceitos": poller.alarms,
        "recusados": refused,
        "descartados_pelo_sistema": sum(snapshot["descartados_pelo_sistema"].values()),
        "radius_respostas": sum(1 for a in answers if a < 1.0),
        "radius_perguntas": len(answers),
        "radius_pior_s": round(max(answers, default=0.0), 3),
        "drenagem_mais_lenta_ms": round(poller.slowest * 1000, 1),
        "rss_mb_antes": round(rss_before, 1),
        "rss_mb_pico": round(_rss_mb(), 1),
    }


def _radius_round_trip(port: int) -> float:
    """Seconds for a concentrator's Accounting-Request to be answered (99 when it was not)."""
    from pyrad.packet import AcctPacket

    from outage.adapters.alarms.radius import dictionary

    packet = AcctPacket(
        secret=SECRET.encode(), dict=dictionary(), User_Name="sonda", Acct_Status_Type="Interim-Update"
    )
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((BNG, 0))
        sock.settimeout(2.0)
        started = time.monotonic()
        sock.sendto(packet.RequestPacket(), ("127.0.0.1", port))
        try:
            sock.recv(4096)
        except TimeoutError:
            return 99.0
        return time.monotonic() - started


def run(quick: bool = False) -> dict[str, Any]:
    paced = throughput(6_000.0, 3.0 if quick else 10.0)
    ceiling = throughput(12_000.0, 3.0)
    dark = whole_olt()
    storm = flood(5.0 if quick else 30.0)
    rows = [
        figure(
            "alarmes por segundo (soquete → lido → login → fila), ritmo de 6.000/s",
            paced["por_segundo"],
            "alarmes/s",
            ">= 5.000, 0 perdidos",
            paced["por_segundo"] >= GOAL and paced["perdidos"] == 0 and paced["recusados"] == 0,
            f"{paced['enviados']:,} enviados, {paced['perdidos']} perdidos, {paced['mapeados']:,} com login".replace(
                ",", "."
            ),
        ),
        figure(
            "capacidade: alarmes por segundo com a fonte a 12.000/s",
            ceiling["por_segundo"],
            "alarmes/s",
            "informativo (acima disso o sistema descarta e conta)",
            True,
            f"{ceiling['perdidos']:,} de {ceiling['enviados']:,} descartados pelo sistema".replace(",", "."),
        ),
        figure(
            "OLT inteira apagada: 4.096 dying gasps em 2 s",
            dark["recebidos"],
            "recebidos",
            "4.096 recebidos e com login",
            dark["recebidos"] == 4096 and dark["mapeados"] == 4096,
            f"{dark['mapeados']} com login; último na fila {dark['ultimo_na_fila_s']} s após o primeiro envio",
        ),
        figure(
            f"inundação a 50.000/s por {storm['segundos']:.0f} s: RADIUS respondido em",
            storm["radius_pior_s"],
            "s (pior)",
            "< 1 s, todas respondidas; recusas contadas",
            storm["radius_respostas"] == storm["radius_perguntas"] > 0 and storm["radius_pior_s"] < 1.0,
            (
                f"drenagem mais lenta {storm['drenagem_mais_lenta_ms']} ms; recusados "
                f"{sum(storm['recusados'].values()):,}, descartados pelo sistema {storm['descartados_pelo_sistema']:,}"
            ).replace(",", "."),
        ),
        figure(
            "inundação: pico de RSS do processo que recebe",
            storm["rss_mb_pico"],
            "MB",
            "<= 300 MB",
            storm["rss_mb_pico"] <= 300,
            f"antes {storm['rss_mb_antes']} MB (índice de {OLTS * 4096:,} logins)".replace(",", "."),
        ),
    ]
    details = {"ritmo": paced, "capacidade": ceiling, "olt_inteira": dark, "inundacao": storm}
    return {"figuras": rows, "detalhes": details}


def main(argv: Sequence[str] | None = None) -> int:
    quick = "--quick" in (argv if argv is not None else sys.argv[1:])
    result = run(quick)
    print(json.dumps(result["detalhes"], indent=2, ensure_ascii=False))
    for row in result["figuras"]:
        print(
            f"{row['nome']}: {row['valor']} {row['unidade']} ({'ok' if row['ok'] else 'NÃO'}) {row['limite']}"
        )
    return 0 if all(row["ok"] for row in result["figuras"]) else 1


if __name__ == "__main__":
    sys.exit(main())
