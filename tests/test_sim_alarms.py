"""The simulated network's devices alarm the real receivers over real sockets on loopback.

Each OLT sends from its own 127.1.x.y address and each concentrator from 127.2.x.y, as they
would from their own addresses on a real network; the receivers know them from the OLT
inventory and ALARM_CONCENTRATORS, map each ONU to its login through the ERP's rows, and the
concentrator's accounting stops arrive after the network's own keepalive lag.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from outage.adapters.alarms.event import (
    LINE,
    LOSS,
    ONU_DOWN,
    ONU_UP,
    POWER,
    RADIUS,
    SESSION_END,
    SNMP,
    SYSLOG,
)
from outage.adapters.alarms.service import AlarmService
from outage.adapters.cause.inventory import OltEntry
from outage.adapters.erp.base import subscriber_from_record
from outage.alarm_settings import AlarmSettings
from outage.clock import Clock
from simulator.alarms import AlarmTargets, NetworkAlarms, concentrator_address, olt_address
from simulator.network import INSTANT, Network, Timing
from simulator.ports import free_port
from simulator.snmp_agent import SnmpAgent, olt_rows
from tests.test_alarms_service import collect

SECRET = "segredo-radius"
COMMUNITY = "traps-sim"


def inventory(network: Network, agent: SnmpAgent) -> dict[str, OltEntry]:
    return {
        olt.id: OltEntry(
            olt.id,
            olt.name,
            olt.vendor,
            host="127.0.0.1",
            backend="ssh",
            model=olt.model,
            snmp_community=COMMUNITY,
            snmp_read_community=f"ler-{olt.id}",
            snmp_port=agent.port,
            addresses=(olt_address(olt.id),),
        )
        for olt in network.olts
    }


@pytest.fixture
def agent(network: Network) -> Iterator[SnmpAgent]:
    """Every simulated OLT's SNMP tables, one read community each."""

    def feed(olt_id: str) -> Callable[[], list[dict[str, str]]]:
        members = [c for c in network.customers if c.olt.id == olt_id]
        return lambda: [network.onu_view(c) for c in members]

    tables = {f"ler-{olt.id}": olt_rows(olt.vendor, olt.model, feed(olt.id)) for olt in network.olts}
    with SnmpAgent(tables) as running:
        yield running


def wired(network: Network, agent: SnmpAgent, **receivers: int) -> tuple[AlarmService, NetworkAlarms]:
    settings = AlarmSettings(
        listen="127.0.0.1",
        radius_secret=SECRET,
        concentrators=tuple(sorted({concentrator_address(o.concentrador) for o in network.olts})),
        **receivers,
    )
    service = AlarmService(settings, inventory(network, agent), clock=Clock(wall=network.clock))
    service.refresh(subscriber_from_record(r) for r in network.radusuarios_records())
    service.start()
    deadline = time.monotonic() + 30
    while len(service.learned) < len(network.olts) and time.monotonic() < deadline:
        time.sleep(0.05)
    sender = NetworkAlarms(
        AlarmTargets(
            snmp_port=service.ports.get("snmp", 0),
            syslog_port=service.ports.get("syslog_udp", 0),
            radius_port=service.ports.get("radius", 0),
            radius_secret=SECRET,
            community=COMMUNITY,
        )
    ).start()
    network.alarms = sender
    return service, sender


@pytest.fixture
def clock() -> list[float]:
    return [1_790_000_000.0]


@pytest.fixture
def network(request: pytest.FixtureRequest, clock: list[float]) -> Network:
    seed, timing = request.param
    return Network(customers=300, seed=seed, clock=lambda: clock[0], churn=None, timing=timing)


LAGGING = Timing(keepalive_lag=(30.0, 90.0), lost_stop_share=0.0, onset_spread=1.0, return_after=(5.0, 0.0))


@pytest.mark.parametrize("network", [(3, INSTANT)], indirect=True)
def test_a_fiber_cut_on_a_huawei_pon_reaches_the_receivers_as_losi_traps_and_alarm_blocks_mapped_to_logins(
    network, agent
):
    olt = next(o for o in network.olts if o.vendor == "huawei")
    port = next(p for (ident, p) in network.pons() if ident == olt.id)
    service, sender = wired(network, agent, snmp_port=free_port(), syslog_port=free_port())
    try:
        incident = network.fiber_cut(olt.id, port)
        members = {c.login for c in network.affected(incident)}
        assert sender.idle(20)
        alarms = collect(service, 2 * len(members))
    finally:
        network.alarms = None
        sender.stop()
        service.stop()
    downs = [a for a in alarms if a.kind == ONU_DOWN]
    assert {a.source for a in downs} == {SNMP, SYSLOG}
    assert all(a.cause == LOSS and a.olt == olt.id and a.fsp == port for a in downs)
    for source in (SNMP, SYSLOG):
        assert {a.login for a in downs if a.source == source} == members
    assert service.snapshot()["fontes"]["snmp"]["sem_login"] == 0


@pytest.mark.parametrize("network", [(5, INSTANT)], indirect=True)
def test_a_power_cut_on_a_zte_pon_sends_dying_gasps_named_by_the_onu_and_recoveries_after_repair(
    network, agent, clock
):
    olt = next(o for o in network.olts if o.vendor == "zte")
    port = next(p for (ident, p) in network.pons() if ident == olt.id)
    service, sender = wired(network, agent, snmp_port=free_port())
    try:
        incident = network.power_outage([(olt.id, port)], share=1.0)
        taken = {c.login for c in network.affected(incident)}
        assert sender.idle(20)
        downs = collect(service, len(taken))
        clock[0] += 600
        network.recover(incident, stragglers=False)
        network.advance(clock[0] + 3600)
        assert sender.idle(20)
        ups = collect(service, len(taken))
    finally:
        network.alarms = None
        sender.stop()
        service.stop()
    assert {a.login for a in downs if a.kind == ONU_DOWN and a.cause == POWER} == taken
    assert all(a.olt == olt.id and a.ont_id is not None for a in downs)
    assert {a.login for a in ups if a.kind == ONU_UP and a.cause == POWER} == taken


@pytest.mark.parametrize("network", [(7, LAGGING)], indirect=True)
def test_the_concentrator_ends_the_sessions_after_its_keepalive_lag_with_lost_carrier(network, agent, clock):
    olt = network.olts[0]
    port = next(p for (ident, p) in network.pons() if ident == olt.id)
    service, sender = wired(network, agent, radius_port=free_port())
    try:
        cut = clock[0]
        incident = network.fiber_cut(olt.id, port, at=cut)
        assert sender.idle(10)
        assert service.drain(1000) == []  # the ONUs are dark, the sessions not yet ended
        clock[0] += 120
        network.advance(clock[0])
        members = {c.login for c in network.affected(incident)}
        assert sender.idle(20)
        stops = collect(service, len(members))
    finally:
        network.alarms = None
        sender.stop()
        service.stop()
    assert {a.login for a in stops} == members
    assert all(a.source == RADIUS and a.kind == SESSION_END and a.cause == LINE for a in stops)
    assert all(a.reason == "Lost-Carrier" and a.concentrator == olt.concentrador for a in stops)
    lags = [a.at - cut for a in stops]
    assert min(lags) >= 30.0 and max(lags) <= 91.0  # Event-Timestamp: the session's real end
    assert sender.sent["unanswered"] == 0


@pytest.mark.parametrize("network", [(9, INSTANT)], indirect=True)
def test_an_unanswered_accounting_stop_is_sent_again_as_a_real_concentrator_does(network):
    silent = free_port()
    sender = NetworkAlarms(AlarmTargets(radius_port=silent, radius_secret=SECRET)).start()
    network.alarms = sender
    try:
        login = network.customers[0].login
        network.set_state([login], "N", cause="LOS")
        started = time.monotonic()
        assert sender.idle(10)
    finally:
        network.alarms = None
        sender.stop()
    assert sender.sent["unanswered"] == 1 and sender.sent["retries"] == 3
    assert time.monotonic() - started >= 3.5  # four tries one second apart
