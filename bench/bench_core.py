"""Monitor core benchmarks: one cycle's detection + persistence, and the ERP read.

    python -m bench.bench_core            full sizes (200,000 subscribers, 100 pages)
    python -m bench.bench_core --quick    small sizes, seconds

Each cycle scenario runs in a fresh subprocess so its peak RSS is its own. The steady cycle
runs on SQLite and, side by side, on PostgreSQL (a throwaway local server, `simulator.postgres`,
when PostgreSQL is installed: its time is at most twice SQLite's).
Targets: steady state (10,000 offline, 50 changes) <= 100 ms; worst case (all
200,000 drop at once) <= 3 s; peak RSS <= 300 MB; reading 100 pages answered after 50 ms
each at least 5x faster than walking them one by one; the active logins of every place
(200,000 full ERP rows in pages of 1,000 answered after 50 ms each) within twice the parallel
read's bound.
"""

from __future__ import annotations

import json
import math
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import br, figure

ROOT = Path(__file__).resolve().parent.parent
CONNECTIONS = 100  # about; see _subscribers
STEADY_RUNS = 5  # steady cycles measured in a row (a commit's time varies with the disk)


def _subscribers(total: int) -> list[Any]:
    """Subscribers as `subscriber_from_record` builds them from the ERP (shared values interned).

    A real plant: CTOs of 16 customers, 8 CTOs on a PON, 16 PONs on an OLT, one OLT per
    connection (about 100 connections at 200,000).
    """
    from sys import intern

    from outage.core.model import Subscriber

    subs = []
    for n in range(total):
        cto = n // 16
        pon = cto // 8
        olt = pon // 16
        subs.append(
            Subscriber(
                login=f"cliente{n}",
                conexao=intern(f"OLT-{olt:03d}"),
                id=str(n),
                id_cliente=str(n + 1_000_000),
                id_contrato=str(n + 2_000_000),
                id_transmissor=intern(str(olt + 1)),
                onu_mac=f"48575443{n:08X}",
                interface_transmissao=intern(f"0/{(pon % 16) // 8 + 1}/{pon % 8}"),
                id_caixa_ftth=intern(str(cto + 1)),
                session_end=0.0,
            )
        )
    return subs


class _Reader:
    """The ERP's answer, already read: the benchmark measures detection and persistence."""

    def __init__(self) -> None:
        self.offline: dict[str, Any] = {}
        self.online: frozenset[str] = frozenset()
        self.population: dict[str, int] = {}

    def read(self, candidates: Any) -> Any:
        from outage.adapters.erp.base import Observation

        return Observation(self.offline, self.online)

    contacts_unavailable = "leitor do benchmark"

    def read_contacts(self, client_ids: Any) -> dict[str, Any]:
        return {}

    def read_population(self, each: Any = None) -> dict[str, int]:
        return self.population


def cycle_scenario(kind: str, total: int, database_url: str = "") -> dict[str, Any]:
    """Detection + persistence of one cycle after a persisted baseline (in its own process),
    on a new SQLite file or on the (empty) PostgreSQL database at `database_url`.

    Runs the production path (`Monitor.run_cycle`) with the ERP answer already in memory,
    and reports the time of detection, alert building and the commit (`last_detect_seconds`):
    the worst case once, the steady cycle's median over `STEADY_RUNS` cycles in a row.
    """
    from outage.adapters.channels.registry import CHANNELS
    from outage.adapters.erp import ERPS
    from outage.config import load_settings
    from outage.core.place import count_places, path_of
    from outage.db import open_database
    from outage.monitor import Monitor

    with tempfile.TemporaryDirectory() as tmp:
        env = {
            "DATABASE_PATH": f"{tmp}/bench.db",
            "DATABASE_URL": database_url,
            "IXCSOFT_SERVICE_URL": "http://x",
        }
        settings, _ = load_settings(env, channels=CHANNELS, erps=ERPS)
        conn = open_database(settings.database)
        subs = _subscribers(total)
        reader = _Reader()
        reader.population = count_places(path_of(sub) for sub in subs)
        monitor = Monitor(settings, reader, None, ["telegram:-1001"])
        reader.offline = {} if kind == "worst" else {s.login: s for s in subs[: total // 20]}
        monitor.run_cycle(conn)  # baseline
        times = []
        for run in range(1 if kind == "worst" else STEADY_RUNS):
            if kind == "worst":
                reader.offline = {s.login: s for s in subs}
            else:  # 25 logins come back, 25 others drop
                offline_now = dict(reader.offline)
                back = list(offline_now)[:25]
                for login in back:
                    del offline_now[login]
                start = total // 20 + 25 * run
                for s in subs[start : start + 25]:
                    offline_now[s.login] = s
                reader.offline, reader.online = offline_now, frozenset(back)
            monitor.run_cycle(conn)
            times.append(monitor.last_detect_seconds)
        elapsed = statistics.median(times)
        events = conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]
        conn.close()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"segundos": elapsed, "pico_rss_mb": peak_mb, "offline": len(reader.offline), "eventos": events}


def _ids() -> Any:
    import uuid

    return lambda: str(uuid.uuid4())


def erp_read(pages: int, page_size: int, delay: float, concurrency: int) -> float:
    from outage.adapters.channels.registry import CHANNELS
    from outage.adapters.erp import ERPS
    from outage.adapters.erp.ixc import IxcReader
    from outage.config import load_settings
    from simulator.ixc import FakeIXC

    records = [
        {"id": str(n), "login": f"c{n}", "online": "N", "ativo": "S", "conexao": "OLT-A"}
        for n in range(1, pages * page_size + 1)
    ]
    with FakeIXC(user="8", token="t", page_delay=delay) as ixc:
        ixc.set_records("radusuarios", records)
        env = {
            "IXC_URL": ixc.url,
            "IXC_TOKEN": "8:t",
            "IXC_PAGE_SIZE": str(page_size),
            "IXC_CONCURRENCY": str(concurrency),
        }
        settings, problems = load_settings(env, channels=CHANNELS, erps=ERPS)
        assert not [p for p in problems if "SECRET_KEY" not in p], problems
        reader = IxcReader(settings)
        t0 = time.perf_counter()
        observation = reader.read({})
        elapsed = time.perf_counter() - t0
        assert len(observation.offline) == len(records)
    return elapsed


def population_read(total: int, page_size: int, delay: float, concurrency: int) -> dict[str, Any]:
    """The active logins of every place read from `total` full ERP rows (pages answered after
    `delay`), the reader in its own process so its peak RSS is its own."""
    from simulator.ixc import FakeIXC
    from simulator.network import Network

    network = Network(customers=total, seed=1, churn=None)
    with FakeIXC(
        page_delay=delay
    ) as ixc:  # the network's full rows, rendered once: the fake is not the bottleneck
        ixc.set_records("radusuarios", network.radusuarios_records())
        env = {
            "IXC_URL": ixc.url,
            "IXC_TOKEN": ixc.token_as_shown,
            "IXC_PAGE_SIZE": str(page_size),
            "IXC_CONCURRENCY": str(concurrency),
        }
        out = subprocess.run(
            [sys.executable, "-m", "bench.bench_core", "--population", json.dumps(env)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=600,
        )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    pages = math.ceil(sum(1 for c in network.customers if c.ativo == "S") / page_size)
    result["paginas"] = pages
    result["limite_s"] = (1 + math.ceil((pages - 1) / concurrency)) * delay
    return result


def _read_population(env: dict[str, str]) -> dict[str, Any]:
    from outage.adapters.channels.registry import CHANNELS
    from outage.adapters.erp import ERPS
    from outage.adapters.erp.ixc import IxcReader
    from outage.config import load_settings

    settings, _ = load_settings(env, channels=CHANNELS, erps=ERPS)
    reader = IxcReader(settings)
    before = _peak_rss_mb()
    t0, cpu0 = time.perf_counter(), time.process_time()
    counts = reader.read_population()
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    return {
        "segundos": elapsed,
        "cpu_do_leitor_s": cpu,
        "pico_rss_mb": _peak_rss_mb(),
        "rss_antes_mb": before,
        "locais": len(counts),
        "logins": sum(n for key, n in counts.items() if key.startswith("conexao:")),
    }


def _peak_rss_mb() -> float:
    """This process's peak RSS (VmHWM: unlike `ru_maxrss`, not inherited from the parent)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _in_subprocess(kind: str, total: int, database_url: str = "") -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.bench_core", "--scenario", kind, str(total), database_url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _steady_on_postgres(total: int) -> dict[str, Any] | None:
    """The steady cycle on a throwaway local PostgreSQL with its default durability (None,
    saying why, when there is none)."""
    from simulator.postgres import ClusterUnavailable, throwaway_cluster

    try:
        with throwaway_cluster(durable=True) as cluster:
            return _in_subprocess("steady", total, cluster.new_database())
    except ClusterUnavailable as exc:
        print(f"ciclo estável só no SQLite: {exc}", file=sys.stderr)
        return None


def run(quick: bool) -> dict[str, Any]:
    total = 20_000 if quick else 200_000
    pages = 100  # the figure is for 100 pages, in quick mode too (about 7 s)
    steady = _in_subprocess("steady", total)
    worst = _in_subprocess("worst", total)
    sequential = erp_read(pages, 100, 0.05, 1)
    parallel = erp_read(pages, 100, 0.05, 8)
    population = population_read(total, 1000, 0.05, 8)
    bound = (1 + math.ceil((pages - 1) / 8)) * 0.05
    figures = [
        figure(
            f"ciclo estável ({br(total)} assinantes, {br(steady['offline'])} offline, 50 mudanças)",
            steady["segundos"] * 1000,
            "ms",
            "<= 100",
            steady["segundos"] <= 0.1,
        ),
        figure(
            f"ciclo pior caso (todos os {br(total)} caem)",
            worst["segundos"],
            "s",
            "<= 3",
            worst["segundos"] <= 3,
        ),
        figure("pico de RSS (pior caso)", worst["pico_rss_mb"], "MB", "<= 300", worst["pico_rss_mb"] <= 300),
        figure(
            f"leitura do ERP, {pages} páginas sequenciais (50 ms cada)",
            sequential,
            "s",
            "—",
            True,
            f"mín. {br(pages * 0.05, 2)} s",
        ),
        figure(
            f"leitura do ERP, {pages} páginas em paralelo (8)",
            parallel,
            "s",
            "—",
            True,
            f"mín. {br(bound, 2)} s",
        ),
        figure(
            "ganho da leitura paralela",
            sequential / parallel,
            "x",
            ">= 5",
            sequential / parallel >= 5,
            f"máx. {br(pages * 0.05 / bound, 1)}x",
        ),
    ]
    figures.append(
        figure(
            f"população dos locais: {population['logins']:,} logins ativos, {population['paginas']} páginas (50 ms cada)",
            population["segundos"],
            "s",
            f"<= {2 * population['limite_s']:.2f} (2x o limite)",
            population["segundos"] <= 2 * population["limite_s"],
            f"mín. {population['limite_s']:.2f} s (8 em paralelo, sem CPU); CPU do leitor "
            f"{population['cpu_do_leitor_s']:.1f} s; pico de RSS {population['pico_rss_mb']:.0f} MB",
        )
    )
    on_postgres = _steady_on_postgres(total)
    if on_postgres is not None:
        ratio = on_postgres["segundos"] / steady["segundos"]
        figures.append(
            figure(
                f"ciclo estável no PostgreSQL ({br(total)} assinantes), lado a lado com o SQLite",
                on_postgres["segundos"] * 1000,
                "ms",
                "<= 2x o SQLite",
                ratio <= 2,
                f"SQLite {br(steady['segundos'] * 1000, 1)} ms; {br(ratio, 2)}x",
            )
        )
    details = {
        "estavel": steady,
        "estavel_postgresql": on_postgres,
        "pior_caso": worst,
        "populacao": population,
    }
    return {"figuras": figures, "detalhes": details}


def main(argv: list[str]) -> None:
    if len(argv) >= 2 and argv[0] == "--population":
        print(json.dumps(_read_population(json.loads(argv[1]))))
        return
    if len(argv) >= 3 and argv[0] == "--scenario":
        print(json.dumps(cycle_scenario(argv[1], int(argv[2]), *argv[3:4])))
        return
    print(json.dumps(run(quick="--quick" in argv), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main(sys.argv[1:])
