"""A network met for the first time, known only by its connections (as the original monitor's
users have it): outages in the first cycles after the baseline, through real cycles against the
IXC fake over HTTP, five minutes apart on the simulated clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from outage.adapters.erp.ixc import IxcReader
from outage.config import Settings
from outage.core.localtime import erp_text
from outage.db import open_database
from outage.monitor import Monitor
from simulator.ixc import FakeIXC
from tests.conftest import radusuario

START = 1_795_000_000.0
SIZES = {"POP-01": 10, "POP-02": 60, "POP-03": 10}


class ConnectionsOnly:
    """Three connections and nothing below them: no OLT, PON or CTO in the ERP rows."""

    def __init__(self, ixc: FakeIXC) -> None:
        self.ixc = ixc
        self.records: dict[str, dict[str, str]] = {}
        n = 0
        for conexao, size in SIZES.items():
            for _ in range(size):
                n += 1
                login = f"{conexao.lower()}-{n}"
                self.records[login] = radusuario(
                    n, conexao, login=login, id_transmissor="0", interface_transmissao="", id_caixa_ftth="0"
                )
        self.publish()

    def publish(self) -> None:
        self.ixc.set_records("radusuarios", list(self.records.values()))

    def drop(self, conexao: str, count: int, at: float) -> None:
        down = [r for r in self.records.values() if r["conexao"] == conexao and r["online"] == "S"][:count]
        for record in down:
            record.update(online="N", ultima_conexao_final=erp_text(at))
        self.publish()


@pytest.fixture
def isp() -> Iterator[ConnectionsOnly]:
    with FakeIXC() as ixc:
        yield ConnectionsOnly(ixc)


@pytest.fixture
def monitor(
    isp: ConnectionsOnly, make_settings: Callable[..., Settings]
) -> Iterator[Callable[[float], list]]:
    settings = make_settings(
        IXC_URL=isp.ixc.url, IXC_USER=isp.ixc.user, IXC_TOKEN=isp.ixc.token, CHECK_INTERVAL="300"
    )
    conn = open_database(settings.database)
    watcher = Monitor(settings, IxcReader(settings), None, ["telegram:-1"])

    def cycle(at: float) -> list:
        watcher.clock = lambda: at
        watcher.run_cycle(conn)
        return conn.execute("SELECT conexao, logins, local FROM events ORDER BY timestamp").fetchall()

    yield cycle
    conn.close()


def test_six_of_a_connections_ten_dropping_right_after_the_baseline_is_an_incident(isp, monitor):
    monitor(START)  # the install's first cycle: the baseline
    isp.drop("POP-01", 6, START + 100)
    events = monitor(START + 300)
    assert [(e["conexao"], e["local"]) for e in events] == [("POP-01", "conexão POP-01")]


def test_a_whole_connection_of_ten_going_dark_after_the_baseline_is_told_at_the_next_cycle(isp, monitor):
    monitor(START)
    isp.drop("POP-03", 10, START + 280)
    assert [e["conexao"] for e in monitor(START + 300)] == ["POP-03"]


def test_eight_of_sixty_dropping_within_a_minute_is_an_incident(isp, monitor):
    monitor(START)
    monitor(START + 300)
    isp.drop("POP-02", 8, START + 500)
    events = monitor(START + 600)
    assert [e["conexao"] for e in events] == ["POP-02"]


def test_three_of_ten_is_below_the_threshold_and_opens_nothing(isp, monitor):
    monitor(START)
    isp.drop("POP-01", 3, START + 100)
    assert monitor(START + 300) == []
