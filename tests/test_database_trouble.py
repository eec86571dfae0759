"""A full disk or a lock held past the busy timeout: the failure is logged with its real
reason, recorded as soon as the database takes writes again, answered 503 in JSON to
API callers, and named by `/healthz` — and monitoring goes on once the disk has room.

The full disk is real: a 4 MB tmpfs (this needs root to mount; elsewhere those tests
are skipped and say why).
"""

from __future__ import annotations

import errno
import logging
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from outage import db
from outage.config import Settings
from outage.monitor import Monitor
from outage.web.app import create_app
from tests.clocks import HandClock
from tests.test_api import StaticReader
from tests.test_clock_discipline import INTERVAL, NoSender, cycles, wait_for

DISK_SIZE = "4m"


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount_point = tmp_path / "disco"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK_SIZE}", "tmpfs", str(mount_point)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"não foi possível montar um tmpfs pequeno: {mounted.stderr.decode(errors='replace')}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def fill(folder: Path) -> Path:
    """Write a file until the disk is full; returns it (delete it to free the space)."""
    filler = folder / "enchimento"
    with filler.open("wb", buffering=0) as out:  # unbuffered: closing has nothing left to write
        try:
            while True:
                out.write(b"\0" * 65536)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return filler


def test_health_names_a_lock_held_too_long_when_the_poller_is_late(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(IXCSOFT_SERVICE_URL="http://127.0.0.1:9", API_TOKEN="t")
    hand = HandClock()
    app = create_app(settings, clock=hand.clock())
    hand.advance(3 * settings.check_interval + 1)
    locker = sqlite3.connect(settings.database, isolation_level=None)
    locker.execute("BEGIN IMMEDIATE")
    try:
        response = app.test_client().get("/healthz")
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert response.status_code == 503
    problems = response.get_json()["problemas"]
    assert problems[0].startswith("nenhum ciclo concluído com sucesso")
    assert any("bloqueado" in p for p in problems)


def test_an_api_write_on_a_full_disk_answers_503_in_json(
    make_settings: Callable[..., Settings], small_disk: Path
) -> None:
    settings = make_settings(
        IXCSOFT_SERVICE_URL="http://127.0.0.1:9", API_TOKEN="t", DATABASE_PATH=str(small_disk / "m.db")
    )
    reader = StaticReader()
    monitor = Monitor(settings, reader, None, [])
    conn = db.open_database(settings.database)
    monitor.run_cycle(conn)
    reader.drop("OLT-A", *range(1, 11))
    monitor.run_cycle(conn)
    event_id = conn.execute("SELECT id FROM events").fetchone()[0]
    conn.close()
    app = create_app(settings)
    filler = fill(small_disk)
    response = app.test_client().post(f"/eventos/{event_id}/resolver", headers={"Authorization": "Bearer t"})
    assert response.status_code == 503
    assert response.get_json()["erro"].startswith("disco cheio")
    filler.unlink()


def test_a_cycle_on_a_full_disk_is_logged_recorded_and_reported_then_polling_resumes(
    make_settings: Callable[..., Settings], small_disk: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from outage.service import Service

    caplog.set_level(logging.INFO)
    settings = make_settings(
        IXCSOFT_SERVICE_URL="http://127.0.0.1:9",
        API_TOKEN="t",
        CHECK_INTERVAL=str(INTERVAL),
        DATABASE_PATH=str(small_disk / "m.db"),
    )
    db.open_database(settings.database).close()
    hand, reader = HandClock(), StaticReader()
    service = Service(
        settings,
        monitor_factory=lambda holder: Monitor(
            settings, reader, None, [], clock=hand.wall, holder=holder, fenced=True
        ),
        sender_factory=lambda holder: NoSender(),
        lease_ttl=10 * INTERVAL,  # the hand clock leaps past renewals a real clock would make
        clock=hand.clock(),
    )
    app = create_app(settings, clock=hand.clock())
    service.start()
    try:
        assert wait_for(lambda: [ok for _, ok in cycles(settings)] == [1])  # the first cycle done
        filler = fill(small_disk)
        reader.drop("OLT-A", *range(1, 3001))
        hand.advance(INTERVAL)
        assert wait_for(lambda: "disco cheio" in caplog.text)
        hand.advance(3 * INTERVAL)
        health = app.test_client().get("/healthz", headers={"Authorization": "Bearer t"})
        assert health.status_code == 503
        assert any("disco cheio" in p for p in health.get_json()["problemas"])
        anonymous = app.test_client().get("/healthz").get_data(as_text=True)
        assert "disco cheio" in anonymous and str(small_disk) not in anonymous  # no path to anyone
        filler.unlink()
        hand.advance(INTERVAL)
        assert wait_for(lambda: [ok for _, ok in cycles(settings)] == [1, 0, 1])
    finally:
        service.stop()
    failed = sqlite3.connect(settings.database).execute("SELECT erro FROM cycles WHERE ok = 0").fetchall()
    assert failed and all(row[0] for row in failed)
    assert any("disco" in row[0] or "full" in row[0] for row in failed)
    assert "outro processo assumiu" not in caplog.text
