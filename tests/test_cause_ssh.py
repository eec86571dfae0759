"""Huawei and ZTE backends driven through netmiko against the real local SSH emulator."""

from __future__ import annotations

import time

import pytest
from netmiko import ConnectHandler

from outage.adapters.cause.analyzer import CompositeAnalyzer
from outage.adapters.cause.backend import Sources
from outage.adapters.cause.huawei import HuaweiBackend
from outage.adapters.cause.inventory import OltEntry
from outage.adapters.cause.ssh import CommandRejected
from outage.core.model import Subscriber
from simulator.olt_cli import HUAWEI_MORE, OltEmulator

DOWN = "2026-03-05 09:55:28-03:00"
UP = "2026-03-05 08:56:12-03:00"


def onu(pon: str, ont_id: int, login: str, cause: str, state: str = "offline") -> dict:
    return {
        "fsp": pon,
        "ont_id": ont_id,
        "sn": f"48575443{ont_id:04X}{int(pon.split('/')[2]):04X}",
        "description": login,
        "run_state": state,
        "last_down_cause": cause,
        "last_down_time": DOWN,
        "last_up_time": UP,
    }


def entry(
    olt: OltEmulator,
    name: str = "OLT-CENTRO",
    ident: str = "1",
    password: str = "noc-secret",
    model: str = "",
) -> OltEntry:
    return OltEntry(ident, name, olt.vendor, olt.host, olt.port, "noc", password, model=model)


def sub(login: str, ident: str = "1", interface: str = "", onu_mac: str = "", cto: str = "") -> Subscriber:
    return Subscriber(
        login=login, id_transmissor=ident, interface_transmissao=interface, onu_mac=onu_mac, id_caixa_ftth=cto
    )


def analyze(entries: list[OltEntry], subscribers: list[Subscriber], budget: float = 15.0, **kwargs):
    analyzer = CompositeAnalyzer({e.id_transmissor: e for e in entries}, olt_timeout=budget, **kwargs)
    return analyzer.analyze(subscribers, deadline=time.monotonic() + budget)


@pytest.fixture
def huawei_onus() -> list[dict]:
    return [onu("0/1/0", i, f"ana{i}", "dying-gasp") for i in range(4)] + [
        onu("0/1/1", 9, "bia9", "dying-gasp"),
        onu("0/1/1", 10, "caio10", "ONT is reset by ONT command"),
    ]


def test_netmiko_logs_in_and_prepares_the_huawei_session_like_on_a_real_olt():
    with OltEmulator("huawei", [onu("0/1/0", 73, "cliente.login", "dying-gasp")]) as olt:
        conn = ConnectHandler(
            device_type="huawei_smartax", host=olt.host, port=olt.port, username="noc", password="noc-secret"
        )
        assert conn.base_prompt == "MA5800-X7"
        conn.enable()
        output = conn.send_command("display ont info 0 1 0 73")
        conn.config_mode()
        assert conn.check_config_mode()
        conn.exit_config_mode()
        conn.disconnect()
    assert "Last down cause         : dying-gasp" in output
    assert olt.commands[:5] == ["undo smart", "enable", "infoswitch cli OFF", "disable", "scroll"]
    assert olt.commands[-1] == "quit"


def test_the_huawei_emulator_pages_and_asks_smart_prompts_until_told_not_to():
    many = [onu("0/1/0", i, f"c{i}", "LOS") for i in range(12)]
    with OltEmulator("huawei", many, page_lines=10) as olt:
        conn = ConnectHandler(
            device_type="terminal_server", host=olt.host, port=olt.port, username="noc", password="noc-secret"
        )
        conn.write_channel("enable\n")
        conn.read_until_pattern(r"#")
        conn.write_channel("display ont info summary 0/1/0\n")
        smart = conn.read_until_pattern(r"\}:")
        conn.write_channel("\n")
        paged = conn.read_until_pattern(r"Press 'Q' to break")
        conn.write_channel("q")
        conn.read_until_pattern(r"#")
        conn.disconnect()
    assert "{ <cr>||<K> }:" in smart
    assert HUAWEI_MORE.split("(")[0] in paged


def test_huawei_power_cut_is_energia_with_evidence_and_one_session(huawei_onus):
    subs = [sub(f"ana{i}") for i in range(4)] + [sub("bia9"), sub("caio10")]
    with OltEmulator("huawei", huawei_onus) as olt:
        report = analyze([entry(olt)], subs, sample_size=6)
    assert report.motivo == "energia"
    assert report.votos == {"energia": 5, "loss": 0, "concentrador": 0, "sem_voto": 1}
    assert olt.sessions_opened == 1
    ev = {e["login"]: e for e in report.evidencias}
    assert ev["ana0"]["fsp"] == "0/1/0" and ev["ana0"]["causa_bruta"] == "dying-gasp"
    assert ev["ana0"]["caiu_em"].startswith("2026-03-05 09:55:28")
    assert ev["caio10"]["classificacao"] == "sem_voto"
    # Each port found by description is read once; its summary answers for the other ONUs on it.
    assert [c for c in olt.commands if c.startswith("display")] == [
        "display ont info by-desc ana0",
        "display ont info summary 0/1/0",
        "display ont info by-desc bia9",
        "display ont info summary 0/1/1",
    ]
    assert report.local == "PONs 0/1/0 e 0/1/1 da OLT-CENTRO"


def test_huawei_reads_a_whole_pon_with_one_summary_when_the_erp_names_the_port():
    onus = [onu("0/1/2", i, f"c{i}", "LOS") for i in range(8)]
    subs = [sub(f"c{i}", interface="0/1/2", cto="") for i in range(8)]
    with OltEmulator("huawei", onus) as olt:
        report = analyze([entry(olt)], subs)
    assert report.motivo == "loss"
    assert report.votos["loss"] == 5
    displays = [c for c in olt.commands if c.startswith("display")]
    assert displays == ["display ont info summary 0/1/2"]
    assert report.local.startswith("PON 0/1/2 da OLT-CENTRO")
    assert report.local_detalhe["provavel_cto"] is True


def test_onus_the_erp_places_on_the_wrong_pon_are_found_elsewhere_and_vote_once():
    onus = [onu("0/1/1", i, f"c{i}", "dying-gasp") for i in range(3)]
    with OltEmulator("huawei", onus) as olt:
        report = analyze([entry(olt)], [sub(f"c{i}", interface="0/1/0") for i in range(3)])
    assert sorted(e["login"] for e in report.evidencias) == ["c0", "c1", "c2"]
    assert report.votos["energia"] == 3 and report.erros == []
    assert [c for c in olt.commands if c.startswith("display")] == [
        "display ont info summary 0/1/0",
        "display ont info by-desc c0",
        "display ont info summary 0/1/1",
    ]


def test_an_onu_gone_from_its_port_summary_is_asked_for_alone_and_its_absence_reported():
    onus = [onu("0/1/3", 1, "a1", "dying-gasp"), onu("0/1/3", 2, "a2", "dying-gasp")]
    reads = []

    def deleted_after_the_lookup() -> list[dict]:
        reads.append(1)
        return onus if len(reads) == 1 else onus[1:]

    with OltEmulator("huawei", deleted_after_the_lookup) as olt:
        report = analyze([entry(olt)], [sub("a1"), sub("a2")])
    assert [c for c in olt.commands if c.startswith("display")] == [
        "display ont info by-desc a1",
        "display ont info summary 0/1/3",
        "display ont info 0 1 3 1",
    ]
    assert [e["login"] for e in report.evidencias] == ["a2"]
    assert any("The ONT does not exist" in error for error in report.erros)


def test_huawei_finds_an_onu_by_serial_when_the_description_is_not_the_login():
    data = onu("0/1/0", 5, "descricao-antiga", "LOS")
    with OltEmulator("huawei", [data]) as olt:
        report = analyze([entry(olt)], [sub("novo.login", onu_mac=data["sn"])])
    assert report.evidencias[0]["ont_id"] == 5
    assert report.evidencias[0]["fonte"] == "display ont info by-sn"
    # The detail block by serial already holds the cause: no further command for that ONU.
    assert [c for c in olt.commands if c.startswith("display")] == [
        "display ont info by-desc novo.login",
        "display ont info by-sn " + data["sn"],
    ]
    assert report.motivo == "loss"  # one sampled ONU: one vote is enough


def test_an_onu_found_by_serial_leads_to_one_summary_for_the_others_on_its_port():
    onus = [onu("0/1/3", n, f"velha{n}", "dying-gasp") for n in range(1, 4)]
    subs = [sub("nova1", onu_mac=onus[0]["sn"]), sub("velha2"), sub("velha3")]
    with OltEmulator("huawei", onus) as olt:
        report = analyze([entry(olt)], subs)
    assert report.motivo == "energia" and report.votos["energia"] == 3
    assert [c for c in olt.commands if c.startswith("display")] == [
        "display ont info by-desc nova1",
        "display ont info by-sn " + onus[0]["sn"],
        "display ont info summary 0/1/3",
    ]


def test_huawei_answers_the_smart_question_when_undo_smart_does_not_take():
    onus = [onu("0/1/0", n, f"c{n}", "dying-gasp") for n in range(3)]
    with OltEmulator("huawei", onus, smart_prompt=True) as olt:
        report = analyze([entry(olt)], [sub(f"c{n}", interface="0/1/0") for n in range(3)], budget=8)
    assert report.erros == []
    assert report.motivo == "energia" and report.votos["energia"] == 3
    assert "undo smart" in olt.commands and "scroll" in olt.commands


def test_huawei_reads_one_digit_dates_and_losi_lobi_as_the_olt_prints_them():
    onus = [onu("0/1/0", n, f"c{n}", "LOS") for n in range(3)]
    with OltEmulator("huawei", onus, model="MA5608T", date_style="dmy-short") as olt:
        report = analyze([entry(olt)], [sub(f"c{n}", interface="0/1/0") for n in range(3)])
    assert report.motivo == "loss" and report.votos["loss"] == 3
    assert {e["causa_bruta"] for e in report.evidencias} == {"LOSi/LOBi"}
    assert {e["caiu_em"] for e in report.evidencias} == {"2026-03-05 09:55:28"}


def test_an_onu_missing_from_the_olt_is_a_clear_error_and_no_vote():
    with OltEmulator("huawei", [onu("0/1/0", 1, "x", "LOS")]) as olt:
        report = analyze([entry(olt)], [sub("fantasma"), sub("outro")])
    assert report.motivo == "indeterminado"
    assert any("fantasma não encontrada na OLT OLT-CENTRO" in e for e in report.erros)


def test_wrong_credentials_give_indeterminado_and_a_reason_without_the_password():
    with OltEmulator("huawei", [onu("0/1/0", 1, "a", "LOS")]) as olt:
        report = analyze([entry(olt, password="errada-123")], [sub("a")])
    assert report.motivo == "indeterminado"
    assert olt.failed_logins >= 1
    assert any("usuário ou senha recusados" in e for e in report.erros)
    assert not any("errada-123" in e for e in report.erros)


def test_a_hung_olt_costs_its_votes_but_not_the_deadline_and_other_olts_still_answer():
    ok = [onu("1/2/1", i, f"z{i}", "LOS") for i in range(1, 4)]
    with OltEmulator("huawei", [], hung=True) as hung, OltEmulator("zte", ok) as good:
        subs = [sub("h1", "1"), sub("h2", "1")] + [
            sub(f"z{i}", "2", f"gpon-onu_1/2/1:{i}") for i in range(1, 4)
        ]
        analyzer = CompositeAnalyzer({"1": entry(hung), "2": entry(good, "OLT-NORTE", "2")}, olt_timeout=30)
        report = analyzer.analyze(subs, deadline=time.monotonic() + 3.0)
        assert hung.sessions_opened == 1  # it accepted the login and then said nothing
    assert report.motivo == "loss"
    assert any("OLT-CENTRO não respondeu dentro do prazo" in e for e in report.erros)
    assert report.local == "2 OLTs: OLT-CENTRO, OLT-NORTE"


def test_an_unreachable_olt_is_indeterminado_with_a_reason():
    dead = OltEntry("1", "OLT-MORTA", "huawei", "127.0.0.1", 1, "noc", "x")
    report = analyze([dead], [sub("a"), sub("b")], budget=5)
    assert report.motivo == "indeterminado"
    assert any("OLT-MORTA: não foi possível conectar" in e or "sem resposta" in e for e in report.erros)


def test_a_slow_olt_still_answers_within_its_budget():
    with OltEmulator(
        "huawei", [onu("0/1/0", 1, "a", "LOS"), onu("0/1/0", 2, "b", "LOS")], command_delay=0.05
    ) as olt:
        report = analyze([entry(olt)], [sub("a"), sub("b")])
    assert report.motivo == "loss" and report.votos["loss"] == 2


def test_zte_reads_phase_state_per_pon_and_the_latest_history_row():
    onus = [
        onu("1/2/1", 4, "z4", "LOS"),
        onu("1/2/1", 5, "z5", "LOS"),
        onu("1/2/2", 7, "z7", "dying-gasp"),
        onu("1/2/2", 8, "z8", "reset"),  # phase OffLine → read the history
    ]
    subs = [
        sub("z4", interface="gpon-onu_1/2/1:4"),
        sub("z5", interface="gpon-onu_1/2/1:5"),
        sub("z7", interface="gpon-olt_1/2/2", onu_mac=onus[2]["sn"]),
        sub("z8", interface="gpon-onu_1/2/2:8"),
    ]
    with OltEmulator("zte", onus) as olt:
        report = analyze([entry(olt, "OLT-NORTE")], subs)
    assert olt.commands[0] == "terminal length 0"
    assert "show gpon onu state gpon-olt_1/2/1" in olt.commands
    assert "show gpon onu detail-info gpon-onu_1/2/2:8" in olt.commands
    ev = {e["login"]: e for e in report.evidencias}
    assert ev["z4"]["causa_bruta"] == "LOS" and ev["z4"]["onu_index"] == "gpon-onu_1/2/1:4"
    assert ev["z7"]["causa_bruta"] == "DyingGasp"
    assert report.votos == {"energia": 1, "loss": 2, "concentrador": 0, "sem_voto": 1}
    assert report.motivo == "indeterminado"  # 2 of 4 sampled: no majority
    assert report.local == "PONs 1/2/1 e 1/2/2 da OLT-NORTE"


def test_the_emulator_sees_onu_state_changes_live_through_a_callable_provider():
    state = {"cause": "LOS"}
    with OltEmulator(
        "huawei", lambda: [onu("0/1/0", 1, "a", state["cause"]), onu("0/1/0", 2, "b", "dying-gasp")]
    ) as olt:
        first = analyze([entry(olt)], [sub("a"), sub("b")])
        state["cause"] = "dying-gasp"
        second = analyze([entry(olt)], [sub("a"), sub("b")])
    assert first.motivo == "indeterminado"  # a tie
    assert second.motivo == "energia"
    assert olt.sessions_opened == 2


def test_a_rejected_command_raises_command_rejected_with_the_device_error():
    with OltEmulator("huawei", [onu("0/1/0", 1, "a", "LOS")]) as olt:
        backend = HuaweiBackend(entry(olt), Sources())
        with backend.open_cli(time.monotonic() + 10) as cli:
            with pytest.raises(CommandRejected, match="% Parameter error"):
                cli.run("display ont info 0 1 0 abc")
            with pytest.raises(CommandRejected, match="Failure: The ONT does not exist"):
                cli.run("display ont info 0 1 0 2")
            answer = cli.run("display ont info 0 1 0 1")
    assert "Last down cause         : LOS" in answer
    assert "display ont info" not in answer and "MA5800-X7#" not in answer  # no echo, no prompt


def test_the_zte_emulator_pages_until_terminal_length_0():
    many = [onu("1/2/1", i, f"z{i}", "LOS") for i in range(1, 30)]
    with OltEmulator("zte", many, page_lines=10) as olt:
        conn = ConnectHandler(
            device_type="terminal_server", host=olt.host, port=olt.port, username="noc", password="noc-secret"
        )
        conn.write_channel("show gpon onu state gpon-olt_1/2/1\n")
        paged = conn.read_until_pattern(r"--More--")
        conn.write_channel("q")
        conn.read_until_pattern(r"ZXAN#")
        conn.write_channel("terminal length 0\n")
        conn.read_until_pattern(r"ZXAN#")
        conn.write_channel("show gpon onu state gpon-olt_1/2/1\n")
        whole = conn.read_until_pattern(r"ONU Number: 29/29")
        conn.disconnect()
    assert "ONU Number" not in paged
    assert "--More--" not in whole


# --- records that belong to the incident -------------------------------------------------

NOW = 1_795_000_000.0  # the incident's drops
MONTHS_AGO = NOW - 300 * 86400


def olt_clock(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S-03:00", time.gmtime(epoch - 3 * 3600))


def onu_at(pon: str, ont_id: int, login: str, cause: str, down: float, state: str = "offline") -> dict:
    return {**onu(pon, ont_id, login, cause, state), "last_down_time": olt_clock(down)}


def judged_analysis(vendor: str, onus: list[dict], subs: list[Subscriber], model: str = "") -> object:
    drops = {s.login: NOW + n for n, s in enumerate(subs)}
    with OltEmulator(vendor, onus, model=model) as olt:
        analyzer = CompositeAnalyzer({"1": entry(olt, model=model)}, olt_timeout=15, sample_size=5)
        return analyzer.analyze(subs, time.monotonic() + 15, drops)


def test_a_power_cut_now_is_energia_from_the_records_of_its_own_onset():
    onus = [onu_at("0/1/0", n, f"p{n}", "dying-gasp", NOW - 70) for n in range(6)]
    report = judged_analysis("huawei", onus, [sub(f"p{n}", interface="0/1/0") for n in range(6)])
    assert report.motivo == "energia"
    assert all(e["conta"] for e in report.evidencias)


def test_a_concentrator_failure_with_every_onu_online_is_the_concentrator_whatever_old_records_say():
    onus = [
        onu_at("0/1/0", n, f"k{n}", "dying-gasp" if n % 2 else "LOS", MONTHS_AGO, "online") for n in range(6)
    ]
    report = judged_analysis("huawei", onus, [sub(f"k{n}", interface="0/1/0") for n in range(6)])
    assert report.motivo == "concentrador"
    assert report.votos["energia"] == report.votos["loss"] == 0
    assert {e["motivo_exclusao"] for e in report.evidencias} == {"ONU online agora"}


def test_records_months_old_give_indeterminado_with_the_reason():
    onus = [onu_at("0/1/0", n, f"o{n}", "dying-gasp", MONTHS_AGO) for n in range(6)]
    report = judged_analysis("huawei", onus, [sub(f"o{n}", interface="0/1/0") for n in range(6)])
    assert report.motivo == "indeterminado"
    assert report.explicacao.startswith("sem maioria entre 5 ONUs consultadas: 5 sem registro desta queda")
    assert all(e["motivo_exclusao"].startswith("registro antigo") for e in report.evidencias)


def test_a_zte_fiber_cut_is_loss_from_the_phase_state_now():
    onus = [onu_at("1/2/1", n, f"z{n}", "LOS", NOW - 20) for n in range(1, 7)]
    subs = [sub(f"z{n}", interface=f"gpon-onu_1/2/1:{n}") for n in range(1, 7)]
    report = judged_analysis("zte", onus, subs)
    assert report.motivo == "loss"
    assert all(e["conta"] and e.get("atual") for e in report.evidencias)


def test_zte_onus_working_now_are_the_concentrator():
    onus = [onu_at("1/2/1", n, f"w{n}", "DyingGasp", MONTHS_AGO, "online") for n in range(1, 7)]
    subs = [sub(f"w{n}", interface=f"gpon-onu_1/2/1:{n}") for n in range(1, 7)]
    assert judged_analysis("zte", onus, subs).motivo == "concentrador"
