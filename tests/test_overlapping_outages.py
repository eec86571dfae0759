"""Outages on top of each other, through real cycles: the simulated ISP (with its churn) behind
the ERP fake over HTTP and its OLTs over SSH, the monitor's `--once` cycles on the simulated
clock, and the NOC's messages as the Telegram fake received them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulator.world import MonitoredIsp


@pytest.fixture
def isp(tmp_path: Path) -> Iterator[MonitoredIsp]:
    with MonitoredIsp(tmp_path, customers=1600, seed=7) as world:
        world.run(15)  # the baseline and some quiet cycles of churn
        yield world


def test_a_fiber_cut_beside_an_open_power_outage_is_told_as_its_own_related_incident(isp: MonitoredIsp):
    olt, pons = isp.pons_of_busiest_olt()
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


def test_a_concentrator_failure_over_an_open_power_outage_is_a_new_incident_with_its_own_cause(
    isp: MonitoredIsp,
):
    olt, pons = isp.pons_of_busiest_olt()
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
    isp: MonitoredIsp,
):
    olt, pons = isp.pons_of_busiest_olt()
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
