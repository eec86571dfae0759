"""The product as operators run it: `--once` processes in sequence, and gunicorn with 4 workers."""

from __future__ import annotations

import itertools
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from simulator.ixc import FakeIXC
from simulator.telegram import TOKEN as TELEGRAM_TOKEN
from simulator.telegram import FakeTelegram
from tests.conftest import radusuario

ROOT = Path(__file__).resolve().parent.parent
USER, IXC_HASH = "8", "k4n8wkSEGREDO"
IXC_TOKEN = f"{USER}:{IXC_HASH}"  # as IXCSoft shows it


@pytest.fixture
def ixc() -> Iterator[FakeIXC]:
    server = FakeIXC(user=USER, token=IXC_HASH)
    with server:
        yield server


def publish(ixc: FakeIXC, offline: range | list[int]) -> None:
    down = set(offline)
    ixc.set_records(
        "radusuarios",
        [radusuario(n, "OLT-A" if n <= 40 else "OLT-B", "N" if n in down else "S") for n in range(1, 81)],
    )


def env_for(tmp_path: Path, ixc: FakeIXC, telegram: FakeTelegram, **extra: str) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "IXC_URL": ixc.url,
        "IXC_TOKEN": IXC_TOKEN,
        "IXC_PAGE_SIZE": "25",
        "IXC_TIMEOUT": "3",
        "DATABASE_PATH": str(tmp_path / "data" / "monitor.db"),
        "LOG_DIR": str(tmp_path / "logs"),
        "SECRET_KEY": "s" * 40,
        "TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN,
        "TELEGRAM_CHAT_ID": "-1001",
        "TELEGRAM_API_URL": telegram.url,
        "OLT_INVENTORY": str(tmp_path / "olts.json"),
    }
    env.update(extra)
    return env


def once(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "monitor_service.py"), "--once"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def query(db: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_once_runs_continue_from_each_other_and_alert_once(tmp_path, ixc, telegram):
    env = env_for(tmp_path, ixc, telegram)
    db = Path(env["DATABASE_PATH"])
    publish(ixc, [])
    first = once(env, tmp_path)
    assert first.returncode == 0, first.stderr
    assert "linha de base" in first.stdout

    publish(ixc, range(1, 11))
    second = once(env, tmp_path)
    assert second.returncode == 0, second.stderr
    assert "1 eventos abertos" in second.stdout
    assert len(telegram.messages) == 1
    assert "OLT-A" in telegram.messages[0]["text"]

    third = once(env, tmp_path)  # nothing new: no second alert
    assert third.returncode == 0, third.stderr
    assert len(telegram.messages) == 1

    publish(ixc, [])
    fourth = once(env, tmp_path)
    assert fourth.returncode == 0, fourth.stderr
    assert query(db, "SELECT status FROM events") == [("resolvido",)]
    assert len(telegram.messages) == 2
    assert (tmp_path / "logs" / "monitor_service.log").exists()


def test_once_exits_non_zero_and_changes_nothing_when_the_erp_fails(tmp_path, ixc, telegram):
    env = env_for(tmp_path, ixc, telegram)
    db = Path(env["DATABASE_PATH"])
    publish(ixc, [])
    assert once(env, tmp_path).returncode == 0
    publish(ixc, range(1, 11))
    assert once(env, tmp_path).returncode == 0
    events_before = query(db, "SELECT * FROM events")

    ixc.fail("html", count=None)
    failed = once(env, tmp_path)
    assert failed.returncode != 0
    assert "HTML" in failed.stderr
    assert query(db, "SELECT * FROM events") == events_before
    assert query(db, "SELECT ok FROM cycles ORDER BY id DESC LIMIT 1") == [(0,)]
    ixc.clear_faults()

    bad_token = once({**env, "IXC_TOKEN": "8:errado"}, tmp_path)
    assert bad_token.returncode != 0
    assert "IXC_TOKEN" in bad_token.stderr
    assert "8:errado" not in bad_token.stderr + bad_token.stdout
    assert len(telegram.messages) == 1


def test_secrets_never_reach_the_log(tmp_path, ixc, telegram):
    env = env_for(tmp_path, ixc, telegram, LOG_LEVEL="DEBUG")
    publish(ixc, [])
    once(env, tmp_path)
    publish(ixc, range(1, 11))
    once(env, tmp_path)
    ixc.stop()
    once(env, tmp_path)
    log = (tmp_path / "logs" / "monitor_service.log").read_text(encoding="utf-8")
    assert "ciclo" in log
    for secret in (IXC_TOKEN, TELEGRAM_TOKEN, "s" * 40):
        assert secret not in log


def wait_until(condition: Callable[[], object], timeout: float = 30.0, step: float = 0.3) -> None:
    """Poll `condition` until it holds or `timeout` passes (the caller asserts what it needs)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not condition():
        time.sleep(step)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=2)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer")


def test_gunicorn_with_four_workers_runs_exactly_one_poller(tmp_path, ixc, telegram):
    port = free_port()
    env = env_for(
        tmp_path, ixc, telegram, CHECK_INTERVAL="5", WEB_CONCURRENCY="4", HOST="127.0.0.1", PORT=str(port)
    )
    db = Path(env["DATABASE_PATH"])
    publish(ixc, [])
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "monitor_service:app"],
        cwd=ROOT,
        env={**env, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz")
        wait_until(lambda: query(db, "SELECT 1 FROM cycles WHERE ok = 1"))
        publish(ixc, range(1, 11))
        wait_until(lambda: telegram.messages)
        time.sleep(6)  # let every worker have had its chance to poll again
        holders = query(db, "SELECT DISTINCT holder FROM cycles")
        starts = [row[0] for row in query(db, "SELECT started_at FROM cycles ORDER BY started_at")]
        events = requests.get(f"http://127.0.0.1:{port}/eventos/ativos", timeout=5).json()["eventos_ativos"]
    finally:
        proc.send_signal(signal.SIGTERM)
        output = proc.communicate(timeout=30)[0]
    assert len(holders) == 1, output
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert all(gap >= 4.5 for gap in gaps), (gaps, output)  # no two workers polled the same interval
    assert [e["conexao"] for e in events] == ["OLT-A"]
    assert len(telegram.messages) == 1
    assert json.dumps(events)  # served by a worker that does not poll, from the shared database


def test_the_server_polls_in_the_background_and_stops_cleanly_on_sigterm(tmp_path, ixc, telegram):
    port = free_port()
    env = env_for(tmp_path, ixc, telegram, CHECK_INTERVAL="5", HOST="127.0.0.1", PORT=str(port))
    db = Path(env["DATABASE_PATH"])
    publish(ixc, [])
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "monitor_service.py")],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz")
        wait_until(lambda: query(db, "SELECT 1 FROM cycles WHERE ok = 1"), step=0.2)
        health = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
    finally:
        proc.send_signal(signal.SIGTERM)
        output = proc.communicate(timeout=30)[0]
    assert health.status_code == 200, health.text
    assert proc.returncode == 0, output
    assert query(db, "SELECT COUNT(*) FROM leases") == [(0,)]  # released for the next process


@pytest.mark.parametrize(
    "command",
    [
        ["monitor_service.py"],
        ["-m", "gunicorn", "-c", "gunicorn.conf.py", "monitor_service:app"],
    ],
    ids=["python monitor_service.py", "gunicorn -c gunicorn.conf.py"],
)
def test_every_way_to_run_reads_host_port_and_log_level_from_the_same_dotenv(
    tmp_path, ixc, telegram, command
) -> None:
    port = free_port()
    settings = env_for(tmp_path, ixc, telegram, HOST="127.0.0.1", PORT=str(port), LOG_LEVEL="WARNING")
    settings.update(WEB_CONCURRENCY="1", CHECK_INTERVAL="300")
    clean = {name: settings.pop(name) for name in ("PATH", "HOME")}
    (tmp_path / ".env").write_text("".join(f"{k}={v}\n" for k, v in settings.items()), encoding="utf-8")
    publish(ixc, [])
    args = [sys.executable, *(str(ROOT / part) if part.endswith(".py") else part for part in command)]
    proc = subprocess.Popen(
        args,
        cwd=tmp_path,
        env={**clean, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz")
    finally:
        proc.send_signal(signal.SIGTERM)
        output = proc.communicate(timeout=30)[0]
    assert proc.returncode == 0, output
    assert "MONITOR_API_TOKEN não definido" in output  # a warning passes LOG_LEVEL=WARNING ...
    assert "INFO" not in output, output  # ... no information does, the server's own included


def test_gunicorn_refuses_a_bad_dotenv_before_binding_listing_every_problem(tmp_path) -> None:
    (tmp_path / ".env").write_text("PORT=porta\nTRUSTED_PROXIES=proxy.local\n", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "monitor_service:app"],
        cwd=tmp_path,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "Configuração inválida" in proc.stderr
    for name in ("PORT", "TRUSTED_PROXIES", "SECRET_KEY", "IXC_URL"):
        assert name in proc.stderr
    assert "Listening at" not in proc.stdout + proc.stderr
