"""Outages on top of each other, through real cycles: the simulated ISP (with its churn) behind
the ERP fake over HTTP and its OLTs over SSH, the monitor's `--once` cycles on the simulated
clock, and the NOC's messages as the Telegram fake received them."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest

from bench.day import START
from monitor_service import run_once
from outage.config import Settings, load_settings
from outage.db import open_database
from simulator.day import SimClock
from simulator.ixc import FakeIXC
from simulator.network import Network
from simulator.olt_cli import OltEmulator
from simulator.telegram import FakeTelegram

CYCLE = 300.0
CHAT = "-1001"


@dataclass
class Isp:
    network: Network
    clock: SimClock
    settings: Settings
    telegram: FakeTelegram

    def run(self, minutes: float) -> None:
        """Cycles every 5 minutes for `minutes`."""
        for _ in range(int(minutes * 60 // CYCLE)):
            self.clock.now += CYCLE
            self.network.advance(self.clock.now)
            assert run_once(self.settings, clock=self.clock) == 0

    def events(self) -> list[sqlite3.Row]:
        conn = open_database(self.settings.database_path)
        try:
            return conn.execute("SELECT * FROM events ORDER BY timestamp").fetchall()
        finally:
            conn.close()

    def messages(self) -> list[str]:
        return self.telegram.texts(CHAT)

    def busiest_olt(self) -> tuple[str, list[str]]:
        """The OLT with the most PONs of at least 16 customers, and those PONs."""
        pons: dict[str, list[str]] = {}
        for (olt, port), members in self.network.pons().items():
            if len(members) >= 16:
                pons.setdefault(olt, []).append(port)
        olt = max(pons, key=lambda ident: len(pons[ident]))
        return olt, pons[olt]


def _inventory(tmp: Path, network: Network, emulators: dict[str, OltEmulator]) -> Path:
    path = tmp / "olts.json"
    entries = [
        {
            "id_transmissor": olt.id,
            "name": olt.name,
            "vendor": olt.vendor,
            "model": olt.model,
            "host": "127.0.0.1",
            "port": emulators[olt.id].port,
            "username": "noc",
            "password": "noc-teste",
        }
        for olt in network.olts
    ]
    path.write_text(json.dumps(entries), encoding="utf-8")
    return path


@pytest.fixture
def isp(tmp_path: Path) -> Iterator[Isp]:
    clock = SimClock(START)
    network = Network(customers=1600, seed=7, clock=clock)

    def feed(olt_id: str) -> Callable[[], list[dict]]:
        members = [c for c in network.customers if c.olt.id == olt_id]
        return lambda: [network.onu_view(c) for c in members]

    with ExitStack() as stack:
        ixc = stack.enter_context(FakeIXC(network))
        telegram = stack.enter_context(FakeTelegram())
        emulators = {
            olt.id: stack.enter_context(
                OltEmulator(olt.vendor, feed(olt.id), model=olt.model, username="noc", password="noc-teste")
            )
            for olt in network.olts
        }
        settings, problems = load_settings(
            {
                "DATABASE_PATH": str(tmp_path / "monitor.db"),
                "SECRET_KEY": "k" * 64,
                "IXC_URL": ixc.url,
                "IXC_USER": ixc.user,
                "IXC_TOKEN": ixc.token,
                "OLT_INVENTORY": str(_inventory(tmp_path, network, emulators)),
                "CAUSE_TIMEOUT": "15",
                "TELEGRAM_BOT_TOKEN": telegram.token,
                "TELEGRAM_CHAT_ID": CHAT,
                "TELEGRAM_API_URL": telegram.url,
                "TELEGRAM_PER_CHAT_PER_MINUTE": "60",
            }
        )
        assert problems == []
        world = Isp(network, clock, settings, telegram)
        world.run(15)  # the baseline and some quiet cycles of churn
        yield world


def test_a_fiber_cut_beside_an_open_power_outage_is_told_as_its_own_related_incident(isp: Isp):
    olt, pons = isp.busiest_olt()
    isp.network.power_outage([(olt, port) for port in pons[:3]], at=isp.clock.now + 30)
    isp.run(20)
    isp.network.fiber_cut(olt, pons[3], at=isp.clock.now + 40)
    isp.run(15)
    events = [e for e in isp.events() if e["motivo"] != "indeterminado" or e["status"] == "ativo"]
    power, fiber = events[0], events[-1]
    assert power["motivo"] == "energia" and fiber["motivo"] == "loss"
    assert fiber["relacionado"] == power["id"]
    assert set(json.loads(fiber["logins"])).isdisjoint(json.loads(power["logins"]))
    opening = next(m for m in isp.messages() if "Queda massiva" in m and f"PON {pons[3]}" in m)
    assert "A OLT já tem um incidente aberto" in opening
    assert "Rompimento de fibra" in opening
    assert not any("Voltou a cair" in m for m in isp.messages())


def test_a_concentrator_failure_over_an_open_power_outage_is_a_new_incident_with_its_own_cause(isp: Isp):
    olt, pons = isp.busiest_olt()
    isp.network.power_outage([(olt, port) for port in pons[:3]], at=isp.clock.now + 30)
    isp.run(20)
    conexao = isp.network.olt(olt).conexao
    isp.network.concentrator_failure(conexao, at=isp.clock.now + 40)
    isp.run(10)
    rows = isp.events()
    power = next(e for e in rows if e["motivo"] == "energia")
    failure = next(e for e in rows if e["motivo"] == "concentrador")
    assert failure["relacionado"] == power["id"]
    held = len(json.loads(failure["logins"]))
    assert held > 3 * len(json.loads(power["logins"])) // 2  # the rest of the OLT, not a few
    opening = next(m for m in isp.messages() if "Concentrador" in m and "Queda massiva" in m)
    assert "já tem um incidente aberto" in opening


def test_a_neighbour_with_another_cause_widening_an_incident_gives_a_mixed_cause_told_with_the_widening(
    isp: Isp,
):
    olt, pons = isp.busiest_olt()
    isp.network.power_outage([(olt, pons[0])], share=1.0, at=isp.clock.now + 30)
    isp.run(5)
    isp.network.fiber_cut(olt, pons[1], at=isp.clock.now + 20)
    isp.run(10)
    event = next(e for e in isp.events() if e["status"] == "ativo" and e["motivo"] != "indeterminado")
    assert event["motivo"] == "misto"
    parts = {p["motivo"]: p for p in json.loads(event["causas"])}
    assert set(parts) == {"energia", "loss"}
    assert parts["loss"]["local"] == f"PON {pons[1]} da {isp.network.olt(olt).name}"
    assert event["causa_explicacao"].startswith("energia em PON ")
    widening = next(m for m in isp.messages() if "Queda se ampliou" in m)
    assert "Causa da parte nova: Rompimento de fibra (LOS)" in widening
