"""The `monitor_service`-compatible mode: PPPoE state and causes from the original middleware services."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace

import pytest

from outage.adapters.cause import build_analyzer
from outage.adapters.cause.analyzer import CompositeAnalyzer
from outage.adapters.cause.base import CauseReport
from outage.adapters.cause.inventory import OltEntry
from outage.adapters.erp.base import subscriber_from_record
from outage.adapters.erp.middleware import MiddlewareReader
from outage.core.model import Subscriber
from outage.db import connect, open_database
from outage.monitor import CycleFailed, Monitor
from outage.web.app import create_app
from simulator.middleware import FakeIxcMiddleware, FakeOltMiddleware
from simulator.network import INSTANT, Network
from simulator.olt_cli import OltEmulator


@pytest.fixture
def network() -> Network:
    return Network(customers=300, seed=7, churn=None, timing=INSTANT)


@pytest.fixture
def services(network: Network) -> Iterator[tuple[FakeIxcMiddleware, FakeOltMiddleware]]:
    with FakeIxcMiddleware(network) as ixc, FakeOltMiddleware(network) as olt:
        yield ixc, olt


@pytest.fixture
def settings(make_settings, services):
    ixc, olt = services
    return make_settings(IXCSOFT_SERVICE_URL=ixc.url, OLT_SERVICE_URL=olt.url, IXC_TIMEOUT="2")


@pytest.fixture
def conn(settings) -> Iterator[sqlite3.Connection]:
    db = open_database(settings.database)
    yield db
    db.close()


def biggest_pon(network: Network) -> tuple[str, str]:
    return max(network.pons().items(), key=lambda item: len(item[1]))[0]


def test_a_fiber_cut_opens_an_event_with_the_cause_from_the_olt_service(network, settings, conn):
    monitor = Monitor(settings, MiddlewareReader(settings), build_analyzer(settings), ["telegram:-1"])
    monitor.run_cycle(conn)
    olt_id, pon = biggest_pon(network)
    incident = network.fiber_cut(olt_id, pon)
    monitor.run_cycle(conn)
    event = conn.execute("SELECT * FROM events WHERE status = 'ativo'").fetchone()
    assert event is not None
    assert event["motivo"] == "loss"
    assert event["causa_status"] == "concluido"
    payload = json.loads(conn.execute("SELECT payload FROM outbox WHERE kind = 'abertura'").fetchone()[0])
    assert payload["motivo"] == "loss"  # the cause arrived before the opening was sent: no follow-up
    assert conn.execute("SELECT COUNT(*) FROM outbox WHERE kind = 'causa'").fetchone()[0] == 0
    # held while the cause was looked up, released as soon as it was known
    assert (
        conn.execute("SELECT next_attempt_at FROM outbox WHERE kind = 'abertura'").fetchone()[0]
        <= time.time()
    )

    network.recover(incident)
    monitor.run_cycle(conn)
    assert conn.execute("SELECT status FROM events").fetchone()[0] == "resolvido"


@pytest.mark.parametrize("kind", ["http500", "html", "invalid_json", "refuse"])
def test_a_failing_middleware_fails_the_cycle_without_touching_events(
    kind, network, services, settings, conn
):
    ixc, _ = services
    monitor = Monitor(settings, MiddlewareReader(settings), None, [])
    monitor.run_cycle(conn)
    olt_id, pon = biggest_pon(network)
    network.fiber_cut(olt_id, pon)
    monitor.run_cycle(conn)
    before = [dict(r) for r in conn.execute("SELECT * FROM events")]
    network.recover_all()
    ixc.fail(kind, count=10)
    with pytest.raises(CycleFailed):
        monitor.run_cycle(conn)
    assert [dict(r) for r in conn.execute("SELECT * FROM events")] == before


def test_a_failing_olt_service_gives_an_undetermined_cause_and_the_cycle_goes_on(
    network, services, settings, conn
):
    _, olt = services
    olt.fail("http500", count=10)
    monitor = Monitor(settings, MiddlewareReader(settings), build_analyzer(settings), [])
    monitor.run_cycle(conn)
    network.fiber_cut(*biggest_pon(network))
    result = monitor.run_cycle(conn)
    assert result.counts.abertos == 1
    assert conn.execute("SELECT motivo FROM events").fetchone()[0] == "indeterminado"


class SenderFirstAnalyzer:
    """Plays a sender that delivered the opening alert before the cause was known."""

    def __init__(self, db_path: str) -> None:
        self.db_path = db_path

    def analyze(
        self, subscribers: Sequence[Subscriber], deadline: float, drops: Mapping[str, float] | None = None
    ) -> CauseReport:
        other = connect(self.db_path)
        other.execute("UPDATE outbox SET status = 'enviado' WHERE kind = 'abertura'")
        other.close()
        return CauseReport(motivo="energia", local="PON 0/1/2 da OLT-CENTRO")


def test_a_cause_found_after_the_opening_was_sent_goes_as_a_follow_up(network, settings, conn):
    monitor = Monitor(
        settings, MiddlewareReader(settings), SenderFirstAnalyzer(settings.database), ["telegram:-1"]
    )
    monitor.run_cycle(conn)
    network.fiber_cut(*biggest_pon(network))
    monitor.run_cycle(conn)
    rows = conn.execute("SELECT kind, payload FROM outbox ORDER BY id").fetchall()
    assert [r["kind"] for r in rows] == ["abertura", "causa"]
    follow_up = json.loads(rows[1]["payload"])
    local = conn.execute("SELECT local FROM events").fetchone()[0]
    assert follow_up["motivo"] == "energia" and follow_up["local"] == local  # the ERP placed it narrower


def test_an_empty_answer_from_the_ixc_service_fails_the_cycle_instead_of_recovering_everyone(
    network, services, settings, conn
):
    ixc, _ = services
    monitor = Monitor(settings, MiddlewareReader(settings), None, [])
    monitor.run_cycle(conn)
    network.fiber_cut(*biggest_pon(network))
    monitor.run_cycle(conn)
    before = [dict(r) for r in conn.execute("SELECT * FROM events")]
    ixc.fail("ixc_down", count=2)
    with pytest.raises(CycleFailed, match="lista de clientes online vazia"):
        monitor.run_cycle(conn)
    assert [dict(r) for r in conn.execute("SELECT * FROM events")] == before
    app = create_app(replace(settings, api_token="t"))
    health = app.test_client().get("/healthz", headers={"Authorization": "Bearer t"}).get_json()
    assert "IXCSoft provavelmente falhou" in health["ultimo_ciclo"]["erro"]


def test_a_cut_short_answer_that_loses_most_offline_logins_fails_the_cycle(network, services, settings, conn):
    ixc, _ = services
    monitor = Monitor(settings, MiddlewareReader(settings), None, [])
    monitor.run_cycle(conn)
    network.fiber_cut(*biggest_pon(network))
    monitor.run_cycle(conn)
    before = [dict(r) for r in conn.execute("SELECT * FROM events")]
    ixc.fail("ixc_partial", count=2)
    with pytest.raises(CycleFailed, match="não estão em nenhuma das listas"):
        monitor.run_cycle(conn)
    assert [dict(r) for r in conn.execute("SELECT * FROM events")] == before
    monitor.run_cycle(conn)  # the service answers in full again: a good cycle, nothing recovered
    assert [r["status"] for r in conn.execute("SELECT status FROM events")] == ["ativo"]


def test_with_only_the_seven_fields_place_and_cause_come_from_the_olt_by_login_description():
    seven = [
        {
            "id_cliente": str(100 + n),
            "login": f"ana{n}",
            "conexao": "OLT-CENTRO",
            "ultima_conexao_final": "2026-03-05 09:55:28",
            "id_transmissor": "1",
            "latitude": "-27.59",
            "longitude": "-48.54",
        }
        for n in range(4)
    ]
    subscribers = [subscriber_from_record(record) for record in seven]
    onus = [
        {
            "fsp": "0/1/0",
            "ont_id": n,
            "sn": f"48575443{n:08X}",
            "description": f"ana{n}",
            "run_state": "offline",
            "last_down_cause": "dying-gasp",
            "last_down_time": "2026-03-05 09:55:28-03:00",
            "last_up_time": "2026-03-05 08:56:12-03:00",
        }
        for n in range(4)
    ]
    with OltEmulator("huawei", onus) as olt:
        entry = OltEntry("1", "OLT-CENTRO", olt.vendor, olt.host, olt.port, "noc", "noc-secret")
        analyzer = CompositeAnalyzer({"1": entry}, olt_timeout=15)
        report = analyzer.analyze(subscribers, deadline=time.monotonic() + 15)
    assert report.motivo == "energia"
    assert "0/1/0" in report.local and "OLT-CENTRO" in report.local
