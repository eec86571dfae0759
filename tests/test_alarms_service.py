"""The receivers on real sockets on 127.0.0.1, fed the way the devices feed them.

Traps are sent with pysnmp's own notification sender, syslog as raw bytes over UDP and TCP,
accounting as pyrad packets; hostile input (garbage, wrong community or secret, unknown
senders, floods) is refused, counted by reason, and never stops the receivers.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from pyrad.packet import AccountingResponse, AcctPacket
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

from outage.adapters.alarms.event import (
    CONCENTRATOR,
    LINE,
    LOSS,
    ONU_DOWN,
    PON_DOWN,
    POWER,
    SESSION_END,
    Alarm,
)
from outage.adapters.alarms.index import Ont
from outage.adapters.alarms.intake import RATE, UNKNOWN_SENDER
from outage.adapters.alarms.radius import dictionary
from outage.adapters.alarms.service import BAD_COMMUNITY, MALFORMED, UNKNOWN_TRAP, AlarmService
from outage.adapters.cause.inventory import OltEntry
from outage.alarm_settings import AlarmSettings
from outage.core.model import Subscriber
from simulator.olt_cli import OltEmulator
from simulator.ports import free_port
from simulator.snmp_agent import SnmpAgent, huawei_if_index, olt_rows, zte_if_index
from tests.clocks import HandClock

HUAWEI, ZTE, STRANGER = "127.0.0.11", "127.0.0.12", "127.0.0.99"
BNG = "127.0.0.21"
COMMUNITY = "traps-centro"
SECRET = b"segredo-do-bng"
DYING_GASP = "1.3.6.1.4.1.2011.6.128.1.1.12.2.2.0.18"
HW_FRAME, HW_SLOT, HW_PORT = (
    "1.3.6.1.4.1.2011.6.3.3.1.1.1",
    "1.3.6.1.4.1.2011.6.3.3.2.1.1",
    "1.3.6.1.4.1.2011.6.3.3.4.1.1",
)
HW_ONT = "1.3.6.1.4.1.2011.6.128.1.1.2.43.1.1"

SUBSCRIBERS = [
    Subscriber("ana.silva", id_transmissor="1", onu_mac="485754431A8287A8", interface_transmissao="0/5/6"),
    Subscriber("bruno.lima", id_transmissor="1", onu_mac="4857544300000002", interface_transmissao="0/5/6"),
    Subscriber(
        "carla.zte", id_transmissor="2", onu_mac="5A54454700000003", interface_transmissao="gpon-olt_1/2/1"
    ),
]


def collect(service: AlarmService, count: int, timeout: float = 10.0) -> list[Alarm]:
    """Drain until `count` alarms arrived (or the time is up), as the poller would."""
    found: list[Alarm] = []
    deadline = time.monotonic() + timeout
    while len(found) < count and time.monotonic() < deadline:
        found += service.drain(10_000)
        time.sleep(0.01)
    return found


def settings(**overrides: Any) -> AlarmSettings:
    values: dict[str, Any] = {
        "listen": "127.0.0.1",
        "snmp_port": free_port(),
        "syslog_port": free_port(),
        "radius_port": free_port(),
        "radius_secret": SECRET.decode(),
        "concentrators": (BNG,),
        "user_request_suspect": (),
    }
    values.update(overrides)
    return AlarmSettings(**values)


def olts(**extra: Any) -> dict[str, OltEntry]:
    return {
        "1": OltEntry("1", "OLT-CENTRO", "huawei", host=HUAWEI, snmp_community=COMMUNITY, **extra),
        "2": OltEntry(
            "2", "OLT-NORTE", "zte", model="C320", host="10.9.9.9", addresses=(ZTE,), snmp_community="z"
        ),
    }


@pytest.fixture
def service() -> Iterator[AlarmService]:
    running = AlarmService(settings(), olts(), learn=False)
    running.start()
    running.refresh(SUBSCRIBERS)
    running.index.learn_onts(
        "1", [Ont("0/5/6", 32, "485754431A8287A8"), Ont("0/5/6", 33, "4857544300000002")]
    )
    yield running
    running.stop()


def trap(
    port: int,
    oid: str,
    varbinds: list[tuple[str, Any]],
    *,
    source: str,
    community: str = COMMUNITY,
    inform: bool = False,
) -> Any:
    """Send one notification with pysnmp's notification sender from `source`."""

    async def send() -> Any:
        engine = SnmpEngine()
        target = await UdpTransportTarget.create(("127.0.0.1", port), timeout=1, retries=0)
        target.set_local_address((source, 0))
        try:
            return await send_notification(
                engine,
                CommunityData(community, mpModel=1),  # noqa: S508 - OLTs send v2c traps
                target,
                ContextData(),
                "inform" if inform else "trap",
                NotificationType(ObjectIdentity(oid)).add_varbinds(*varbinds),
            )
        finally:
            engine.close_dispatcher()

    return asyncio.run(send())


def dying_gasp(ont: int) -> list[tuple[str, Any]]:
    return [
        (HW_FRAME, Integer32(0)),
        (HW_SLOT, Integer32(5)),
        (HW_PORT, Integer32(6)),
        (HW_ONT, Integer32(ont)),
    ]


def udp(port: int, data: bytes, source: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((source, 0))
        sock.sendto(data, ("127.0.0.1", port))


def accounting(port: int, source: str = BNG, secret: bytes = SECRET, **attributes: Any) -> bytes | None:
    """One Accounting-Request as a concentrator sends it; the answer, or None after 1 s."""
    packet = AcctPacket(secret=secret, dict=dictionary(), **attributes)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((source, 0))
        sock.settimeout(1.0)
        sock.sendto(packet.RequestPacket(), ("127.0.0.1", port))
        try:
            reply = sock.recv(4096)
        except TimeoutError:
            return None
    assert packet.VerifyReply(packet.CreateReply(packet=reply), reply)
    return reply


BLOCK = (
    "ALARM 531377 FAULT MINOR 0x2e11a00b SERVICE QUALITY {date}\r\n"
    "ALARM NAME : The dying-gasp of GPON ONTi (DGi) is generated\r\n"
    "PARAMETERS : FrameID: 0, SlotID: 5, PortID: 6, ONT ID: 33, Equipment ID:\r\n"
    "DESCRIPTION : The ONT is power off"
)


def local_date(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(epoch - 3 * 3600)) + "-03:00"


# ------------------------------------------------------------------------------ SNMP


def test_a_huawei_dying_gasp_trap_becomes_an_onu_down_alarm_for_its_login(service):
    trap(service.ports["snmp"], DYING_GASP, dying_gasp(32), source=HUAWEI)
    [alarm] = collect(service, 1)
    assert (alarm.kind, alarm.cause, alarm.olt, alarm.fsp, alarm.ont_id) == (
        ONU_DOWN,
        POWER,
        "1",
        "0/5/6",
        32,
    )
    assert alarm.login == "ana.silva" and alarm.source == "snmp" and alarm.sender == HUAWEI
    assert DYING_GASP in alarm.raw


def test_an_inform_is_answered_so_the_olt_does_not_resend_it(service):
    answer = trap(service.ports["snmp"], DYING_GASP, dying_gasp(33), source=HUAWEI, inform=True)
    error_indication = answer[0]
    assert error_indication is None  # pysnmp got the Response it waited for
    assert [a.login for a in collect(service, 1)] == ["bruno.lima"]


def test_a_zte_dying_gasp_named_by_the_onu_maps_to_its_login_and_the_learned_pon(service):
    if_index = zte_if_index("C320", "1/2/1")
    service.index.learn_ports("2", {if_index: "1/2/1"})
    varbinds = [
        (f"1.3.6.1.2.1.2.2.1.1.{if_index}", Integer32(if_index)),
        (f"1.3.6.1.4.1.3902.1012.3.28.1.1.2.{if_index}.4", OctetString("carla.zte")),
    ]
    trap(service.ports["snmp"], "1.3.6.1.4.1.3902.1012.3.45.123", varbinds, source=ZTE, community="z")
    [alarm] = collect(service, 1)
    assert (alarm.kind, alarm.cause, alarm.fsp, alarm.ont_id, alarm.login) == (
        ONU_DOWN,
        POWER,
        "1/2/1",
        4,
        "carla.zte",
    )


def test_a_zxan_trap_is_matched_by_the_onu_serial_in_its_varbinds(service):
    varbinds = [("1.3.6.1.4.1.3902.1082.500.10.2.3.3.1.1", OctetString("ZTEG00000003 LOSi"))]
    trap(service.ports["snmp"], "1.3.6.1.4.1.3902.1082.500.10.2.3.0.101", varbinds, source=ZTE, community="z")
    [alarm] = collect(service, 1)
    assert (alarm.kind, alarm.cause, alarm.serial, alarm.login) == (
        ONU_DOWN,
        LOSS,
        "5A54454700000003",
        "carla.zte",
    )


def test_a_pon_los_trap_carries_the_affected_and_dying_gasp_counts(service):
    varbinds = [
        (HW_FRAME, Integer32(0)),
        (HW_SLOT, Integer32(5)),
        (HW_PORT, Integer32(6)),
        ("1.3.6.1.4.1.2011.6.145.2.48.0", Integer32(40)),
        ("1.3.6.1.4.1.2011.6.145.2.49.0", Integer32(38)),
    ]
    trap(service.ports["snmp"], "1.3.6.1.4.1.2011.6.128.1.1.12.2.1.0.108", varbinds, source=HUAWEI)
    [alarm] = collect(service, 1)
    assert (alarm.kind, alarm.fsp, alarm.affected, alarm.dying_gasp, alarm.cause) == (
        PON_DOWN,
        "0/5/6",
        40,
        38,
        POWER,
    )


def test_wrong_community_unknown_sender_unknown_trap_and_garbage_are_refused_and_counted(service, caplog):
    port = service.ports["snmp"]
    trap(port, DYING_GASP, dying_gasp(32), source=HUAWEI, community="adivinha")
    trap(port, DYING_GASP, dying_gasp(32), source=STRANGER)
    trap(port, "1.3.6.1.4.1.2011.6.128.1.1.12.2.2.0.77", dying_gasp(32), source=HUAWEI)
    udp(port, b"\x30\x82\xff\xff garbage", HUAWEI)
    udp(port, b"", HUAWEI)
    trap(port, DYING_GASP, dying_gasp(32), source=HUAWEI)  # still listening
    assert [a.ont_id for a in collect(service, 1)] == [32]
    snmp = service.snapshot()["fontes"]["snmp"]
    assert snmp["recusados"] == {BAD_COMMUNITY: 1, UNKNOWN_SENDER: 1, UNKNOWN_TRAP: 1, MALFORMED: 2}
    assert "1.3.6.1.4.1.2011.6.128.1.1.12.2.2.0.77" in caplog.text  # logged verbatim for the operator
    assert "adivinha" not in caplog.text
    assert service.snapshot()["origens_desconhecidas_recentes"] == [STRANGER]


def test_an_onu_the_index_cannot_map_is_kept_and_counted_without_login(service):
    trap(service.ports["snmp"], DYING_GASP, dying_gasp(99), source=HUAWEI)
    [alarm] = collect(service, 1)
    assert alarm.login == "" and alarm.fsp == "0/5/6"
    snapshot = service.snapshot()
    assert snapshot["fontes"]["snmp"]["sem_login"] == 1
    assert next(d for d in snapshot["equipamentos"] if d["chave"] == "olt:1")["sem_login"] == 1


# ------------------------------------------------------------------------------ syslog


@pytest.mark.parametrize(
    ("breaks", "header"),
    [
        ("\r\n", "<187>Dec  6 08:19:27 OLT-CENTRO "),
        ("#015#012", "<187>1 2026-12-06T08:19:27-03:00 OLT-CENTRO alarm - - - "),
    ],
)
def test_a_huawei_alarm_block_over_udp_syslog_is_an_onu_down_at_the_olt_time(service, breaks, header):
    sent = time.time() - 4
    message = header + BLOCK.format(date=local_date(sent)).replace("\r\n", breaks)
    udp(service.ports["syslog_udp"], message.encode(), HUAWEI)
    [alarm] = collect(service, 1)
    assert (alarm.kind, alarm.cause, alarm.fsp, alarm.ont_id, alarm.login) == (
        ONU_DOWN,
        POWER,
        "0/5/6",
        33,
        "bruno.lima",
    )
    assert alarm.at == pytest.approx(int(sent)) and alarm.received > alarm.at


def test_tcp_syslog_reads_octet_counted_and_newline_framed_blocks(service):
    first = ("<187>" + BLOCK.format(date=local_date(time.time()))).encode()
    second = first.replace(b"ONT ID: 33", b"ONT ID: 32")
    with socket.create_connection(
        ("127.0.0.1", service.ports["syslog_tcp"]), source_address=(HUAWEI, 0)
    ) as conn:
        conn.sendall(str(len(first)).encode() + b" " + first)
        time.sleep(0.1)
    with socket.create_connection(
        ("127.0.0.1", service.ports["syslog_tcp"]), source_address=(HUAWEI, 0)
    ) as conn:
        conn.sendall(second + b"\n<30>Dec  6 08:19:28 OLT-CENTRO an ordinary line\n")
        time.sleep(0.1)
    alarms = collect(service, 2)
    assert sorted(a.login for a in alarms) == ["ana.silva", "bruno.lima"]


def test_an_accel_ppp_echo_timeout_is_a_session_whose_line_died(service):
    line = "<30>Dec  6 08:19:58 bng accel-pppd: ppp7:ana.silva: lcp: no echo reply"
    udp(service.ports["syslog_udp"], line.encode(), BNG)
    udp(service.ports["syslog_udp"], b"<30>Dec  6 08:19:58 bng accel-pppd: ppp8:bruno.lima: connected", BNG)
    [alarm] = collect(service, 1)
    assert (alarm.kind, alarm.cause, alarm.login, alarm.concentrator) == (SESSION_END, LINE, "ana.silva", BNG)
    time.sleep(0.1)
    assert service.snapshot()["fontes"]["syslog"]["aceitos"] == 2


def test_syslog_from_an_unknown_address_is_refused(service):
    udp(service.ports["syslog_udp"], ("<187>" + BLOCK.format(date="")).encode(), STRANGER)
    with socket.create_connection(
        ("127.0.0.1", service.ports["syslog_tcp"]), source_address=(STRANGER, 0)
    ) as conn:
        conn.sendall(b"<30>hello\n")
    time.sleep(0.3)
    assert service.drain(10) == []
    assert service.snapshot()["fontes"]["syslog"]["recusados"] == {UNKNOWN_SENDER: 2}


# ------------------------------------------------------------------------------ RADIUS


def test_an_accounting_stop_is_answered_and_lost_carrier_is_a_line_that_died(service):
    reply = accounting(
        service.ports["radius"],
        User_Name="ana.silva",
        Acct_Status_Type="Stop",
        Acct_Terminate_Cause="Lost-Carrier",
        NAS_IP_Address="10.0.1.1",
        Event_Timestamp=int(time.time()) - 30,
    )
    assert reply is not None and reply[0] == AccountingResponse
    [alarm] = collect(service, 1)
    assert (alarm.kind, alarm.cause, alarm.reason, alarm.login, alarm.concentrator) == (
        SESSION_END,
        LINE,
        "Lost-Carrier",
        "ana.silva",
        "10.0.1.1",
    )
    assert alarm.received - alarm.at == pytest.approx(30, abs=2)


@pytest.mark.parametrize(
    ("terminate", "suspect", "cause"),
    [
        ("User-Request", (), ""),
        ("User-Request", (BNG,), LINE),
        ("NAS-Reboot", (), CONCENTRATOR),
        ("Port-Error", (), LINE),
        ("Idle-Timeout", (), ""),
    ],
)
def test_terminate_causes_say_whether_the_line_died(terminate, suspect, cause):
    running = AlarmService(settings(user_request_suspect=suspect), olts(), learn=False)
    running.start()
    try:
        assert accounting(
            running.ports["radius"], User_Name="ana", Acct_Status_Type="Stop", Acct_Terminate_Cause=terminate
        )
        [alarm] = collect(running, 1)
    finally:
        running.stop()
    assert alarm.cause == cause and alarm.is_failure == bool(cause)


def test_a_wrong_secret_or_an_unlisted_concentrator_gets_no_answer_and_is_counted(service):
    port = service.ports["radius"]
    assert accounting(port, secret=b"outro", User_Name="ana", Acct_Status_Type="Stop") is None
    assert accounting(port, source=STRANGER, User_Name="ana", Acct_Status_Type="Stop") is None
    udp(port, b"\x04\x01\x00\x05", BNG)
    assert accounting(port, User_Name="ana", Acct_Status_Type="Interim-Update")  # answered, nothing to report
    assert service.drain(10) == []
    refused = service.snapshot()["fontes"]["radius"]["recusados"]
    assert refused == {
        "segredo RADIUS errado (autenticador não confere)": 1,
        UNKNOWN_SENDER: 1,
        "pacote RADIUS malformado": 1,
    }


# ------------------------------------------------------------------------------ floods and health


def test_a_flood_from_one_olt_is_cut_at_its_rate_and_the_rest_counted(tmp_path):
    hand = HandClock()
    running = AlarmService(
        settings(rate_per_source=10, burst_per_source=50), olts(), clock=hand.clock(), learn=False
    )
    running.start()
    try:
        message = ("<187>" + BLOCK.format(date="")).encode()
        for _ in range(200):
            udp(running.ports["syslog_udp"], message, HUAWEI)
        time.sleep(0.5)
        accepted = running.drain(1000)
    finally:
        running.stop()
    assert len(accepted) == 50
    syslog_counts = running.snapshot()["fontes"]["syslog"]
    assert syslog_counts["recebidos"] == 200 and syslog_counts["recusados"] == {RATE: 150}


def test_a_full_queue_refuses_new_alarms_until_the_poller_drains_it():
    running = AlarmService(settings(queue_size=100), olts(), learn=False)
    running.start()
    try:
        message = ("<187>" + BLOCK.format(date="")).encode()
        for _ in range(130):
            udp(running.ports["syslog_udp"], message, HUAWEI)
        time.sleep(0.5)
        assert len(running.drain(1000)) == 100
        udp(running.ports["syslog_udp"], message, HUAWEI)
        assert len(collect(running, 1)) == 1
    finally:
        running.stop()
    assert running.snapshot()["fontes"]["syslog"]["recusados"] == {"fila cheia": 30}


def test_an_olt_silent_longer_than_configured_is_shown():
    hand = HandClock()
    running = AlarmService(settings(silent_after=600), olts(), clock=hand.clock(), learn=False)
    running.start()
    try:
        hand.advance(400)
        trap(running.ports["snmp"], DYING_GASP, dying_gasp(32), source=HUAWEI)
        assert collect(running, 1)
        hand.advance(300)
        snapshot = running.snapshot()
    finally:
        running.stop()
    assert snapshot["silenciosas"] == ["OLT-NORTE"]
    huawei = next(d for d in snapshot["equipamentos"] if d["nome"] == "OLT-CENTRO")
    assert huawei["segundos_desde_ultimo"] == 300 and not huawei["silenciosa"]


def test_a_port_in_use_is_reported_at_start_and_nothing_keeps_running():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        running = AlarmService(settings(radius_port=taken.getsockname()[1]), olts(), learn=False)
        with pytest.raises(OSError, match="radius UDP"):
            running.start()
    assert running.snapshot()["ativo"] is False


# ------------------------------------------------------------------------------ learning the OLTs' tables


def test_zte_pons_and_huawei_onts_are_learned_from_the_olts_snmp_agent():
    zte_onus = [{"port": "1/2/1", "ont_id": 4, "sn": "5A54454700000003", "description": "carla.zte"}]
    hw_onus = [{"port": "0/5/6", "ont_id": 32, "sn": "485754431A8287A8", "description": "ana.silva"}]
    with SnmpAgent(
        {
            "ler-zte": olt_rows("zte", "C320", lambda: zte_onus),
            "ler-hw": olt_rows("huawei", "MA5800-X7", lambda: hw_onus),
        }
    ) as agent:
        inventory = {
            "1": OltEntry(
                "1",
                "OLT-CENTRO",
                "huawei",
                host="127.0.0.1",
                snmp_read_community="ler-hw",
                snmp_port=agent.port,
            ),
            "2": OltEntry(
                "2",
                "OLT-NORTE",
                "zte",
                model="C320",
                host="127.0.0.1",
                snmp_read_community="ler-zte",
                snmp_port=agent.port,
            ),
        }
        running = AlarmService(settings(), inventory)
        running.start()
        try:
            deadline = time.monotonic() + 15
            while len(running.learned) < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            running.stop()
    assert running.learned == {"1": "1 ONTs (SNMP)", "2": "1 PONs (SNMP)"}
    assert running.index.port_name("2", zte_if_index("C320", "1/2/1")) == "1/2/1"
    assert running.index.knows_onts("1", "0/5/6")
    assert huawei_if_index("0/1/3") == 4194312960  # the encoding the MIB documents


def test_huawei_onts_are_learned_over_ssh_when_no_read_community_is_given():
    onus = [
        {
            "fsp": "0/5/6",
            "port": "0/5/6",
            "ont_id": 32,
            "sn": "485754431A8287A8",
            "description": "ana.silva",
            "run_state": "online",
        },
        {
            "fsp": "0/5/7",
            "port": "0/5/7",
            "ont_id": 1,
            "sn": "4857544300000009",
            "description": "outro",
            "run_state": "online",
        },
    ]
    with OltEmulator("huawei", onus, model="MA5800-X7", username="noc", password="senha-olt") as olt:
        entry = OltEntry(
            "1", "OLT-CENTRO", "huawei", host="127.0.0.1", port=olt.port, username="noc", password="senha-olt"
        )
        running = AlarmService(settings(), {"1": entry})
        running.refresh(SUBSCRIBERS)
        running.start()
        try:
            deadline = time.monotonic() + 30
            while "1" not in running.learned and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            running.stop()
        assert "display ont info summary 0/5" in olt.commands
    assert running.learned == {"1": "2 ONTs (SSH)"}
