"""Detection over a simulated day with real churn and twelve scripted outages (a bad night of
overlapping ones among them, and one right after the baseline), scored against truth.

    python -m bench.bench_day            3,000, 30,000 and 200,000 logins (a few minutes)
    python -m bench.bench_day --quick    3,000 logins

The simulated ISP (`simulator.day.ScriptedDay`) and its ERP (`FakeIXC`, real HTTP) run in this
process; the monitor runs in a worker subprocess (`--worker`) that reads each cycle's simulated
time on stdin, runs one `Monitor.run_cycle` on that clock and answers its timings, so its peak
RSS is its own. Scoring: `bench.day`. Targets: 0 false incidents, every outage detected in the
first cycle that can see it, normalization within 1 cycle of quorum, at most 2 NOC messages per
incident besides its widenings, every outage told within one cycle with its count, no silent
outage, no false "voltou a cair", 0 churn logins inside incidents; steady cycles (detection + persistence) <= 100 ms
and peak RSS <= 300 MB at 200,000.
"""

from __future__ import annotations

import json
import os
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
THRESHOLD = 4
QUORUM = 0.9
CHANNEL = "telegram:-1001"


def worker() -> None:
    """The monitor's side: one cycle per line of stdin (a simulated time), timings on stdout."""
    from outage.adapters.channels.registry import CHANNELS
    from outage.adapters.erp import ERPS, build_reader
    from outage.config import load_settings
    from outage.db import open_database
    from outage.monitor import Monitor

    settings, _ = load_settings(channels=CHANNELS, erps=ERPS)
    clock = [0.0]
    monitor = Monitor(settings, build_reader(settings), None, [CHANNEL], clock=lambda: clock[0])
    conn = open_database(settings.database_path)
    for line in sys.stdin:
        clock[0] = float(line)
        result = monitor.run_cycle(conn)
        timing = {
            "detect": monitor.last_detect_seconds,
            "total": result.duration,
            "offline": result.counts.offline,
        }
        print(json.dumps(timing), flush=True)
    conn.close()
    print(json.dumps({"rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}), flush=True)


def day_at(customers: int, seed: int = 1) -> dict[str, Any]:
    """Run and score one simulated day at `customers` logins."""
    from bench.day import START, drive, score_day
    from outage.db import open_database
    from simulator.day import ScriptedDay
    from simulator.ixc import FakeIXC

    built = time.monotonic()
    day = ScriptedDay(customers=customers, seed=seed, start=START)
    build_seconds = time.monotonic() - built
    with tempfile.TemporaryDirectory() as tmp, FakeIXC(day.network) as ixc:
        database = f"{tmp}/day.db"
        env = {
            **os.environ,
            "DATABASE_PATH": database,
            "SECRET_KEY": "b" * 64,
            "IXC_URL": ixc.url,
            "IXC_USER": ixc.user,
            "IXC_TOKEN": ixc.token,
            "THRESHOLD_OFFLINE_CLIENTS": str(THRESHOLD),
            "RESOLVE_QUORUM": str(QUORUM),
            "LOG_LEVEL": "WARNING",
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.bench_day", "--worker"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert process.stdin is not None and process.stdout is not None
        timings: list[dict[str, float]] = []

        def cycle(now: float) -> None:
            assert process.stdin is not None and process.stdout is not None
            process.stdin.write(f"{now!r}\n")
            process.stdin.flush()
            timings.append(json.loads(process.stdout.readline()))

        started = time.monotonic()
        cycles = drive(day, cycle)
        wall = time.monotonic() - started
        process.stdin.close()
        peak = json.loads(process.stdout.readline())["rss_mb"]
        process.wait(timeout=60)
        conn = open_database(database)
        score = score_day(conn, day, cycles, threshold=THRESHOLD, quorum=QUORUM)
        conn.close()
    steady = sorted(t["detect"] for t in timings[1:])
    return {
        "logins": customers,
        "ciclos": len(cycles),
        "segundos_de_simulacao": round(wall, 1),
        "segundos_montando_a_rede": round(build_seconds, 1),
        "falsos": len(score.false_events),
        "episodios": len(score.episodes),
        "detectados": sum(1 for e in score.episodes if e.detected),
        "no_primeiro_ciclo": score.detected_in_one_cycle,
        "avisados_com_contagem": score.told_in_one_cycle_with_count,
        "silenciosos": len(score.silent),
        "retidos": len(score.held),
        "falsos_voltou_a_cair": len(score.false_recurrences),
        "mensagens_por_queda_max": max(score.messages_per_outage.values(), default=0),
        "ciclos_ate_normalizar_max": score.worst_normalization_lag,
        "mensagens_noc_max": score.most_messages,
        "mensagens_noc_media": round(statistics.mean(score.messages_per_event.values() or [0]), 2),
        "churn_dentro": score.churn_inside,
        "fora_dos_eventos": sum(e.missing for e in score.episodes),
        "deteccao_ms_mediana": round(statistics.median(steady) * 1000, 2),
        "deteccao_ms_p95": round(steady[int(0.95 * (len(steady) - 1))] * 1000, 2),
        "deteccao_ms_max": round(steady[-1] * 1000, 2),
        "ciclo_total_ms_mediana": round(statistics.median(t["total"] for t in timings[1:]) * 1000, 1),
        "pico_rss_mb": round(peak, 1),
        "placar": score.as_dict(),
    }


def _figures(result: dict[str, Any]) -> list[dict[str, Any]]:
    size = f"{br(result['logins'])} logins"
    rows = [
        figure(f"dia simulado, {size}: incidentes falsos", result["falsos"], "", "0", result["falsos"] == 0),
        figure(
            f"dia simulado, {size}: detectados no 1º ciclo que os vê",
            100 * result["no_primeiro_ciclo"] / result["episodios"],
            "%",
            "100",
            result["no_primeiro_ciclo"] == result["episodios"],
            f"{result['no_primeiro_ciclo']} de {result['episodios']} episódios",
        ),
        figure(
            f"dia simulado, {size}: quedas avisadas em até 1 ciclo, com a contagem",
            100 * result["avisados_com_contagem"] / (result["episodios"] - result["retidos"]),
            "%",
            "100",
            result["avisados_com_contagem"] == result["episodios"] - result["retidos"],
            f"{result['avisados_com_contagem']} de {result['episodios'] - result['retidos']} episódios"
            " (fora as recorrências retidas)",
        ),
        figure(
            f"dia simulado, {size}: quedas silenciosas / falsos 'voltou a cair'",
            result["silenciosos"] + result["falsos_voltou_a_cair"],
            "",
            "0 / 0",
            result["silenciosos"] == 0 and result["falsos_voltou_a_cair"] == 0,
            f"{result['silenciosos']} silenciosas, {result['falsos_voltou_a_cair']} falsos 'voltou a cair'; "
            f"{result['retidos']} recorrências retidas de propósito",
        ),
        figure(
            f"dia simulado, {size}: ciclos do quórum à normalização (pior)",
            result["ciclos_ate_normalizar_max"],
            "",
            "<= 1",
            result["ciclos_ate_normalizar_max"] <= 1,
        ),
        figure(
            f"dia simulado, {size}: mensagens ao NOC por incidente, fora as ampliações (pior)",
            result["mensagens_noc_max"],
            "",
            "<= 2",
            result["mensagens_noc_max"] <= 2,
            f"média {br(result['mensagens_noc_media'])}",
        ),
        figure(
            f"dia simulado, {size}: logins de churn dentro de incidentes",
            result["churn_dentro"],
            "",
            "0",
            result["churn_dentro"] == 0,
            f"{result['fora_dos_eventos']} logins vistos offline fora do seu incidente",
        ),
        figure(
            f"dia simulado, {size}: ciclo estável (detecção + gravação, p95)",
            result["deteccao_ms_p95"],
            "ms",
            "<= 100",
            result["deteccao_ms_p95"] <= 100,
            f"mediana {br(result['deteccao_ms_mediana'])} ms; máx. {br(result['deteccao_ms_max'])} ms",
        ),
        figure(
            f"dia simulado, {size}: pico de RSS do monitor",
            result["pico_rss_mb"],
            "MB",
            "<= 300",
            result["pico_rss_mb"] <= 300,
        ),
    ]
    return rows


def run(quick: bool) -> dict[str, Any]:
    sizes = (3_000,) if quick else (3_000, 30_000, 200_000)
    results = [day_at(size) for size in sizes]
    return {"figuras": [row for result in results for row in _figures(result)], "detalhes": results}


def main(argv: list[str]) -> None:
    if argv[:1] == ["--worker"]:
        worker()
        return
    if argv[:1] == ["--size"]:
        print(json.dumps(day_at(int(argv[1])), indent=2, ensure_ascii=False))
        return
    print(json.dumps(run(quick="--quick" in argv), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main(sys.argv[1:])
