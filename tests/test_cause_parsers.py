"""The Huawei / ZTE parsers and the classification rule, on real devices' output shapes."""

from __future__ import annotations

import pytest

from outage.adapters.cause import parsers as p

BY_DESC = """display ont info by-desc cliente.login
  Command is being executed. Please wait
  -----------------------------------------------------------------------------
  F/S/P   ONT         SN         Control     Run      Config   Match    Protect
          ID                     flag        state    state    state    side
  -----------------------------------------------------------------------------
  0/ 1/0   73  48575443A1B2C3D4  active      offline  initial  initial  no
  -----------------------------------------------------------------------------
  F/S/P   ONT-ID   Description
  -----------------------------------------------------------------------------
  0/ 1/0      73   cliente.login
  -----------------------------------------------------------------------------
  In port 0/ 1/0 , the total of ONTs are: 1, online: 0

MA5800-X7#"""

DETAIL = """
  F/S/P                   : 0/1/0
  ONT-ID                  : 73
  Control flag            : active
  Run state               : offline
  Description             : cliente.login
  Last down cause         : dying-gasp
  Last up time            : 2026-03-05 08:56:12-03:00
  Last down time          : 2026-03-05 09:55:28-03:00
  Last dying gasp time    : 2026-03-05 09:55:28-03:00
"""

SUMMARY = """  Command is being executed. Please wait
  ------------------------------------------------------------------------------
  In port 0/ 1/2, the total of ONTs are: 4, online: 1
  ------------------------------------------------------------------------------
  ONT  Run     Last                Last                Last
  ID   State   UpTime              DownTime            DownCause
  ------------------------------------------------------------------------------
  0    online  2026-03-01 10:11:12 2026-02-28 09:00:01 dying-gasp
  1    offline 05/03/2026 08:00:00 05/03/2026 09:55:28 LOS
  2    offline -                   -                   -
  3    offline 2026-03-01 10:11:12 2026-03-05 09:55:30 ONT is reset by ONT comma
  ------------------------------------------------------------------------------
  ONT        SN        Type          Distance Rx/Tx power  Description
  ID                                    (m)      (dBm)
  ------------------------------------------------------------------------------
  0   48575443A1B2C3D0 HG8245H       1234   -20.12/2.10    ana.silva
  1   48575443A1B2C3D1 HG8245H       -      -/-            bruno
  2   48575443A1B2C3D2 -             -      -/-
  3   48575443A1B2C3D3 HG8245H       800    -19.00/2.00    carla
  ------------------------------------------------------------------------------
"""

ZTE_STATE = """show gpon onu state gpon-olt_1/2/1
OnuIndex   Admin State  OMCC State  Phase State  Channel
--------------------------------------------------------------
1/2/1:1     enable       enable      working      1(GPON)
1/2/1:4     enable       disable     LOS          1(GPON)
1/2/1:5     enable       disable     DyingGasp    1(GPON)
ONU Number: 3/3
ZXAN#"""

ZTE_STATE_C600 = """OnuIndex            Admin State  OMCC State  Phase state  Speed mode
------------------------------------------------------------------------
gpon-onu_1/2/1:7    enable       disable     OffLine      GPON
"""

ZTE_DETAIL = """ONU interface:          gpon-onu_1/2/1:4
Name:                   cliente.login
Type:                   F601
State:                  ready
Phase state:            LOS
Serial number:          ZTEGC0A1B2C3
Description:            cliente.login
Online Duration:        0h 0m 0s
------------------------------------------
   Authpass Time          OfflineTime             Cause
   1   2026-03-02 11:05:00    2026-03-05 09:55:28     LOS
   2   2026-03-01 10:00:00    2026-03-02 11:00:00     DyingGasp
   3   2026-03-05 10:00:00    2026-03-05 12:00:00     DyingGasp
   4   2026-02-01 10:00:00    2026-02-02 11:00:00     LOS
   5   0000-00-00 00:00:00    0000-00-00 00:00:00
   6   0000-00-00 00:00:00    0000-00-00 00:00:00
   7   0000-00-00 00:00:00    0000-00-00 00:00:00
   8   0000-00-00 00:00:00    0000-00-00 00:00:00
   9   0000-00-00 00:00:00    0000-00-00 00:00:00
   10  0000-00-00 00:00:00    0000-00-00 00:00:00
------------------------------------------
"""


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("dying-gasp", "energia"),
        ("DyingGasp", "energia"),
        ("LOS", "loss"),
        ("LOSi/LOBi", "loss"),
        ("LOFi", "loss"),
        ("-", "sem_voto"),
        ("", "sem_voto"),
        ("ONT is reset by ONT comma", "sem_voto"),
        ("deactive ONT", "sem_voto"),
        ("ring", "sem_voto"),
        ("authentication fail", "sem_voto"),
        ("dying-ga", "sem_voto"),
    ],
)
def test_it_classifies_raw_down_causes(raw, expected):
    assert p.classify(raw) == expected


def test_it_reads_by_desc_with_spaces_inside_fsp_and_the_busy_notice():
    (ont,) = p.parse_huawei_ont_table(BY_DESC)
    assert (ont.fsp, ont.ont_id, ont.sn, ont.run_state) == ("0/1/0", 73, "48575443A1B2C3D4", "offline")
    assert ont.description == "cliente.login"


def test_it_reads_the_ont_detail_key_values():
    ont = p.parse_huawei_ont_detail(DETAIL)
    assert ont is not None
    assert (ont.fsp, ont.ont_id, ont.last_down_cause) == ("0/1/0", 73, "dying-gasp")
    assert ont.last_down_time == "2026-03-05 09:55:28-03:00"


def test_it_returns_none_for_a_parameter_error():
    text = "display ont info 0 1 0 999\n               ^\n  % Parameter error, the error locates at '^'\n"
    assert p.parse_huawei_ont_detail(text) is None
    assert p.cli_error(text).startswith("% Parameter error")
    assert p.cli_error(DETAIL) == ""


def test_it_reads_a_whole_port_summary_with_dashes_dmy_dates_and_truncated_causes():
    onts = {o.ont_id: o for o in p.parse_huawei_summary(SUMMARY)}
    assert set(onts) == {0, 1, 2, 3}
    assert onts[0].fsp == "0/1/2"
    assert (onts[1].last_down_cause, onts[1].last_down_time) == ("LOS", "05/03/2026 09:55:28")
    assert onts[1].description == "bruno"
    assert onts[2].last_down_cause == "-" and onts[2].description == ""
    assert onts[3].last_down_cause == "ONT is reset by ONT comma"
    assert onts[3].sn == "48575443A1B2C3D3"


def test_it_reads_zte_onu_state_on_c300_and_c600():
    rows = p.parse_zte_onu_state(ZTE_STATE)
    assert [(r.pon, r.onu_id, r.phase_state) for r in rows] == [
        ("1/2/1", 1, "working"),
        ("1/2/1", 4, "LOS"),
        ("1/2/1", 5, "DyingGasp"),
    ]
    (c600,) = p.parse_zte_onu_state(ZTE_STATE_C600)
    assert (c600.pon, c600.onu_id, c600.phase_state) == ("1/2/1", 7, "OffLine")


def test_it_takes_the_latest_row_of_an_unordered_zte_history():
    detail = p.parse_zte_onu_detail(ZTE_DETAIL)
    assert detail is not None
    assert (detail.pon, detail.onu_id, detail.name) == ("1/2/1", 4, "cliente.login")
    assert (detail.last_down_cause, detail.last_down_time) == ("DyingGasp", "2026-03-05 12:00:00")
    assert detail.serial == "ZTEGC0A1B2C3"


def test_it_compares_zte_history_dates_in_dmy_format():
    text = ZTE_DETAIL.replace("2026-03-05 12:00:00", "01/03/2026 12:00:00").replace(
        "2026-03-05 09:55:28", "05/03/2026 09:55:28"
    )
    detail = p.parse_zte_onu_detail(text)
    assert detail is not None
    assert (detail.last_down_cause, detail.last_down_time) == ("LOS", "2026-03-05 09:55:28")


def test_a_zte_onu_that_never_dropped_has_no_cause():
    lines = [line for line in ZTE_DETAIL.splitlines() if "2026" not in line]
    detail = p.parse_zte_onu_detail("\n".join(lines))
    assert detail is not None and detail.last_down_cause == ""


@pytest.mark.parametrize(
    ("text", "fsp"),
    [
        ("0/ 1/0", "0/1/0"),
        ("GPON 0/1/2", "0/1/2"),
        ("gpon-olt_1/2/1", "1/2/1"),
        ("gpon-onu_1/2/1:4", "1/2/1"),
        ("", ""),
    ],
)
def test_it_normalizes_port_names(text, fsp):
    assert p.normalize_fsp(text) == fsp


def test_it_converts_serials_between_hex_and_vendor_forms():
    assert p.serial_forms("485754431A8287A8") == ("485754431A8287A8", "HWTC1A8287A8")
    assert p.serial_forms("ZTEGC0A1B2C3") == ("5A544547C0A1B2C3", "ZTEGC0A1B2C3")
    assert p.serial_forms("aa:bb") == ("", "")


def test_it_finds_onu_indexes_in_a_zte_search():
    assert p.parse_zte_search("SearchResult\n-----------------\ngpon-onu_1/2/1:4\nZXAN#") == [("1/2/1", 4)]


# --- outputs as real devices print them ---------------------------------------------------

HUAWEI_BY_SN = """display ont info by-sn 48575443A1B2C3D4
{ <cr>||<K> }:
  -----------------------------------------------------------------------------
  F/S/P                   : 0/1/0
  ONT-ID                  : 73
  Control flag            : active
  Run state               : offline
  Config state            : initial
  Match state             : initial
  DBA type                : SR
  ONT distance(m)         : -
  ONT last distance(m)    : 1203
  ONT battery state       : not support
  Memory occupation       : -
  CPU occupation          : -
  Temperature             : -
  Authentic type          : SN-auth
  SN                      : 48575443A1B2C3D4 (HWTC-A1B2C3D4)
  Management mode         : OMCI
  Software work mode      : normal
  Isolation state         : normal
  ONT IP 0 address/mask   : -
  Description             : descricao antiga
  Last down cause         : LOSi/LOBi
  Last up time            : 05/03/2026 08:56:12-03:00
  Last down time          : 05/03/2026 09:55:28-03:00
  Last dying gasp time    : -
  ONT online duration     : -
  ONT system up duration  : -
  Type C support          : Not support
  Interoperability-mode   : ITU-T
  Power reduction status  : -
  FEC upstream state      : use-profile-config
  VS-ID                   : 0
  VS name                 : admin-vs
  Global ONT-ID           : 73
  Final Port Isolation    : -
  -----------------------------------------------------------------------------
  VoIP configure method   : Default
  -----------------------------------------------------------------------------
  Line profile ID      : 10
  Line profile name    : line-profile_10
  -----------------------------------------------------------------------------
  FEC upstream switch       :Disable
  OMCC encrypt switch       :Off
  Qos mode                  :PQ
  Mapping mode              :VLAN
  TR069 management          :Disable
  TR069 IP index            :0
  -----------------------------------------------------------------------------
  Notes: * indicates Discrete TCONT(TCONT Unbound)
  -----------------------------------------------------------------------------
  <T-CONT   0>          DBA Profile-ID:1
  <T-CONT   1>          DBA Profile-ID:10
   <Gem Index 1>
   --------------------------------------------------------------------------
   |Serv-Type:ETH |Encrypt:off     |Cascade:off |GEM-CAR:-        |
   |Upstream-priority-queue:0  |Downstream-priority-queue:-             |
   --------------------------------------------------------------------------
    Mapping VLAN  Priority Port Port  Bundle Flow  Transparent
    index                  type ID    ID     CAR
    -------------------------------------------------------------------------
     1      100   -        -    -     -      -     -
   --------------------------------------------------------------------------
  -----------------------------------------------------------------------------
  Service profile ID   : 10
  Service profile name : srv-profile_10
  -----------------------------------------------------------------------------
  Port-type     Port-number     Max-adaptive-number
  -----------------------------------------------------------------------------
  POTS          adaptive        32
  ETH           adaptive        8
  -----------------------------------------------------------------------------
  Multicast mode                   : Unconcern
  Upstream IGMP packet forward mode : Unconcern
  -----------------------------------------------------------------------------
  Alarm policy profile ID   : 0
  Alarm policy profile name : alarm-policy_0
  -----------------------------------------------------------------------------

MA5608T#"""

HUAWEI_BOARD_SUMMARY = """  Command is being executed. Please wait
  ------------------------------------------------------------------------------
  In port 0/1/0, the total number of ONTs are: 3, online: 1, offline: 2
  ------------------------------------------------------------------------------
  ONT  Run     Last                Last                Last
  ID   State   UpTime              DownTime            DownCause
  ------------------------------------------------------------------------------
  0    online  5/3/2026 10:11:12   4/3/2026 09:00:01   dying-gasp
  1    offline 1/1/2000 00:00:00   1/1/2000 00:00:00   LOSi/LOBi
  12   offline 28/2/2026 08:00:00  5/3/2026 09:55:28   LOSi/LOBi
  ------------------------------------------------------------------------------
  ONT        SN        Type          Distance Rx/Tx power  Description
  ID                                    (m)      (dBm)
  ------------------------------------------------------------------------------
  0   48575443A1B2C300 HG8245H       1203   -20.51/2.12  ana.silva
  1   48575443A1B2C301 HG8245H       -      -/-          bruno costa
  12  48575443A1B2C30C HG8245H       -      -/-          carla
  ------------------------------------------------------------------------------
  ------------------------------------------------------------------------------
  In port 0/1/1, the total of ONTs are: 2, online: 0
  ------------------------------------------------------------------------------
  ONT  Run     Last                Last                Last
  ID   State   UpTime              DownTime            DownCause
  ------------------------------------------------------------------------------
  0    offline 2026-03-01 10:11:12 2026-03-05 09:55:30 dying-gasp
  1    offline -                   -                   -
  ------------------------------------------------------------------------------
  ONT        SN        Type          Distance Rx/Tx power  Description
  ID                                    (m)      (dBm)
  ------------------------------------------------------------------------------
  0   48575443A1B2C310 HG8245H       -      -/-          davi
  1   48575443A1B2C311 -             -      -/-
  ------------------------------------------------------------------------------
"""

C600_STATE = """OnuIndex                 Admin State  OMCC State  Phase state  Speed mode
----------------------------------------------------------------------------
gpon_onu-1/4/1:1         enable       enable      working      GPON
gpon_onu-1/4/1:2         enable       disable     LOS          GPON
gpon_onu-1/4/1:3         enable       disable     DyingGasp    GPON
ONU Number: 3/3
"""

C600_DETAIL = """  ONU interface:          gpon_onu-1/4/1:2
  Name:                   cliente.c600
  Type:                   F601
  State:                  ready
  Configured channel:     1(GPON)
  Current channel:        1(GPON)
  Admin state:            enable
  Phase state:            LOS
  Config state:           success
  Authentication mode:    sn
  SN Bind:                enable with SN check
  Serial number:          ZTEGC0A1B2C3
  Password:
  Description:            cliente.c600
  Vport mode:             gemport
  DBA Mode:               Hybrid
  ONU Status:             enable
  OMCI BW Profile:        No
  Line Profile:           N/A
  Service Profile:        N/A
  Alarm profile:          N/A
  Performance profile:    N/A
  ONU Distance:           -
  Online Duration:        0h 0m 0s
  FEC:                    none
  FEC actual mode:        none
  1PPS+ToD:               disable
  Auto replace:           disable
  Multicast mode:         Unconcern
----------------------------------------------------------------------------
   Authpass Time          OfflineTime             Cause
   1   2026-01-12 10:05:00    2026-01-20 03:00:00     DyingGasp
   2   2026-01-10 08:00:00    2026-01-12 10:00:00     LOS
   3   2026-03-05 08:56:12    2026-03-05 09:55:28     LOS
   4   0000-00-00 00:00:00    0000-00-00 00:00:00
   5   0000-00-00 00:00:00    0000-00-00 00:00:00
   6   0000-00-00 00:00:00    0000-00-00 00:00:00
   7   0000-00-00 00:00:00    0000-00-00 00:00:00
   8   0000-00-00 00:00:00    0000-00-00 00:00:00
   9   0000-00-00 00:00:00    0000-00-00 00:00:00
   10  0000-00-00 00:00:00    0000-00-00 00:00:00
----------------------------------------------------------------------------
"""


def test_it_reads_huawei_by_sn_as_the_detail_block_despite_the_tcont_sections():
    ont = p.parse_huawei_ont_detail(HUAWEI_BY_SN)
    assert ont is not None
    assert (ont.fsp, ont.ont_id, ont.sn, ont.run_state) == ("0/1/0", 73, "48575443A1B2C3D4", "offline")
    assert (ont.description, ont.last_down_cause) == ("descricao antiga", "LOSi/LOBi")
    assert ont.last_down_time == "05/03/2026 09:55:28-03:00"
    assert p.parse_huawei_ont_table(HUAWEI_BY_SN) == []  # not a table: the old reading found nothing


def test_a_summary_of_a_board_holds_each_port_after_its_own_in_port_line():
    onts = {(o.fsp, o.ont_id): o for o in p.parse_huawei_summary(HUAWEI_BOARD_SUMMARY)}
    assert set(onts) == {("0/1/0", 0), ("0/1/0", 1), ("0/1/0", 12), ("0/1/1", 0), ("0/1/1", 1)}
    assert onts[("0/1/1", 0)].description == "davi" and onts[("0/1/0", 0)].description == "ana.silva"
    assert onts[("0/1/0", 1)].description == "bruno costa"
    assert onts[("0/1/1", 0)].last_down_cause == "dying-gasp"


def test_summary_rows_with_one_digit_dates_are_read_and_offline_losi_lobi_rows_vote():
    onts = {(o.fsp, o.ont_id): o for o in p.parse_huawei_summary(HUAWEI_BOARD_SUMMARY)}
    clock_reset = onts[("0/1/0", 1)]
    assert (clock_reset.run_state, clock_reset.last_down_cause) == ("offline", "LOSi/LOBi")
    assert clock_reset.last_down_time == "1/1/2000 00:00:00"
    assert p.classify(clock_reset.last_down_cause) == "loss"
    assert onts[("0/1/0", 12)].last_up_time == "28/2/2026 08:00:00"


def test_it_reads_c600_state_rows_detail_and_search_in_the_titan_spelling():
    rows = p.parse_zte_onu_state(C600_STATE)
    assert [(r.pon, r.onu_id, r.phase_state) for r in rows] == [
        ("1/4/1", 1, "working"),
        ("1/4/1", 2, "LOS"),
        ("1/4/1", 3, "DyingGasp"),
    ]
    detail = p.parse_zte_onu_detail(C600_DETAIL)
    assert detail is not None
    assert (detail.pon, detail.onu_id, detail.phase_state) == ("1/4/1", 2, "LOS")
    assert (detail.last_down_cause, detail.last_down_time) == ("LOS", "2026-03-05 09:55:28")
    assert detail.serial == "ZTEGC0A1B2C3" and detail.description == "cliente.c600"
    assert p.parse_zte_search("SearchResult\n-----------------\ngpon_onu-1/4/1:2\n") == [("1/4/1", 2)]


@pytest.mark.parametrize(
    ("text", "index"),
    [
        ("gpon-onu_1/2/1:4", ("1/2/1", 4)),
        ("gpon_onu-1/4/1:2", ("1/4/1", 2)),
        ("GPON_ONU-1/4/1:12", ("1/4/1", 12)),
        ("gpon_olt-1/4/1", None),
        ("", None),
    ],
)
def test_it_reads_zte_onu_indexes_in_both_spellings(text, index):
    assert p.zte_onu_index(text) == index


def test_pon_names_in_the_titan_spelling_normalize_too():
    assert p.normalize_fsp("gpon_olt-1/4/1") == "1/4/1"


@pytest.mark.parametrize(
    "line",
    [
        "%Error 140303: Invalid input detected at '^' marker.",
        "%Error 20200: Invalid input detected at '^' marker.",
        "%Code 32310-GPONSRV : ONU does not exist.",
        "  Failure: The ONT does not exist",
        "  % Unknown command, the error locates at '^'",
    ],
)
def test_every_device_error_form_is_recognised(line):
    assert p.cli_error(f"show x\n{line}\nZXAN#") == line.strip()


def test_the_model_comes_from_show_version():
    assert p.parse_zte_model("ZXA10 C650 Software, Version: V1.2.1, Release software") == "C650"
    assert p.parse_zte_model("ZXA10 c320 Software") == "C320"
    assert p.parse_zte_model("Huawei Integrated Access Software") == ""


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("2026-03-05 09:55:28-03:00", "2026-03-05 09:55:28-03:00"),
        ("05/03/2026 09:55:28", "2026-03-05 09:55:28"),
        ("5/3/2026 09:55:28", "2026-03-05 09:55:28"),
        ("1/1/2000 00:00:00", "2000-01-01 00:00:00"),
        ("0000-00-00 00:00:00", ""),
        ("-", ""),
    ],
)
def test_olt_dates_normalize_from_every_form(raw, normalized):
    assert p.olt_time(raw) == normalized


def test_a_more_prompt_in_the_middle_of_a_line_is_erased_like_a_terminal_would():
    erase = "\b" * 8 + " " * 8 + "\b" * 8
    raw = f"gpon_onu-1/4/1:2   enable    disa--More--{erase}ble   LOS   GPON\nONU Number: 1/1"
    assert p.screen_text(raw, ["--More--"]) == (
        "gpon_onu-1/4/1:2   enable    disable   LOS   GPON\nONU Number: 1/1"
    )


def test_a_more_prompt_erased_with_cursor_moves_or_not_at_all_leaves_no_trace():
    more = "---- More ( Press 'Q' to break ) ----"
    raw = f"  0    offline\n{more}\x1b[37D{' ' * 37}\x1b[37D\n  1    offline\nab--More--cd"
    assert p.screen_text(raw, [more, "--More--"]) == "  0    offline\n\n  1    offline\nabcd"
