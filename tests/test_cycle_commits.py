"""The cycle as a pipeline: a quiet cycle commits once; a busy one commits its decision once
and the causes of all its new incidents once. Counted on a real SQLite file, as the poller
runs a cycle (lease renewal, heartbeat, cycle, post-cycle work)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from outage.adapters.cause.base import CauseReport
from outage.config import Settings
from outage.db import open_database
from outage.monitor import Monitor
from outage.service import Service
from tests.clocks import HandClock
from tests.test_api import StaticReader

INTERVAL = 60
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


class Commits:
    """Counts the transactions a connection commits: each COMMIT, and each write made outside
    a transaction (SQLite commits it on its own)."""

    def __init__(self) -> None:
        self.count = 0
        self._open = False

    def __call__(self, statement: str) -> None:
        word = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else ""
        if word == "BEGIN":
            self._open = True
        elif word in ("COMMIT", "ROLLBACK"):
            self.count += word == "COMMIT"
            self._open = False
        elif word in _WRITES and not self._open:
            self.count += 1


@contextmanager
def counting(conn: sqlite3.Connection) -> Iterator[Commits]:
    commits = Commits()
    conn.set_trace_callback(commits)
    try:
        yield commits
    finally:
        conn.set_trace_callback(None)


class Power:
    """Every new incident's cause is a power cut at its OLT."""

    def __init__(self) -> None:
        self.asked = 0

    def analyze(self, subscribers, deadline, drops=None) -> CauseReport:
        self.asked += 1
        return CauseReport(motivo="energia", explicacao="ONUs sem energia")


class NoSender:
    def deliver_due(self, max_wait: float = 0.0) -> None:
        return None


@pytest.fixture
def poller(
    make_settings: Callable[..., Settings],
) -> Iterator[tuple[Service, Monitor, StaticReader, HandClock]]:
    settings = make_settings(IXCSOFT_SERVICE_URL="http://127.0.0.1:9", CHECK_INTERVAL=str(INTERVAL))
    hand = HandClock()
    reader = StaticReader(hand.wall)
    service = Service(settings, sender_factory=lambda holder: NoSender(), clock=hand.clock())
    monitor = Monitor(
        settings, reader, Power(), ["telegram"], clock=hand.wall, holder=service.holder, fenced=True
    )
    monitor.commit_hook = service._at_commit  # as the poller thread wires it
    yield service, monitor, reader, hand


def test_a_quiet_cycle_commits_once(poller) -> None:
    service, monitor, _, hand = poller
    conn = open_database(service.settings.database)
    try:
        assert not service._run_one(conn, monitor, first=True)  # the baseline, first of the lease term
        hand.advance(INTERVAL)
        with counting(conn) as commits:
            assert not service._run_one(conn, monitor)
        assert commits.count == 1
        rows = conn.execute("SELECT ok FROM cycles ORDER BY id").fetchall()
        assert [r[0] for r in rows] == [1, 1]
    finally:
        conn.close()


def test_a_busy_cycle_commits_its_decision_once_and_its_causes_once(poller) -> None:
    service, monitor, reader, hand = poller
    conn = open_database(service.settings.database)
    try:
        assert not service._run_one(conn, monitor, first=True)
        hand.advance(INTERVAL)
        for olt in ("OLT-A", "OLT-B", "OLT-C"):
            reader.drop(olt, *range(1, 9))
        with counting(conn) as commits:
            assert not service._run_one(conn, monitor)
        assert commits.count == 2
        causes = conn.execute("SELECT motivo, causa_status FROM events ORDER BY id").fetchall()
        assert [tuple(r) for r in causes] == [("energia", "concluido")] * 3
        assert monitor.analyzer.asked == 3  # type: ignore[union-attr]
    finally:
        conn.close()
