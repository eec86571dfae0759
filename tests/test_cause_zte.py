"""The ZTE backend on both families (C300/C320 and C600/C620/C650) through the real SSH emulator."""

from __future__ import annotations

import time

from outage.adapters.cause.analyzer import CompositeAnalyzer
from outage.adapters.cause.backend import OltResult, Sources
from outage.adapters.cause.inventory import OltEntry
from outage.adapters.cause.ssh import CommandRejected
from outage.adapters.cause.zte import C300, TITAN, ZteBackend, family_of
from outage.core.model import Subscriber
from simulator.network import INSTANT, Network
from simulator.olt_cli import OltEmulator

DOWN = "2026-03-05 09:55:28-03:00"


def onu(pon: str, ont_id: int, login: str, cause: str) -> dict:
    return {
        "fsp": pon,
        "ont_id": ont_id,
        "sn": f"5A544547{ont_id:04X}{int(pon.split('/')[2]):04X}",
        "description": login,
        "run_state": "offline",
        "last_down_cause": cause,
        "last_down_time": DOWN,
        "last_up_time": "2026-03-05 08:56:12-03:00",
    }


def entry(olt: OltEmulator, model: str = "") -> OltEntry:
    return OltEntry("2", "OLT-NORTE", "zte", olt.host, olt.port, "noc", "noc-secret", model=model)


def sub(login: str, interface: str = "", onu_mac: str = "") -> Subscriber:
    return Subscriber(login=login, id_transmissor="2", interface_transmissao=interface, onu_mac=onu_mac)


def analyzer(olt_entry: OltEntry) -> CompositeAnalyzer:
    return CompositeAnalyzer({"2": olt_entry}, olt_timeout=15)


def analyze(target: CompositeAnalyzer, subscribers: list[Subscriber]):
    return target.analyze(subscribers, deadline=time.monotonic() + 15)


def test_the_family_follows_the_model_name():
    assert family_of("C320") is C300 and family_of("ZXA10 C300") is C300
    assert family_of("C600") is TITAN and family_of("c650") is TITAN and family_of("C620") is TITAN
    assert family_of("MA5800-X7") is None and family_of("") is None
    assert ZteBackend.model_problem("C650") == ""
    assert "C300, C320, C600, C620 ou C650" in ZteBackend.model_problem("C9000")


def test_a_c600_from_the_inventory_is_asked_in_its_own_spelling():
    onus = [onu("1/4/1", n, f"t{n}", "LOS") for n in range(1, 4)] + [onu("1/4/2", 7, "t7", "dying-gasp")]
    subs = [sub(f"t{n}", f"gpon_onu-1/4/1:{n}") for n in range(1, 4)] + [sub("t7", "gpon_onu-1/4/2:7")]
    with OltEmulator("zte", onus, model="C600") as olt:
        report = analyze(analyzer(entry(olt, "C600")), subs)
    assert report.erros == []
    assert report.motivo == "loss" and report.votos == {
        "energia": 1,
        "loss": 3,
        "concentrador": 0,
        "sem_voto": 0,
    }
    shows = [c for c in olt.commands if c.startswith("show")]
    assert shows == ["show gpon onu state gpon_olt-1/4/1", "show gpon onu detail-info gpon_onu-1/4/2:7"]
    evidence = {e["login"]: e for e in report.evidencias}
    assert evidence["t1"]["onu_index"] == "gpon_onu-1/4/1:1"
    assert evidence["t7"]["caiu_em"] == "2026-03-05 09:55:28"
    assert report.local == "PONs 1/4/1 e 1/4/2 da OLT-NORTE"


def test_a_c600_is_found_by_serial_when_the_erp_names_only_its_pon():
    onus = [onu("1/4/1", n, f"t{n}", "dying-gasp") for n in range(1, 4)]
    subs = [sub(f"t{n}", "gpon_olt-1/4/1", onus[n - 1]["sn"]) for n in range(1, 4)]
    with OltEmulator("zte", onus, model="C650") as olt:
        report = analyze(analyzer(entry(olt, "C650")), subs)
    assert report.motivo == "energia" and report.votos["energia"] == 3
    assert "show gpon onu by sn ZTEG00010001" in olt.commands


def test_the_family_is_learned_once_from_show_version_and_remembered():
    onus = [onu("1/4/1", n, f"t{n}", "LOS") for n in range(1, 3)]
    subs = [sub(f"t{n}", f"gpon_onu-1/4/1:{n}") for n in range(1, 3)]
    with OltEmulator("zte", onus, model="C620") as olt:
        remembering = analyzer(entry(olt))
        first = analyze(remembering, subs)
        second = analyze(remembering, subs)
    assert first.motivo == second.motivo == "loss"
    assert olt.commands.count("show version") == 1
    assert olt.commands.count("show gpon onu state gpon_olt-1/4/1") == 2


def test_a_c600_paging_in_the_middle_of_a_line_after_terminal_length_0_is_read_whole():
    onus = [onu("1/4/1", n, f"t{n}", "LOS" if n % 4 else "dying-gasp") for n in range(1, 41)]
    subs = [sub(f"t{n}", f"gpon_onu-1/4/1:{n}") for n in (4, 8, 12, 37, 38)]
    with OltEmulator("zte", onus, model="C600", page_lines=6) as olt:
        report = analyze(CompositeAnalyzer({"2": entry(olt, "C600")}, olt_timeout=15, sample_size=5), subs)
    assert olt.commands[0] == "terminal length 0"
    assert report.erros == []
    assert report.votos == {"energia": 3, "loss": 2, "concentrador": 0, "sem_voto": 0}
    assert {e["onu_index"] for e in report.evidencias} >= {"gpon_onu-1/4/1:37", "gpon_onu-1/4/1:38"}


def test_a_c300_spelling_on_a_c600_is_reported_with_the_device_error_and_a_hint():
    onus = [onu("1/4/1", n, f"t{n}", "LOS") for n in range(1, 3)]
    subs = [sub(f"t{n}", f"gpon-onu_1/4/1:{n}") for n in range(1, 3)]
    with OltEmulator("zte", onus, model="C600") as olt:
        report = analyze(analyzer(entry(olt, "C320")), subs)
    assert report.motivo == "indeterminado"
    assert any("%Error 140303: Invalid input detected" in e for e in report.erros)
    assert any("confira o modelo no inventário" in e for e in report.erros)


def test_a_c320_reads_the_c300_spelling_whatever_spelling_the_erp_used():
    onus = [onu("1/2/1", n, f"z{n}", "dying-gasp") for n in range(1, 3)]
    subs = [sub("z1", "gpon_onu-1/2/1:1"), sub("z2", "gpon-onu_1/2/1:2")]
    with OltEmulator("zte", onus, model="C320") as olt:
        report = analyze(analyzer(entry(olt)), subs)
    assert report.motivo == "energia"
    assert "show gpon onu state gpon-olt_1/2/1" in olt.commands
    assert olt.commands.count("show version") == 1


class RefusingCli:
    """A session on which the device refuses every command (a user without the privilege)."""

    def __init__(self, olt: OltEntry) -> None:
        self.olt = olt

    def run(self, command: str) -> str:
        raise CommandRejected(f"OLT {self.olt.name} recusou '{command}': %Error 20203: No permission.")


def test_a_refused_show_version_falls_back_to_the_c300_spelling_says_so_and_asks_again_next_time():
    olt = OltEntry("2", "OLT-NORTE", "zte", "127.0.0.1", 22, "noc", "x")
    backend = ZteBackend(olt, Sources())
    result = OltResult()
    assert backend._family(RefusingCli(olt), result) is C300
    assert backend.learned is None
    assert "%Error 20203: No permission" in result.erros[0]
    assert (
        "modelo ZTE não identificado" in result.erros[1]
        and 'informe "model" no inventário' in result.erros[1]
    )


def test_a_power_outage_on_the_simulated_networks_c600_is_energia_from_the_erps_own_fields():
    network = Network(customers=400, seed=5, churn=None, timing=INSTANT)
    c600 = next(olt for olt in network.olts if olt.model == "C600")
    pons = sorted(port for olt_id, port in network.pons() if olt_id == c600.id)[:2]
    incident = network.power_outage([(c600.id, port) for port in pons], share=1.0)
    network.advance()
    dropped = network.affected(incident)
    subscribers = [
        Subscriber(
            login=c.login,
            id_transmissor=c.olt.id,
            interface_transmissao=c.interface_transmissao,
            onu_mac=c.onu_mac,
        )
        for c in dropped
    ]
    feed = [network.onu_view(c) for c in network.customers if c.olt.id == c600.id]
    with OltEmulator("zte", feed, model="C600") as olt:
        olt_entry = OltEntry(c600.id, c600.name, "zte", olt.host, olt.port, "noc", "noc-secret", model="C600")
        report = CompositeAnalyzer({c600.id: olt_entry}, olt_timeout=15).analyze(
            subscribers, deadline=time.monotonic() + 15
        )
    assert all(s.interface_transmissao.startswith("gpon_olt-") for s in subscribers)
    assert report.erros == []
    assert report.motivo == "energia" and report.votos["energia"] == 5
    assert all(c.startswith(("terminal", "show gpon onu")) for c in olt.commands)
