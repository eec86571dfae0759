"""The poller lease: one holder at a time, taken over when the holder stops renewing."""

from __future__ import annotations

import os
import socket
import time
import uuid

import pytest

from outage import lease
from outage.adapters.channels.registry import CHANNELS
from outage.adapters.erp import ERPS
from outage.config import load_settings
from outage.db import open_database
from outage.service import Service
from outage.storage import cycles
from simulator.ixc import FakeIXC
from tests.conftest import radusuario

pytestmark = pytest.mark.both_databases


def test_one_holder_at_a_time_until_its_lease_expires(tmp_path):
    conn = open_database(str(tmp_path / "m.db"))
    assert cycles.take_lease(conn, "a", now=100.0, ttl=30)
    assert not cycles.take_lease(conn, "b", now=110.0, ttl=30)
    assert cycles.take_lease(conn, "a", now=120.0, ttl=30)  # renewal
    assert not cycles.take_lease(conn, "b", now=149.0, ttl=30)
    assert cycles.take_lease(conn, "b", now=151.0, ttl=30)  # a stopped renewing
    assert not cycles.take_lease(conn, "a", now=152.0, ttl=30)
    cycles.release_lease(conn, "b")
    assert cycles.take_lease(conn, "a", now=153.0, ttl=30)


def test_a_second_process_takes_over_when_the_poller_dies(make_settings):
    with FakeIXC(user="8", token="t") as ixc:
        ixc.set_records("radusuarios", [radusuario(n) for n in range(1, 20)])
        settings = make_settings(IXC_URL=ixc.url, IXC_USER="8", IXC_TOKEN="8:t", CHECK_INTERVAL="5")
        first = Service(settings, lease_ttl=2.0)
        first.start()
        assert first.leader.wait(10)
        first.stop_event.set()  # dies: its threads end without releasing the lease
        for thread in first._threads:
            thread.join(10)
        second = Service(settings, lease_ttl=2.0)
        second.start()
        try:
            assert second.leader.wait(15)
            conn = open_database(settings.database)
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                holders = {r[0] for r in conn.execute("SELECT holder FROM cycles WHERE ok = 1")}
                if second.holder in holders:
                    break
                time.sleep(0.2)
            assert holders <= {first.holder, second.holder} and second.holder in holders
            conn.close()
        finally:
            second.stop()


def test_holder_ids_name_their_instance_and_only_its_own_dead_processes_are_judged():
    holder = lease.new_holder_id("monitor-a")
    assert lease.instance_of(holder) == "monitor-a"
    assert holder.split(":")[1] == str(os.getpid())
    gone = "monitor-a:999999:abcd1234"  # no such process
    assert lease.is_dead_here(gone, "monitor-a")
    assert not lease.is_dead_here(gone, "monitor-b")  # another instance's pids mean nothing here
    assert not lease.is_dead_here(holder, "monitor-a")


def test_instance_name_defaults_to_the_host_name_and_refuses_the_holder_separator():
    assert load_settings({}, channels=CHANNELS, erps=ERPS)[0].instance_name == socket.gethostname()
    assert (
        load_settings({"INSTANCE_NAME": "monitor-b"}, channels=CHANNELS, erps=ERPS)[0].instance_name
        == "monitor-b"
    )
    settings, problems = load_settings({"INSTANCE_NAME": "a:b"}, channels=CHANNELS, erps=ERPS)
    assert [p for p in problems if "INSTANCE_NAME" in p] == [
        "INSTANCE_NAME='a:b' inválido: use até 63 letras, números, '.', '_' ou '-' (ex.: monitor-a)."
    ]
    assert settings.instance_name == socket.gethostname()


def test_a_standby_takes_over_when_the_holders_term_ends_and_recovers_what_it_claimed(make_settings, caplog):
    """A holder on another machine stops renewing: the standby takes over as its term ends (not
    up to a beat later) and may recover its claims at once, without waiting for them to expire."""
    settings = make_settings(IXCSOFT_SERVICE_URL="http://127.0.0.1:9", INSTANCE_NAME="monitor-b")
    conn = open_database(settings.database)
    dead = f"monitor-a:4242:{uuid.uuid4().hex[:8]}"  # another machine's process: its pid means nothing here
    assert cycles.take_lease(conn, dead, time.time(), 3.0)
    term_ends = cycles.read_lease(conn)[1]
    conn.execute(
        "INSERT INTO outbox (channel, kind, payload, status, attempts, next_attempt_at, created_at, claimed_by,"
        " claimed_at) VALUES ('telegram:-100', 'abertura', '{}', 'enviando', 1, ?, ?, ?, ?)",
        (term_ends, term_ends, dead, time.time()),
    )
    assert not lease.is_gone(dead, "monitor-b")
    standby = Service(settings, lease_ttl=3.0)
    standby.start()
    try:
        assert standby.leader.wait(10)
        took_over = cycles.read_lease(conn)
        assert took_over is not None and took_over[0] == standby.holder
        assert time.time() - term_ends < 1.5  # the margin, not a 5 s beat
        assert lease.is_gone(dead, "monitor-b")
        deadline = time.monotonic() + 5
        while "1 alerta retomado" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "1 alerta retomado de um envio interrompido (podem chegar repetidos)" in caplog.text
    finally:
        standby.stop()
        conn.close()
