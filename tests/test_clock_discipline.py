"""Clock jumps never stop polling, and `/healthz` tells the truth about the last cycle.

The service and the app run with an injected clock: the test moves the wall clock (which
jumps) and the monotonic clock (which only moves forward) by hand, on a real SQLite file
with the real monitor, lease and heartbeat.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from outage.config import Settings
from outage.db import open_database
from outage.monitor import Monitor
from outage.service import Service
from outage.storage.cycles import take_lease
from outage.web.app import create_app
from tests.clocks import HandClock
from tests.test_api import StaticReader

INTERVAL = 60


class NoSender:
    def deliver_due(self, max_wait: float = 0.0) -> None:
        return None


@pytest.fixture
def hand() -> HandClock:
    return HandClock()


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    built = make_settings(
        IXCSOFT_SERVICE_URL="http://127.0.0.1:9", CHECK_INTERVAL=str(INTERVAL), API_TOKEN="t"
    )
    open_database(built.database).close()
    return built


def start_service(
    settings: Settings, hand: HandClock, monitor_factory: Callable[[str], Monitor] | None = None
):
    reader = StaticReader()

    def monitor(holder: str) -> Monitor:
        return Monitor(settings, reader, None, [], clock=hand.wall, holder=holder, fenced=True)

    service = Service(
        settings,
        monitor_factory=monitor_factory or monitor,
        sender_factory=lambda holder: NoSender(),
        clock=hand.clock(),
    )
    service.start()
    return service


@pytest.fixture
def running(settings: Settings, hand: HandClock) -> Iterator[Service]:
    service = start_service(settings, hand)
    try:
        yield service
    finally:
        service.stop()


def cycles(settings: Settings) -> list[tuple[float, int]]:
    conn = sqlite3.connect(settings.database)
    try:
        return [(r[0], r[1]) for r in conn.execute("SELECT started_at, ok FROM cycles ORDER BY id")]
    finally:
        conn.close()


def wait_for(condition: Callable[[], object], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return bool(condition())


def test_a_backward_jump_of_an_hour_does_not_stop_polling(settings, hand, running):
    assert wait_for(lambda: [ok for _, ok in cycles(settings)] == [1])  # the first cycle done
    hand.jump(-3600)
    hand.advance(INTERVAL + 1)
    assert wait_for(lambda: [ok for _, ok in cycles(settings)] == [1, 1]), (
        "no cycle after the clock went back"
    )


def test_a_forward_jump_neither_hurries_polling_nor_loses_a_cycle(settings, hand, running, caplog):
    caplog.set_level(logging.INFO)
    assert wait_for(lambda: [ok for _, ok in cycles(settings)] == [1])  # the first cycle done
    hand.jump(+3600)
    assert not wait_for(lambda: len(cycles(settings)) > 1, timeout=2.5), "polled early after the jump"
    hand.advance(INTERVAL + 1)
    assert wait_for(lambda: any(ok for _, ok in cycles(settings)[1:]))
    assert "outro processo assumiu" not in caplog.text


def test_health_stays_green_through_a_forward_jump(settings, hand, running):
    app = create_app(settings, clock=hand.clock())
    assert wait_for(lambda: cycles(settings))
    assert wait_for(
        lambda: app.test_client().get("/healthz").get_json()["status"] == "ok"
    )  # heartbeat written
    hand.jump(+3 * 3600)
    response = app.test_client().get("/healthz")
    assert response.status_code == 200, response.get_json()


def test_health_is_red_when_polling_stops_even_if_the_clock_went_back(settings, hand):
    service = start_service(settings, hand)
    assert wait_for(lambda: cycles(settings))
    service.stop()  # the poller is gone
    app = create_app(settings, clock=hand.clock())
    hand.jump(-3600)
    hand.advance(3 * INTERVAL + 1)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert "último ciclo bem-sucedido há 181 s" in response.get_json()["problemas"][0]


def test_a_stuck_poller_is_not_healthy(settings, hand):
    release = threading.Event()
    started = threading.Event()

    class StuckMonitor:
        def run_cycle(self, conn: sqlite3.Connection) -> None:
            started.set()
            release.wait(30)

    service = start_service(settings, hand, monitor_factory=lambda holder: StuckMonitor())  # type: ignore[arg-type,return-value]
    try:
        assert started.wait(10)
        app = create_app(settings, clock=hand.clock())
        hand.advance(3 * INTERVAL + 1)
        body = app.test_client().get("/healthz", headers={"Authorization": "Bearer t"}).get_json()
        assert body["status"] == "erro"
        assert any("ciclo em andamento há 181 s" in p for p in body["problemas"])
        assert body["ciclo_em_andamento_ha"] == 181.0
    finally:
        release.set()
        service.stop()


def test_a_later_cycle_that_never_ends_is_told_by_the_lease_thread(settings, hand):
    release = threading.Event()
    second = threading.Event()
    reader = StaticReader()

    class SecondCycleHangs(Monitor):
        runs = 0

        def run_cycle(self, conn: sqlite3.Connection) -> None:
            SecondCycleHangs.runs += 1
            if SecondCycleHangs.runs == 1:
                super().run_cycle(conn)  # a good cycle: its commit ends the heartbeat
                return
            second.set()
            release.wait(30)

    def monitor(holder: str) -> Monitor:
        return SecondCycleHangs(settings, reader, None, [], clock=hand.wall, holder=holder, fenced=True)

    service = start_service(settings, hand, monitor_factory=monitor)
    try:
        assert wait_for(lambda: cycles(settings))
        hand.advance(INTERVAL)
        assert second.wait(10)
        app = create_app(settings, clock=hand.clock())
        hand.advance(3 * INTERVAL + 1)

        def told() -> bool:
            body = app.test_client().get("/healthz", headers={"Authorization": "Bearer t"}).get_json()
            return any("ciclo em andamento há 181 s" in p for p in body["problemas"])

        assert wait_for(told, timeout=15)
    finally:
        release.set()
        service.stop()


def test_health_after_a_reboot_falls_back_to_wall_time(settings, hand, running):
    assert wait_for(lambda: cycles(settings))
    app = create_app(settings, clock=hand.clock(boot_id="outro-boot"))
    hand.advance(3 * INTERVAL + 1)
    running.stop()
    assert app.test_client().get("/healthz").status_code == 503


def test_a_takeover_waits_one_interval_at_most_when_the_last_start_is_in_the_future(settings, hand):
    conn = open_database(settings.database)
    conn.execute(
        "INSERT INTO cycles (started_at, finished_at, ok) VALUES (?, ?, 1)", (hand.wall() + 3600,) * 2
    )
    conn.close()
    service = start_service(settings, hand)
    try:
        assert not wait_for(lambda: len(cycles(settings)) > 1, timeout=1.5)
        hand.advance(INTERVAL)
        assert wait_for(lambda: len(cycles(settings)) > 1)
    finally:
        service.stop()


def test_a_takeover_resumes_one_interval_after_the_last_cycle_on_the_monotonic_clock(settings, hand):
    first = start_service(settings, hand)
    assert wait_for(lambda: [ok for _, ok in cycles(settings)] == [1])  # the first cycle done
    first.stop()
    hand.advance(INTERVAL - 10)
    hand.jump(-600)  # would make the last cycle look 10 minutes younger on the wall clock
    second = start_service(settings, hand)
    try:
        assert not wait_for(lambda: len(cycles(settings)) > 1, timeout=1.5)
        hand.advance(10)
        assert wait_for(lambda: len(cycles(settings)) == 2)
    finally:
        second.stop()


def test_a_dead_holders_lease_expires_within_its_term_after_the_clock_went_back(tmp_path):
    conn = open_database(str(tmp_path / "m.db"))
    assert take_lease(conn, "morto", now=10_000.0, ttl=30)
    back = 10_000.0 - 3600  # the clock went back an hour; "morto" never renews again
    assert not take_lease(conn, "vivo", now=back, ttl=30)
    assert not take_lease(conn, "vivo", now=back + 29, ttl=30)
    assert take_lease(conn, "vivo", now=back + 31, ttl=30)
