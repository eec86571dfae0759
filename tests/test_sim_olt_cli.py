"""The SSH emulator speaks each real Huawei and ZTE variant, read through a plain
terminal session (netmiko's `terminal_server`: no vendor logic of ours in between)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from netmiko import BaseConnection, ConnectHandler

from simulator.olt_cli import OltEmulator

DOWN = "2026-03-05 09:55:28-03:00"
UP = "2026-01-07 08:56:12-03:00"


def onu(pon: str, ont_id: int, cause: str = "LOS", serial: str = "48575443") -> dict[str, Any]:
    return {
        "fsp": pon,
        "ont_id": ont_id,
        "sn": f"{serial}{ont_id:04X}{int(pon.split('/')[2]):04X}",
        "description": f"cliente{ont_id}",
        "run_state": "offline",
        "last_down_cause": cause,
        "last_down_time": DOWN,
        "last_up_time": UP,
    }


@contextmanager
def terminal(olt: OltEmulator) -> Iterator[BaseConnection]:
    conn = ConnectHandler(
        device_type="terminal_server", host=olt.host, port=olt.port, username="noc", password="noc-secret"
    )
    try:
        yield conn
    finally:
        conn.disconnect()


def ask(conn: BaseConnection, command: str, until: str = r"[#>]\s*$") -> str:
    """Send a command; the answer after its echo, to the prompt, pressing space at every `--More--`."""
    conn.write_channel(command + "\n")
    return read_answer(conn, until, after=command)


def read_answer(conn: BaseConnection, until: str = r"[#>]\s*$", after: str = "") -> str:
    text = ""
    while True:
        text += conn.read_until_pattern(rf"--More--|Press 'Q' to break \) ----|{until}", read_timeout=10)
        if text.rstrip().endswith(("--More--", "----")):
            conn.write_channel(" ")
        elif after in text:
            return text.split(after, 1)[1] if after else text


ZTE_ONUS = [onu("1/4/1", n, "DyingGasp", "5A544547") for n in range(1, 4)]


@pytest.mark.parametrize(
    ("model", "olt_name", "onu_name", "error"),
    [
        ("C320", "gpon-olt_1/4/1", "gpon-onu_1/4/1:2", "%Error 20200"),
        ("C600", "gpon_olt-1/4/1", "gpon_onu-1/4/1:2", "%Error 140303: Invalid input detected"),
    ],
)
def test_each_zte_family_answers_its_own_spelling_and_rejects_the_other(model, olt_name, onu_name, error):
    other_olt = "gpon-olt_1/4/1" if model == "C600" else "gpon_olt-1/4/1"
    with OltEmulator("zte", ZTE_ONUS, model=model) as olt, terminal(olt) as conn:
        version = ask(conn, "show version")
        state = ask(conn, f"show gpon onu state {olt_name}")
        detail = ask(conn, f"show gpon onu detail-info {onu_name}")
        rejected = ask(conn, f"show gpon onu state {other_olt}")
    assert f"ZXA10 {model}" in version
    assert "ONU Number: 3/3" in state and "DyingGasp" in state
    assert re.search(rf"ONU interface:\s+{re.escape(onu_name)}", detail)
    assert "Authpass Time" in detail and "OfflineTime" in detail
    assert error in rejected and "ONU Number" not in rejected


def test_a_c600_keeps_paging_after_terminal_length_0_and_pauses_mid_line():
    many = [onu("1/4/1", n, "LOS", "5A544547") for n in range(1, 30)]
    with OltEmulator("zte", many, model="C600", page_lines=10) as olt, terminal(olt) as conn:
        ask(conn, "terminal length 0")
        conn.write_channel("show gpon onu state gpon_olt-1/4/1\n")
        first_page = conn.read_until_pattern(r"--More--")
        conn.write_channel("q")
        conn.read_until_pattern(r"ZXAN#")
    last_line = first_page.replace("\r", "").split("\n")[-1]
    assert last_line.endswith("--More--") and last_line != "--More--"  # cut in the middle of a row


def test_huawei_by_sn_prints_the_detail_block_with_its_tcont_and_profile_sections():
    target = onu("0/1/0", 7, "dying-gasp")
    with OltEmulator("huawei", [target], smart_prompt=False) as olt, terminal(olt) as conn:
        ask(conn, "enable")
        ask(conn, "undo smart")
        ask(conn, "scroll")
        detail = ask(conn, f"display ont info by-sn {target['sn']}")
    lines = [line for line in detail.replace("\r", "").split("\n") if " : " in line or "  :" in line]
    assert len(lines) >= 35
    assert re.search(r"F/S/P\s+: 0/1/0", detail) and re.search(r"Last down cause\s+: dying-gasp", detail)
    assert "<T-CONT   1>" in detail and "Line profile name" in detail


def test_a_huawei_board_summary_holds_every_port_with_one_digit_dates_and_losi_lobi():
    onus = [onu("0/1/0", 1), onu("0/1/1", 2), onu("0/1/1", 3, "dying-gasp")]
    with OltEmulator("huawei", onus, model="MA5608T") as olt, terminal(olt) as conn:
        ask(conn, "enable")
        ask(conn, "undo smart")
        ask(conn, "scroll")
        summary = ask(conn, "display ont info summary 0/1")
    ports = re.findall(r"In port (\d+/\d+/\d+), the total number of ONTs are: (\d+)", summary)
    assert ports == [("0/1/0", "1"), ("0/1/1", "2")]
    assert re.search(r"^\s*1\s+offline\s+7/1/2026 08:56:12\s+5/3/2026 09:55:28\s+LOSi/LOBi", summary, re.M)


@pytest.mark.parametrize("smart_prompt", [True, False])
def test_the_huawei_smart_question_appears_only_where_undo_smart_does_not_take(smart_prompt):
    with OltEmulator("huawei", [onu("0/1/0", 1)], smart_prompt=smart_prompt) as olt, terminal(olt) as conn:
        ask(conn, "enable")
        ask(conn, "undo smart")
        answer = ask(conn, "display ont info 0 1 0 1", until=r"\}:\s*$|#\s*$")
        if smart_prompt:
            conn.write_channel("\n")
            answer += read_answer(conn)
    assert ("{ <cr>||<K> }:" in answer) is smart_prompt
    assert re.search(r"Last down cause\s+: LOS", answer)
