"""An approval survives a crash: the real server killed with SIGKILL while it hands 300 notices to
the provider, restarted on the same database, and approved again. Never twice to a customer;
every notice either reaches the provider once or is marked uncertain at once; the second click
says where the notices stand and sends what was still queued."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from outage.core.localtime import erp_text
from simulator.ixc import FakeIXC
from simulator.whatsapp import HSM_TOKEN, FakeHSMProvider
from tests.conftest import radusuario

ROOT = Path(__file__).resolve().parent.parent
CUSTOMERS = 300
TOKEN = "crash-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


class KillingProvider(FakeHSMProvider):
    """Accepts notices like the provider (20 ms each) and SIGKILLs the sender after the k-th,
    before answering it: the sender never learns of that acceptance."""

    def __init__(self) -> None:
        super().__init__(latency=0.02)
        self.kill_after = 0
        self.victim = 0

    def _record(self, body: dict[str, Any]) -> int:
        number = super()._record(body)
        if number == self.kill_after and self.victim:
            os.kill(self.victim, signal.SIGKILL)
        return number


@pytest.fixture
def provider() -> Iterator[KillingProvider]:
    with KillingProvider() as fake:
        yield fake


def phone(n: int) -> str:
    return f"(11) 9{n:04d}-{n:04d}"


@pytest.fixture
def ixc() -> Iterator[FakeIXC]:
    with FakeIXC() as fake:
        fake.set_records(
            "cliente",
            [
                {"id": str(5000 + n), "razao": f"Cliente {n}", "telefone_celular": phone(n)}
                for n in range(CUSTOMERS)
            ],
        )
        yield fake


def logins(ixc: FakeIXC, online: str) -> None:
    ixc.set_records(
        "radusuarios",
        [
            radusuario(n + 1, online=online, id_cliente=str(5000 + n), ultima=erp_text(time.time() - 20))
            for n in range(CUSTOMERS)
        ],
    )


def server(env: dict[str, str]) -> subprocess.Popen[str]:
    log = open(Path(env["HOME"]) / "server.out", "a")  # noqa: SIM115 - the child writes it until it dies
    return subprocess.Popen(
        [sys.executable, str(ROOT / "monitor_service.py")],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=log,
        text=True,
    )


def wait_until(condition: Callable[[], Any], timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            found = condition()
        except (requests.RequestException, sqlite3.Error):
            found = None
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError("condition not met in time")


def rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("kill_after", [1, 50, 150, 250, 299])
def test_a_crash_in_the_middle_of_an_approval_never_sends_a_notice_twice(
    tmp_path: Path, ixc: FakeIXC, provider: KillingProvider, kill_after: int
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "DATABASE_PATH": str(tmp_path / "monitor.db"),
        "LOG_DIR": str(tmp_path / "logs"),
        "SECRET_KEY": "s" * 40,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "CHECK_INTERVAL": "5",
        "IXC_URL": ixc.url,
        "IXC_TOKEN": f"{ixc.user}:{ixc.token}",
        "URL_HSM": provider.send_url,
        "TOKEN_HSM": HSM_TOKEN,
        "MONITOR_API_TOKEN": TOKEN,
        "OLT_INVENTORY": str(tmp_path / "olts.json"),
    }
    db = Path(env["DATABASE_PATH"])
    logins(ixc, "S")
    first = server(env)
    try:
        wait_until(lambda: rows(db, "SELECT 1 FROM cycles WHERE ok = 1"))
        logins(ixc, "N")
        incident = wait_until(lambda: requests.get(f"{base}/api/incidentes", headers=AUTH, timeout=5).json())[
            0
        ]
        provider.kill_after, provider.victim = kill_after, first.pid
        with pytest.raises(requests.RequestException):
            requests.post(
                f"{base}/api/acao",
                json={"id": incident["id"], "acao": "aprovar", "template": "LOS"},
                headers=AUTH,
                timeout=30,
            )
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
    assert len(provider.messages) >= kill_after
    second = server(env)
    try:
        wait_until(lambda: requests.get(f"{base}/healthz", timeout=2))
        again = requests.post(
            f"{base}/api/acao",
            json={"id": incident["id"], "acao": "aprovar", "template": "LOS"},
            headers=AUTH,
            timeout=30,
        ).json()
        wait_until(
            lambda: (
                not rows(
                    db, "SELECT 1 FROM outbox WHERE kind = 'cliente' AND status IN ('pendente', 'enviando')"
                )
            )
        )
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=30)
    received = Counter(m["contato"]["telefone"] for m in provider.messages)
    uncertain = {
        str(r[0])
        for r in rows(db, "SELECT json_extract(payload, '$.to') FROM outbox WHERE status = 'incerto'")
    }
    doubled = [p for p, times in received.items() if times > 1]
    print(
        f"corte após {kill_after}: {sum(received.values())} recebidos pelo provedor, {len(uncertain)} incertos "
        f"({len(uncertain & set(received))} deles chegaram), dobrados {len(doubled)}"
    )
    assert doubled == []
    everyone = {f"55119{n:04d}{n:04d}" for n in range(CUSTOMERS)}
    assert set(received) | uncertain == everyone  # none lost: sent once, or uncertain and shown
    assert again["repetido"] is True and again["incertos"] == len(uncertain)
    assert again["enviados"] + again["incertos"] + again["na_fila"] == CUSTOMERS
    assert "nenhum cliente recebe duas vezes" in again["msg"]
