"""The benchmark suite: every benchmark module, one table, one JSON report.

    python -m bench            full mode (the figures of the README; a few minutes)
    python -m bench --quick    quick mode for CI (small sizes, seconds per module)
    python -m bench --only core,api

Modules: `bench_core` (cycle time at 200k, ERP read), cycle time at 10k/100k (full mode,
through `bench_core.cycle_scenario` in subprocesses), `bench_day` (a simulated day scored
against its truth at 3k/30k/200k), `bench_cause`, `bench_causes` (is each incident's cause
right on a night of overlapping outages), `bench_alerts`, `bench_alarms` (network alarms taken per second,
a whole OLT dark, a flood),
`bench_hsm` (when present), `bench_api`, `bench_failover` (two instances, the active one killed
with SIGKILL 20 times: about 15 minutes; 2 times in quick mode). Each figure is a row `{"nome", "valor", "unidade",
"meta", "limite", "ok"}`: the target next to the bound physics allows (page latency times
pages over concurrency, pacing, ...), so the distance to both is visible. A module that
fails becomes one failed row; the others still run. Report: `bench/results.json`.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench import br, figure

RESULTS = Path(__file__).resolve().parent / "results.json"
Figure = dict[str, Any]


def _alert_figures(result: dict[str, Any]) -> list[Figure]:
    rows = []
    for part in result.values():
        if not isinstance(part, dict) or "throughput_per_s" not in part:
            continue
        cap = " e teto de 30/s" if part.get("overall_cap_per_s") else ""
        rows.append(
            figure(
                f"alertas Telegram: {br(part['messages_expected'])} em {part['chats']} chats "
                f"({part['per_chat_per_minute']}/min por chat{cap})",
                part["throughput_per_s"],
                "msg/s",
                "90–110% do limite, 0 perdidas, 0 duplicadas",
                bool(part["ok"]),
                f"limite {br(part['pacing_limit_per_s'])} msg/s; perdidas {part['lost']}, "
                f"duplicadas {part['duplicates']}",
            )
        )
    return rows


def _cause_figures(result: dict[str, Any]) -> list[Figure]:
    from bench.bench_causes import figures

    return figures(result)


def _cycle_sizes(quick: bool) -> dict[str, Any]:
    """Cycle time and peak RSS at 10k and 100k subscribers (200k is in bench_core)."""
    from bench.bench_core import _in_subprocess

    if quick:
        return {"figuras": [], "detalhes": {}}
    rows: list[Figure] = []
    details: dict[str, Any] = {}
    for total in (10_000, 100_000):
        steady = _in_subprocess("steady", total)
        worst = _in_subprocess("worst", total)
        details[str(total)] = {"estavel": steady, "pior_caso": worst}
        rows += [
            figure(
                f"ciclo estável ({br(total)} assinantes)",
                steady["segundos"] * 1000,
                "ms",
                "<= 100",
                steady["segundos"] <= 0.1,
            ),
            figure(
                f"ciclo pior caso ({br(total)} caem)", worst["segundos"], "s", "<= 3", worst["segundos"] <= 3
            ),
            figure(
                f"pico de RSS, pior caso ({br(total)})",
                worst["pico_rss_mb"],
                "MB",
                "<= 300",
                worst["pico_rss_mb"] <= 300,
            ),
        ]
    return {"figuras": rows, "detalhes": details}


def _module(
    name: str, adapt: Callable[[dict[str, Any]], list[Figure]] | None = None
) -> Callable[[bool], Any]:
    def run(quick: bool) -> dict[str, Any]:
        result: dict[str, Any] = importlib.import_module(f"bench.{name}").run(quick)
        if "figuras" not in result and adapt is not None:
            return {"figuras": adapt(result), "detalhes": result}
        return result

    return run


def suites() -> dict[str, Callable[[bool], dict[str, Any]]]:
    """Every benchmark, by short name, in the order of the table; `hsm` only when present."""
    found = {
        "core": _module("bench_core"),
        "ciclos": _cycle_sizes,
        "dia": _module("bench_day"),
        "causa": _module("bench_cause"),
        "causas": _module("bench_causes", _cause_figures),
        "alertas": _module("bench_alerts", _alert_figures),
        "hsm": _module("bench_hsm"),
        "api": _module("bench_api"),
        "alarmes": _module("bench_alarms"),
        "ouvidos": _module("bench_heard"),
        "failover": _module("bench_failover"),
    }
    if not (Path(__file__).resolve().parent / "bench_hsm.py").exists():
        del found["hsm"]
    return found


def run_all(quick: bool, only: Sequence[str] = ()) -> dict[str, Any]:
    """Run the suites (all, or those in `only`) and return the report written to results.json."""
    rows: list[Figure] = []
    details: dict[str, Any] = {}
    for name, suite in suites().items():
        if only and name not in only:
            continue
        print(f"... {name}", file=sys.stderr, flush=True)
        started = time.monotonic()
        try:
            result = suite(quick)
        except Exception as exc:
            traceback.print_exc()
            result = {
                "figuras": [figure(f"{name}: falhou ({exc.__class__.__name__}: {exc})", 0, "", "—", False)]
            }
        for row in result.get("figuras", []):
            rows.append({"bench": name, **row})
        details[name] = {"detalhes": result.get("detalhes"), "segundos": round(time.monotonic() - started, 1)}
    return {
        "modo": "rápido" if quick else "completo",
        "quando": time.strftime("%Y-%m-%d %H:%M:%S"),
        "maquina": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "sistema": platform.platform(),
        },
        "figuras": rows,
        "detalhes": details,
    }


def _value(row: Figure) -> str:
    """The value with three significant digits (whole above 100), the Brazilian way: `2,38 s`."""
    value = row["valor"]
    if abs(value) >= 100:
        text = br(value, 0)
    elif abs(value) >= 10:
        text = br(value, 1)
    else:
        text = f"{value:.3g}".replace(".", ",")
    return f"{text} {row['unidade']}".strip()


def table(rows: Sequence[Figure], markdown: bool = False) -> str:
    """The figures as a table: figure, value, target, limit, ok."""
    header = ("Figura", "Valor", "Meta", "Limite", "OK")
    lines = [(r["nome"], _value(r), r["meta"], r["limite"], "sim" if r["ok"] else "NÃO") for r in rows]
    if markdown:
        out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        out += ["| " + " | ".join(str(c).replace("|", "\\|") for c in line) + " |" for line in lines]
        return "\n".join(out)
    widths = [max(len(str(c)) for c in column) for column in zip(header, *lines, strict=False)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join(
        [fmt.format(*header), fmt.format(*("-" * w for w in widths))] + [fmt.format(*ln) for ln in lines]
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description="Suíte de benchmarks")
    parser.add_argument("--quick", action="store_true", help="modo rápido (CI): tamanhos pequenos")
    parser.add_argument("--only", default="", help=f"só estes, separados por vírgula: {','.join(suites())}")
    parser.add_argument("--markdown", action="store_true", help="tabela em Markdown (para o README)")
    parser.add_argument("--output", default=str(RESULTS), help="onde gravar o relatório JSON")
    args = parser.parse_args(argv)
    only = [name.strip() for name in args.only.split(",") if name.strip()]
    report = run_all(args.quick, only)
    Path(args.output).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(table(report["figuras"], markdown=args.markdown))
    print(f"\nRelatório: {args.output}")
    return 0 if all(row["ok"] for row in report["figuras"]) else 1


if __name__ == "__main__":
    sys.exit(main())
