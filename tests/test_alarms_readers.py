"""The pure parts of the alarm receivers: the trap reader against pysnmp, the vendors' traps and
alarm texts, syslog framing, RADIUS causes, the login index, the gathering, the settings."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyasn1.codec.ber import decoder, encoder
from pyrad.packet import AcctPacket
from pysnmp.proto import api

from outage.adapters.alarms import radius, syslog, traps
from outage.adapters.alarms.ber import BerError, read_notification
from outage.adapters.alarms.event import (
    CONCENTRATOR,
    LINE,
    LOSS,
    NAS_RESTART,
    ONU_DOWN,
    ONU_UP,
    PON_DOWN,
    PON_UP,
    POWER,
    SESSION_END,
    SESSION_START,
    Alarm,
)
from outage.adapters.alarms.gather import gather
from outage.adapters.alarms.index import LoginIndex, Ont
from outage.adapters.cause import validate_inventory
from outage.adapters.channels.registry import CHANNELS
from outage.adapters.erp import ERPS
from outage.config import load_settings
from outage.core.model import Subscriber

V2C = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]
V1 = api.PROTOCOL_MODULES[api.SNMP_VERSION_1]
HW = "1.3.6.1.4.1.2011.6.128.1.1.12.2.2.0."
FRAME, SLOT, PORT = (
    "1.3.6.1.4.1.2011.6.3.3.1.1.1",
    "1.3.6.1.4.1.2011.6.3.3.2.1.1",
    "1.3.6.1.4.1.2011.6.3.3.4.1.1",
)
ONT = "1.3.6.1.4.1.2011.6.128.1.1.2.43.1.1"


def v2c_trap(
    trap_oid: str, varbinds: list[tuple[str, object]], community: str = "c", inform: bool = False
) -> bytes:
    """A v2c notification encoded by pysnmp's message API, as an agent built on it sends."""
    pdu = V2C.InformRequestPDU() if inform else V2C.TrapPDU()
    V2C.apiTrapPDU.set_defaults(pdu)
    oid = V2C.ObjectIdentifier
    V2C.apiTrapPDU.set_varbinds(
        pdu,
        [(oid("1.3.6.1.2.1.1.3.0"), V2C.TimeTicks(42)), (oid("1.3.6.1.6.3.1.1.4.1.0"), oid(trap_oid))]
        + [(oid(name), value) for name, value in varbinds],
    )
    message = V2C.Message()
    V2C.apiMessage.set_defaults(message)
    V2C.apiMessage.set_community(message, community)
    V2C.apiMessage.set_pdu(message, pdu)
    return bytes(encoder.encode(message))


def huawei(number: int, ont: int = 32, **extra: object) -> bytes:
    varbinds = [
        (FRAME, V2C.Integer(0)),
        (SLOT, V2C.Integer(5)),
        (PORT, V2C.Integer(6)),
        (ONT, V2C.Integer(ont)),
    ]
    return v2c_trap(HW + str(number), varbinds + [(k, v) for k, v in extra.items()])


# ------------------------------------------------------------------------------ the trap reader

VALUES = st.one_of(
    st.integers(min_value=-(2**31), max_value=2**31 - 1).map(V2C.Integer),
    st.binary(max_size=300).map(V2C.OctetString),
    st.integers(min_value=0, max_value=2**32 - 1).map(V2C.Counter32),
    st.integers(min_value=0, max_value=2**32 - 1).map(V2C.TimeTicks),
    st.integers(min_value=0, max_value=2**64 - 1).map(V2C.Counter64),
    st.tuples(*[st.integers(0, 255)] * 4).map(lambda t: V2C.IpAddress(".".join(map(str, t)))),
    st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=20).map(
        lambda p: V2C.ObjectIdentifier((1, 3, *p))
    ),
    st.just(V2C.Null("")),
)
OIDS = st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=30).map(
    lambda p: "1.3." + ".".join(map(str, p))
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(OIDS, VALUES), max_size=12), st.binary(min_size=1, max_size=40), OIDS)
def test_the_trap_reader_reads_what_pysnmp_encodes_exactly_as_pysnmp_decodes_it(
    varbinds, community, trap_oid
):
    data = v2c_trap(trap_oid, varbinds, community.decode("latin-1"))
    ours = read_notification(data)
    message, _ = decoder.decode(data, asn1Spec=V2C.Message())
    theirs = V2C.apiPDU.get_varbinds(V2C.apiMessage.get_pdu(message))
    assert ours.community == community and ours.trap_oid == trap_oid
    assert len(ours.varbinds) == len(theirs) - 2
    for (oid, value), (their_oid, their_value) in zip(ours.varbinds, theirs[2:], strict=True):
        assert oid == str(their_oid)
        expected = their_value.asOctets() if isinstance(their_value, V2C.OctetString) else their_value
        if isinstance(their_value, V2C.IpAddress):
            expected = ".".join(str(b) for b in their_value.asOctets())
        elif isinstance(their_value, V2C.ObjectIdentifier):
            expected = str(their_value)
        elif isinstance(their_value, V2C.Null):
            expected = None
        else:
            expected = expected if isinstance(expected, bytes) else int(expected)
        assert value == expected


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_the_trap_reader_never_raises_anything_but_its_own_error_on_garbage(data):
    with contextlib.suppress(BerError):
        read_notification(data)


def test_a_truncated_or_padded_trap_is_refused():
    data = huawei(18)
    for broken in (data[:-1], data + b"\x00", data[:10], b"\x30\x80" + data[2:]):
        with pytest.raises(BerError):
            read_notification(broken)


def test_an_inform_is_answered_with_the_same_message_as_a_response_pdu():
    data = v2c_trap(HW + "18", [], inform=True)
    note = read_notification(data)
    reply, _ = decoder.decode(note.response(data), asn1Spec=V2C.Message())
    pdu = V2C.apiMessage.get_pdu(reply)
    assert note.inform and pdu.isSameTypeWith(V2C.ResponsePDU())
    assert V2C.apiPDU.get_request_id(pdu) == V2C.apiPDU.get_request_id(
        V2C.apiMessage.get_pdu(decoder.decode(data, asn1Spec=V2C.Message())[0])
    )


def test_a_v1_enterprise_trap_becomes_enterprise_zero_specific():
    pdu = V1.TrapPDU()
    V1.apiTrapPDU.set_defaults(pdu)
    V1.apiTrapPDU.set_enterprise(pdu, (1, 3, 6, 1, 4, 1, 2011, 6, 128, 1, 1, 12, 2, 2))
    V1.apiTrapPDU.set_generic_trap(pdu, 6)
    V1.apiTrapPDU.set_specific_trap(pdu, 18)
    V1.apiTrapPDU.set_varbinds(pdu, [(V1.ObjectIdentifier(ONT), V1.Integer(7))])
    message = V1.Message()
    V1.apiMessage.set_defaults(message)
    V1.apiMessage.set_community(message, "c")
    V1.apiMessage.set_pdu(message, pdu)
    note = read_notification(bytes(encoder.encode(message)))
    assert note.version == 0 and note.trap_oid == HW + "18" and note.varbinds == ((ONT, 7),)


# ------------------------------------------------------------------------------ what the traps mean


def read(data: bytes, ports: dict[int, str] | None = None) -> traps.TrapFacts | None:
    return traps.read(read_notification(data), lambda i: (ports or {}).get(i, ""))


@pytest.mark.parametrize(
    ("tree", "number", "kind", "cause"),
    [
        (HW, 12, ONU_DOWN, LOSS),
        (HW, 13, ONU_UP, LOSS),
        (HW, 18, ONU_DOWN, POWER),
        (HW, 19, ONU_UP, POWER),
        ("1.3.6.1.4.1.2011.5.100.1.1.31.2.2.0.", 18, ONU_DOWN, POWER),
        ("1.3.6.1.4.1.2011.5.100.1.1.31.2.2.0.", 13, ONU_UP, LOSS),
    ],
)
def test_huawei_ont_traps_in_both_trees(tree, number, kind, cause):
    object_index = "1.3.6.1.4.1.2011.5.100.1.1.1.5.1.1.4194312960.9"
    ont = ONT if tree == HW else object_index
    data = v2c_trap(
        tree + str(number),
        [(FRAME, V2C.Integer(0)), (SLOT, V2C.Integer(1)), (PORT, V2C.Integer(3)), (ont, V2C.Integer(9))],
    )
    facts = read(data)
    assert facts is not None and (facts.kind, facts.cause, facts.fsp, facts.ont_id) == (
        kind,
        cause,
        "0/1/3",
        9,
    )


def test_a_huawei_ont_trap_without_frame_slot_port_is_placed_by_the_ifindex_of_its_instance():
    data = v2c_trap(HW + "18", [(f"{ONT}.4194312960.9", V2C.Integer(9))])
    facts = read(data)
    assert facts is not None and facts.fsp == "0/1/3" and facts.ont_id == 9


@pytest.mark.parametrize(
    ("oid", "kind", "cause"),
    [
        ("1.3.6.1.4.1.2011.6.128.1.1.12.2.1.0.1", PON_DOWN, LOSS),
        ("1.3.6.1.4.1.2011.6.128.1.1.12.2.1.0.2", PON_UP, LOSS),
        ("1.3.6.1.4.1.2011.6.128.1.1.12.2.1.0.121", PON_DOWN, ""),
        ("1.3.6.1.4.1.2011.6.128.1.1.12.2.1.0.122", PON_UP, ""),
        ("1.3.6.1.4.1.2011.5.100.1.1.31.2.1.0.1", PON_DOWN, LOSS),
        ("1.3.6.1.4.1.2011.6.145.3.2.1.0.7", PON_UP, POWER),
    ],
)
def test_huawei_pon_traps(oid, kind, cause):
    facts = read(v2c_trap(oid, [(FRAME, V2C.Integer(0)), (SLOT, V2C.Integer(2)), (PORT, V2C.Integer(6))]))
    assert facts is not None and (facts.kind, facts.cause, facts.fsp, facts.ont_id) == (
        kind,
        cause,
        "0/2/6",
        None,
    )


@pytest.mark.parametrize(("affected", "dying_gasp", "cause"), [(40, 38, POWER), (40, 3, LOSS)])
def test_a_pon_los_says_power_or_fiber_by_how_many_onts_sent_a_dying_gasp_first(affected, dying_gasp, cause):
    counts = [
        ("1.3.6.1.4.1.2011.6.145.2.48.0", V2C.Integer(affected)),
        ("1.3.6.1.4.1.2011.6.145.2.49.0", V2C.Integer(dying_gasp)),
    ]
    facts = read(
        v2c_trap(
            "1.3.6.1.4.1.2011.6.128.1.1.12.2.1.0.108",
            [(FRAME, V2C.Integer(0)), (SLOT, V2C.Integer(2)), (PORT, V2C.Integer(6)), *counts],
        )
    )
    assert facts is not None and (facts.affected, facts.dying_gasp, facts.cause) == (
        affected,
        dying_gasp,
        cause,
    )


def test_a_district_power_off_counts_the_onts_of_its_mask():
    mask = bytes([0b10110000, 0b00000001]) + bytes(14)
    data = v2c_trap(
        HW + "45",
        [
            (FRAME, V2C.Integer(0)),
            (SLOT, V2C.Integer(1)),
            (PORT, V2C.Integer(2)),
            ("1.3.6.1.4.1.2011.6.128.1.1.2.46.1.99", V2C.OctetString(mask)),
        ],
    )
    facts = read(data)
    assert facts is not None and (facts.kind, facts.cause, facts.affected) == (PON_DOWN, POWER, 4)


@pytest.mark.parametrize(
    ("number", "kind", "cause"),
    [(101, ONU_DOWN, LOSS), (102, ONU_UP, LOSS), (123, ONU_DOWN, POWER), (124, ONU_UP, POWER)],
)
@pytest.mark.parametrize("tree", ["1.3.6.1.4.1.3902.1012.3.45.", "1.3.6.1.4.1.3902.1012.3.45.0."])
def test_zte_onu_traps_name_the_pon_by_the_learned_ifindex(tree, number, kind, cause):
    data = v2c_trap(
        tree + str(number),
        [
            ("1.3.6.1.2.1.2.2.1.1.268501248", V2C.Integer(268501248)),
            ("1.3.6.1.4.1.3902.1012.3.28.1.1.2.268501248.5", V2C.OctetString("maria")),
        ],
    )
    facts = read(data, {268501248: "1/1/1"})
    assert facts is not None and (facts.kind, facts.cause, facts.fsp, facts.ont_id, facts.login_hint) == (
        kind,
        cause,
        "1/1/1",
        5,
        "maria",
    )


def test_a_zte_trap_of_an_unlearned_pon_keeps_its_onu_but_no_place():
    data = v2c_trap(
        "1.3.6.1.4.1.3902.1012.3.45.123", [("1.3.6.1.4.1.3902.1012.3.28.1.1.2.999.5", V2C.OctetString("x"))]
    )
    facts = read(data)
    assert facts is not None and facts.fsp == "" and facts.ont_id == 5


def test_unknown_traps_and_zte_traps_without_a_known_meaning_are_not_alarms():
    assert read(v2c_trap("1.3.6.1.6.3.1.1.5.3", [])) is None  # linkDown
    assert read(v2c_trap(HW + "77", [])) is None
    assert (
        read(
            v2c_trap(
                "1.3.6.1.4.1.3902.1082.1.2.3",
                [("1.3.6.1.4.1.3902.1.1", V2C.OctetString("ZTEGC0FFEE01 online"))],
            )
        )
        is None
    )


# ------------------------------------------------------------------------------ syslog

BLOCK = (
    "ALARM 531377 FAULT MINOR 0x2e11a00b SERVICE QUALITY 2017-12-06 08:19:27+02:00\r\n"
    "ALARM NAME : The dying-gasp of GPON ONTi (DGi) is generated\r\n"
    "PARAMETERS : FrameID: 0, SlotID: 5, PortID: 6, ONT ID: 32, Equipment ID:\r\n"
    "DESCRIPTION : The ONT is power off"
)


def test_the_huawei_dying_gasp_block_as_the_manual_prints_it():
    facts = syslog.huawei_block(syslog.unescape(BLOCK))
    assert facts is not None
    assert (facts.kind, facts.cause, facts.fsp, facts.ont_id) == (ONU_DOWN, POWER, "0/5/6", 32)
    assert facts.at == 1512541167.0  # 2017-12-06 06:19:27 UTC


@pytest.mark.parametrize(
    ("header", "name", "parameters", "kind", "cause"),
    [
        (
            "FAULT MAJOR 0x2e112007 COMMUNICATIONS",
            "The distribute fiber is broken or the OLT cannot receive expected optical signals from the ONT(LOSi/LOBi)",
            "FrameID: 0, SlotID: 1, PortID: 2, ONT ID: 7",
            ONU_DOWN,
            LOSS,
        ),
        (
            "RECOVERY CLEARED 0x2e122007 COMMUNICATIONS",
            "The distribute fiber is broken or the OLT cannot receive expected optical signals from the ONT(LOSi/LOBi)",
            "FrameID: 0, SlotID: 1, PortID: 2, ONT ID: 7",
            ONU_UP,
            LOSS,
        ),
        (
            "FAULT CRITICAL 0x2e112001 COMMUNICATIONS",
            "The feeder fiber is broken or OLT can not receive any expected optical signals(LOS)",
            "FrameID: 0, SlotID: 2, PortID: 6",
            PON_DOWN,
            LOSS,
        ),
        (
            "RECOVERY CLEARED 0x2e122001 COMMUNICATIONS",
            "The feeder fiber is broken or OLT can not receive any expected optical signals(LOS)",
            "FrameID: 0, SlotID: 2, PortID: 6",
            PON_UP,
            LOSS,
        ),
    ],
)
def test_losi_its_recovery_and_pon_los_blocks(header, name, parameters, kind, cause):
    text = f"ALARM 9 {header} 2026-03-05 09:55:28-03:00#015#012ALARM NAME : {name}#015#012PARAMETERS :{parameters}#015#012DESCRIPTION : x"
    facts = syslog.huawei_block(syslog.unescape(text))
    assert facts is not None and (facts.kind, facts.cause) == (kind, cause)
    assert facts.fsp == ("0/1/2" if "ONT ID" in parameters else "0/2/6")


def test_a_block_of_an_alarm_we_do_not_know_and_ordinary_lines_are_not_alarms():
    other = (
        "ALARM 10 FAULT MINOR 0x0a310022 ENVIRONMENT 2026-03-05 09:55:28\nALARM NAME : The fan is faulty\n"
    )
    assert syslog.huawei_block(other) is None
    assert syslog.huawei_block("user noc logged in from 10.0.0.5") is None


def test_syslog_headers_rfc5424_keep_their_time_rfc3164_do_not():
    stamp, body = syslog.split_header(
        "<30>1 2026-03-05T09:55:28.5-03:00 bng accel - - - ppp1:ana: lcp: no echo reply"
    )
    assert stamp == pytest.approx(1772715328.5) and body.startswith("ppp1:ana")
    stamp, body = syslog.split_header("<30>Mar  5 09:55:28 bng accel-pppd: ppp1:ana: lcp: no echo reply")
    assert stamp is None and body == "bng accel-pppd: ppp1:ana: lcp: no echo reply"


def test_concentrator_patterns_builtin_and_configured():
    patterns = syslog.compile_patterns(["accel-ppp"], r"PPPoE (?P<login>\S+) down: keepalive")
    assert syslog.session_end("ppp12:joao.silva: lcp: no echo reply", patterns).login == "joao.silva"
    assert syslog.session_end("PPPoE maria down: keepalive", patterns).cause == LINE
    assert syslog.session_end("<pppoe-maria>: terminating... - peer is not responding", patterns) is None
    assert syslog.session_end("ppp12:joao.silva: connected", patterns) is None


def test_the_tcp_framer_takes_octet_counting_newlines_and_blocks_split_across_reads():
    framer = syslog.StreamFramer()
    block = ("<187>" + BLOCK).encode()
    stream = str(len(block)).encode() + b" " + block + block + b"\n<30>next\n"
    out = []
    for n in range(0, len(stream), 7):
        out += framer.feed(stream[n : n + 7])
    out += framer.flush()
    assert out == [block, block.replace(b"\r\n", b"\n"), b"<30>next"]


def test_the_tcp_framer_cuts_oversized_messages_and_stops_on_a_broken_length():
    framer = syslog.StreamFramer()
    out = framer.feed(b"40000 " + b"x" * 40000 + b"5 <30>a")
    assert [len(m) for m in out] == [syslog.MAX_MESSAGE, 5] and framer.oversized == 1
    broken = syslog.StreamFramer()
    assert broken.feed(b"12x45 hello") == [] and broken.broken
    assert syslog.StreamFramer().feed(b"999") == []  # a length alone waits for the rest


# ------------------------------------------------------------------------------ RADIUS


def stop(secret: bytes = b"s", **attributes: object) -> bytes:
    return bytes(AcctPacket(secret=secret, dict=radius.dictionary(), **attributes).RequestPacket())


def test_accounting_requests_say_what_happened_to_the_session():
    end = radius.read(
        stop(
            User_Name="ana", Acct_Status_Type="Stop", Acct_Terminate_Cause="Lost-Service", Acct_Delay_Time=4
        ),
        b"s",
        "10.0.0.1",
    )
    assert (end.kind, end.cause, end.login, end.nas, end.delay) == (SESSION_END, LINE, "ana", "10.0.0.1", 4.0)
    start = radius.read(
        stop(User_Name="ana", Acct_Status_Type="Start", NAS_IP_Address="10.9.9.9"), b"s", "10.0.0.1"
    )
    assert (start.kind, start.nas) == (SESSION_START, "10.9.9.9")
    restart = radius.read(stop(Acct_Status_Type="Accounting-On"), b"s", "10.0.0.1")
    assert (restart.kind, restart.cause) == (NAS_RESTART, CONCENTRATOR)
    assert radius.read(stop(Acct_Status_Type="Interim-Update"), b"s", "10.0.0.1").kind == ""


def test_an_access_request_or_a_wrong_authenticator_is_refused():
    from pyrad.packet import AuthPacket

    access = bytes(AuthPacket(secret=b"s", dict=radius.dictionary(), User_Name="x").RequestPacket())
    with pytest.raises(radius.Refused, match="não é Accounting-Request"):
        radius.read(access, b"s", "10.0.0.1")
    with pytest.raises(radius.Refused, match="segredo"):
        radius.read(stop(User_Name="x", Acct_Status_Type="Stop"), b"outro", "10.0.0.1")


# ------------------------------------------------------------------------------ index and gathering


def alarm(kind: str = ONU_DOWN, at: float = 100.0, **fields: object) -> Alarm:
    values: dict[str, object] = {
        "source": "snmp",
        "sender": "10.0.0.1",
        "kind": kind,
        "at": at,
        "received": at,
        "olt": "1",
    }
    values.update(fields)
    return Alarm(**values)  # type: ignore[arg-type]


def test_the_index_maps_by_serial_by_learned_ont_and_by_onu_name_on_the_same_olt_only():
    index = LoginIndex()
    index.rebuild(
        [
            Subscriber("ana", id_transmissor="1", onu_mac="485754431A8287A8", interface_transmissao="0/ 5/6"),
            Subscriber("bia", id_transmissor="1", onu_mac="HWTC00000002", interface_transmissao="0/5/6"),
            Subscriber("caio", id_transmissor="2", onu_mac=""),
        ]
    )
    index.learn_onts("1", [Ont("0/5/6", 2, "4857544300000002"), Ont("0/5/6", 3, "", "caio")])
    assert index.resolve(alarm(serial="485754431A8287A8"))[0].login == "ana"
    mapped, ok = index.resolve(alarm(fsp="0/5/6", ont_id=2))
    assert ok and mapped.login == "bia"
    assert index.resolve(alarm(fsp="0/5/6", ont_id=3)) == (
        alarm(fsp="0/5/6", ont_id=3),
        False,
    )  # caio is on OLT 2
    assert index.resolve(alarm(olt="2"), hint="caio")[0].login == "caio"
    assert index.resolve(alarm(kind=PON_DOWN, fsp="0/5/6"))[1] is True
    index.rebuild([])
    assert index.resolve(alarm(fsp="0/5/6", ont_id=2))[1] is False


def test_one_fiber_cut_is_one_gathering_once_its_olt_has_been_quiet_for_the_window():
    cut = [alarm(at=100.0 + n * 0.05, fsp="0/1/2", ont_id=n, login=f"c{n}", cause=LOSS) for n in range(16)]
    repeated = [alarm(source="syslog", at=100.3, fsp="0/1/2", ont_id=3, login="c3", cause=LOSS)]
    other_olt = [alarm(at=102.0, olt="2", fsp="1/1/1", ont_id=1, cause=POWER)]
    ready, waiting = gather(cut + repeated + other_olt, now=104.0, window=3.0)
    assert [g.olt for g in ready] == ["1"] and waiting == other_olt
    [group] = ready
    assert list(group.pons) == ["0/1/2"] and len(group.onus) == 16 and group.duplicates == 1
    assert group.cause == LOSS and group.logins[:2] == ["c0", "c1"]
    assert (group.first, group.last) == (100.0, 100.75)


def test_a_storm_is_handed_over_after_the_longest_gathering_even_if_never_quiet():
    storm = [alarm(at=100.0 + n, ont_id=n, fsp="0/1/1", cause=POWER) for n in range(40)]
    ready, waiting = gather(storm, now=140.0, window=5.0, longest=30.0)
    assert len(ready) == 1 and waiting == [] and ready[0].cause == POWER


def test_recoveries_and_session_starts_are_not_gathered_but_session_ends_are_per_concentrator():
    alarms = [
        alarm(kind=ONU_UP),
        alarm(kind=SESSION_START, olt="", concentrator="10.0.0.1", login="a"),
        alarm(kind=SESSION_END, olt="", concentrator="10.0.0.1", login="a", cause=LINE),
        alarm(kind=SESSION_END, olt="", concentrator="10.0.0.1", login="b", cause=""),
    ]
    ready, _ = gather(alarms, now=200.0)
    assert [(g.concentrator, [s.login for s in g.sessions]) for g in ready] == [("10.0.0.1", ["a"])]


# ------------------------------------------------------------------------------ configuration


def test_alarm_settings_are_off_by_default_and_every_problem_is_listed():
    s, _ = load_settings({}, channels=CHANNELS, erps=ERPS)
    assert not s.alarms.enabled
    _, problems = load_settings(
        {
            "ALARM_SNMP_PORT": "10162",
            "ALARM_SYSLOG_PORT": "10162",
            "ALARM_RADIUS_PORT": "70000",
            "ALARM_CONCENTRATORS": "10.0.0.1, bng-1",
            "ALARM_BNG_LOGS": "accel-ppp,cisco",
            "ALARM_BNG_LOG_PATTERN": "no login group",
            "ALARM_LISTEN_ADDRESS": "em-toda-parte",
        },
        channels=CHANNELS,
        erps=ERPS,
    )
    text = "\n".join(problems)
    for expected in (
        "ALARM_SNMP_PORT e ALARM_SYSLOG_PORT",
        "ALARM_RADIUS_PORT=70000",
        "bng-1",
        "cisco",
        "(?P<login>",
        "ALARM_LISTEN_ADDRESS",
    ):
        assert expected in text


def test_radius_needs_its_secret_and_its_concentrators():
    _, problems = load_settings({"ALARM_RADIUS_PORT": "11813"}, channels=CHANNELS, erps=ERPS)
    assert any("ALARM_RADIUS_SECRET" in p for p in problems)
    assert any("ALARM_CONCENTRATORS" in p for p in problems)


SSH = {"vendor": "huawei", "host": "10.0.0.1", "username": "noc", "password": "senha"}


def test_the_inventory_checks_the_alarm_fields(tmp_path):
    path = tmp_path / "olts.json"
    path.write_text(
        json.dumps(
            [
                {
                    "id_transmissor": "1",
                    "name": "A",
                    **SSH,
                    "snmp_community": "",
                    "addresses": ["10.0.0.300"],
                },
                {"id_transmissor": "2", "name": "B", **SSH, "snmp_port": 0, "addresses": "10.0.0.1"},
                {
                    "id_transmissor": "3",
                    "name": "C",
                    **SSH,
                    "snmp_community": "ok",
                    "addresses": ["10.0.0.3"],
                },
            ]
        )
    )
    settings_, _ = load_settings({"OLT_INVENTORY": str(path)}, channels=CHANNELS, erps=ERPS)
    problems = validate_inventory(settings_, {})
    assert any("OLT A" in p and "snmp_community" in p for p in problems)
    assert any("OLT A" in p and "addresses" in p for p in problems)
    assert any("OLT B" in p and "snmp_port" in p for p in problems)
    assert any("OLT B" in p and "addresses" in p for p in problems)
    assert not any("OLT C" in p for p in problems)
