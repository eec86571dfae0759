"""The monitor knows its network: the active logins of every place, read from the ERP."""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from outage.adapters.erp.base import ErpReadError
from outage.adapters.erp.ixc import IxcReader
from outage.adapters.erp.middleware import MiddlewareReader
from outage.config import Settings
from outage.core.place import normalize_fsp
from outage.db import open_database
from outage.monitor import Monitor
from outage.storage.incidents import load_state
from simulator.ixc import FakeIXC
from simulator.middleware import FakeIxcMiddleware
from simulator.network import Network
from simulator.world import MonitoredIsp

pytestmark = pytest.mark.both_databases

NOW = 1_767_225_600.0


@pytest.fixture
def network() -> Network:
    net = Network(customers=1200, seed=4, clock=lambda: NOW)
    for customer in net.customers[::97]:
        customer.ativo = "N"  # a few contracts cancelled: never counted
    return net


@pytest.fixture
def ixc(network: Network) -> Iterator[FakeIXC]:
    with FakeIXC(network) as server:
        yield server


@pytest.fixture
def settings(make_settings: Callable[..., Settings], ixc: FakeIXC) -> Settings:
    return make_settings(IXC_URL=ixc.url, IXC_USER=ixc.user, IXC_TOKEN=ixc.token, IXC_PAGE_SIZE="100")


def active(network: Network) -> list:
    return [c for c in network.customers if c.ativo == "S"]


def test_every_active_login_is_counted_in_each_of_its_places(network, settings):
    counts = IxcReader(settings).read_population()
    customers = active(network)
    assert {k: v for k, v in counts.items() if k.startswith("conexao:")} == {
        f"conexao:{conexao}": n for conexao, n in Counter(c.conexao for c in customers).items()
    }
    assert {k: v for k, v in counts.items() if k.startswith("olt:")} == {
        f"olt:{olt}": n for olt, n in Counter(c.id_transmissor for c in customers).items()
    }
    pons = Counter(f"pon:{c.id_transmissor}:{normalize_fsp(c.interface_transmissao)}" for c in customers)
    assert {k: v for k, v in counts.items() if k.startswith("pon:")} == dict(pons)
    ctos = Counter(f"cto:{c.id_caixa_ftth}" for c in customers if c.id_caixa_ftth not in ("", "0"))
    assert {k: v for k, v in counts.items() if k.startswith("cto:")} == dict(ctos)


@pytest.mark.parametrize("fault", ["missing_page", "http500", "type_error", "short"])
def test_a_read_with_a_bad_page_is_a_failure_not_a_smaller_network(ixc, settings, fault):
    ixc.fail(fault, count=None, page=3)  # every retry of that page too
    with pytest.raises(ErpReadError):
        IxcReader(settings).read_population()


def cycle(settings: Settings, conn: sqlite3.Connection, monitor: Monitor, at: float) -> None:
    monitor.clock = lambda: at
    monitor.run_cycle(conn)


def test_the_counts_are_read_at_the_first_cycle_kept_and_refreshed_hourly(ixc, settings):
    conn = open_database(settings.database)
    monitor = Monitor(settings, IxcReader(settings), None, [])
    cycle(settings, conn, monitor, NOW)
    first = load_state(conn).population
    assert sum(v for k, v in first.items() if k.startswith("conexao:")) == len(active(ixc.network))
    ixc.fail("http500", count=None, page=2)
    cycle(settings, conn, monitor, NOW + 600)  # not due yet: no read
    ixc.clear_faults()
    ixc.fail("missing_page", page=2)
    cycle(settings, conn, monitor, NOW + 3700)  # due, but the read fails: the last good counts stay
    assert load_state(conn).population == first
    assert load_state(conn).population_at == NOW
    cycle(settings, conn, monitor, NOW + 4000)  # tried again at the next cycle
    assert load_state(conn).population_at == NOW + 4000
    conn.close()


def test_a_read_that_loses_half_the_network_is_not_believed(ixc, settings):
    conn = open_database(settings.database)
    monitor = Monitor(settings, IxcReader(settings), None, [])
    cycle(settings, conn, monitor, NOW)
    before = load_state(conn).population
    for customer in ixc.network.customers[: 2 * len(ixc.network.customers) // 3]:
        customer.ativo = "N"
    ixc.network.version += 1
    cycle(settings, conn, monitor, NOW + 3700)
    assert load_state(conn).population == before
    conn.close()


def test_the_originals_middleware_gives_the_counts_of_its_connections(network, make_settings):
    with FakeIxcMiddleware(network) as service:
        reader = MiddlewareReader(make_settings(IXCSOFT_SERVICE_URL=service.url))
        counts = reader.read_population()
        service.fail("ixc_down")
        with pytest.raises(ErpReadError):
            reader.read_population()
    listed = [c for c in active(network) if c.online in ("S", "N")]
    assert {k: v for k, v in counts.items() if k.startswith("conexao:")} == {
        f"conexao:{conexao}": n for conexao, n in Counter(c.conexao for c in listed).items()
    }


def test_the_opening_alert_gives_the_share_of_the_place(tmp_path: Path):
    with MonitoredIsp(tmp_path, customers=1600, seed=7) as isp:
        isp.run(10)
        olt, pons = isp.pons_of_busiest_olt()
        size = sum(1 for c in isp.network.pons()[(olt, pons[0])] if c.ativo == "S")
        isp.network.fiber_cut(olt, pons[0], at=isp.clock.now + 30)
        isp.run(10)
        opening = next(m for m in isp.messages() if "Queda massiva" in m)
    assert f"de {size} no local" in opening
