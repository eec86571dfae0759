"""`GET /eventos/ativos` under real gunicorn with 200 active events: requests/s and p99.

    python -m bench.bench_api            10 s of load
    python -m bench.bench_api --quick    2 s of load

The database gets 200 active events (5 logins each) through the production cycle
(`Monitor.run_cycle`), then gunicorn serves it (`gunicorn.conf.py`: gthread, 2 workers x 4
threads) on a free loopback port. The load generator is plain Python: `PROCESSES` processes
of `THREADS` keep-alive connections each, bounded in time and in requests. The limit shown
next to requests/s is what the workers could do if every request cost what one costs alone:
a request is CPU-bound (SQLite read + JSON), so each worker process (one GIL) serves at most
1 / single-request latency per second, whatever its thread count.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from bench import br, figure

ROOT = Path(__file__).resolve().parent.parent
EVENTS = 200
LOGINS_PER_EVENT = 5
WORKERS = 2
WORKER_THREADS = 4
PROCESSES = 4
THREADS = 4
MAX_REQUESTS_PER_CONNECTION = 20_000
TARGET_RPS = 100.0  # dozens of NOC screens refreshing every few seconds
TARGET_P99_MS = 300.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def seed_events(database_path: str) -> int:
    """200 active events in `database_path` through the production cycle; returns their count."""
    from outage.adapters.channels.registry import CHANNELS
    from outage.adapters.erp import ERPS
    from outage.adapters.erp.base import Observation
    from outage.config import load_settings
    from outage.core.model import Subscriber
    from outage.db import open_database
    from outage.monitor import Monitor

    class Reader:
        def __init__(self) -> None:
            self.offline: dict[str, Subscriber] = {}

        def read(self, candidates: Any) -> Observation:
            return Observation(self.offline, frozenset())

        contacts_unavailable = "leitor do benchmark"

        def read_contacts(self, client_ids: Any) -> dict[str, Any]:
            return {}

        def read_population(self, each: Any = None) -> dict[str, int]:
            return {}

    settings, _ = load_settings(
        {"DATABASE_PATH": database_path, "IXCSOFT_SERVICE_URL": "http://127.0.0.1:9"},
        channels=CHANNELS,
        erps=ERPS,
    )
    conn = open_database(database_path)
    reader = Reader()
    monitor = Monitor(settings, reader, None, [])
    monitor.run_cycle(conn)  # the baseline: nobody offline
    reader.offline = {
        f"cliente{e}_{n}": Subscriber(
            login=f"cliente{e}_{n}",
            conexao=f"OLT-{e:03d}",
            id=str(e * 10 + n),
            id_cliente=str(e * 10 + n + 1000),
            id_transmissor=str(e % 20 + 1),
            interface_transmissao=f"0/{e % 16}/{n}",
        )
        for e in range(EVENTS)
        for n in range(LOGINS_PER_EVENT)
    }
    monitor.run_cycle(conn)
    count = int(conn.execute("SELECT COUNT(*) FROM events WHERE status = 'ativo'").fetchone()[0])
    conn.close()
    return count


def _start_gunicorn(database_path: str, port: int, log_dir: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_PATH": database_path,
        "IXCSOFT_SERVICE_URL": "http://127.0.0.1:9",  # nothing listens: the poller's cycles fail, data stays
        "CHECK_INTERVAL": "3600",
        "SECRET_KEY": "bench-" + os.urandom(8).hex(),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_CONCURRENCY": str(WORKERS),
        "GUNICORN_THREADS": str(WORKER_THREADS),
        "LOG_DIR": log_dir,
        "LOG_LEVEL": "WARNING",
        "OLT_INVENTORY": os.path.join(log_dir, "sem-olts.json"),
    }
    for name in ("API_TOKEN", "ADMIN_USERNAME", "ADMIN_PASSWORD", "IXC_URL"):
        env.pop(name, None)
    command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "monitor_service:app"]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"gunicorn saiu: {process.stderr.read().decode()[-2000:] if process.stderr else ''}"
            )
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError("gunicorn não respondeu a tempo")


def _connection(url: str, until: float) -> list[float]:
    import requests

    latencies: list[float] = []
    with requests.Session() as session:
        while time.monotonic() < until and len(latencies) < MAX_REQUESTS_PER_CONNECTION:
            started = time.perf_counter()
            response = session.get(url, timeout=10)
            latencies.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise RuntimeError(f"HTTP {response.status_code}")
    return latencies


def _load_process(url: str, seconds: float) -> list[float]:
    from concurrent.futures import ThreadPoolExecutor

    until = time.monotonic() + seconds
    with ThreadPoolExecutor(THREADS) as pool:
        parts = list(pool.map(lambda _n: _connection(url, until), range(THREADS)))
    return [latency for part in parts for latency in part]


def load(url: str, seconds: float) -> dict[str, float]:
    """Requests/s and latency percentiles with PROCESSES x THREADS keep-alive connections."""
    started = time.perf_counter()
    with ProcessPoolExecutor(PROCESSES) as pool:
        parts = list(pool.map(_load_process, [url] * PROCESSES, [seconds] * PROCESSES))
    elapsed = time.perf_counter() - started
    latencies = sorted(latency for part in parts for latency in part)
    return {
        "requisicoes": len(latencies),
        "segundos": round(elapsed, 2),
        "rps": len(latencies) / elapsed,
        "p50_ms": latencies[len(latencies) // 2] * 1000,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
    }


def single_latency(url: str, samples: int = 50) -> float:
    """Median seconds of one request alone on a keep-alive connection."""
    import requests

    with requests.Session() as session:
        session.get(url, timeout=10)
        times = []
        for _ in range(samples):
            started = time.perf_counter()
            session.get(url, timeout=10)
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def run(quick: bool) -> dict[str, Any]:
    seconds = 2.0 if quick else 10.0
    with tempfile.TemporaryDirectory() as tmp:
        database = f"{tmp}/bench_api.db"
        events = seed_events(database)
        port = _free_port()
        url = f"http://127.0.0.1:{port}/eventos/ativos"
        process = _start_gunicorn(database, port, tmp)
        try:
            _wait_ready(url, process)
            body_kb = len(__import__("requests").get(url, timeout=10).content) / 1024
            alone = single_latency(url, 20 if quick else 100)
            result = load(url, seconds)
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
    ceiling = min(WORKERS, os.cpu_count() or 1) / alone  # one GIL per worker process: CPU-bound
    figures = [
        figure(
            f"GET /eventos/ativos ({br(events)} eventos, {br(body_kb, 0)} KB), gunicorn {WORKERS}x{WORKER_THREADS}",
            result["rps"],
            "req/s",
            f">= {br(TARGET_RPS)}",
            result["rps"] >= TARGET_RPS,
            f"máx. ~{br(ceiling, 0)} req/s ({WORKERS} processos / {br(alone * 1000, 1)} ms cada)",
        ),
        figure(
            f"p99 de GET /eventos/ativos ({PROCESSES * THREADS} conexões)",
            result["p99_ms"],
            "ms",
            f"<= {br(TARGET_P99_MS)}",
            result["p99_ms"] <= TARGET_P99_MS,
            f"mín. {br(alone * 1000, 1)} ms (uma requisição sozinha)",
        ),
    ]
    return {"figuras": figures, "detalhes": {**result, "sozinha_ms": alone * 1000, "eventos": events}}


if __name__ == "__main__":
    print(json.dumps(run(quick="--quick" in sys.argv), indent=2, ensure_ascii=False))
