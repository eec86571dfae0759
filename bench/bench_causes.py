"""Benchmark: is each incident's cause right, on a night of overlapping outages?

A simulated ISP (background churn; ONUs whose last dying gasp or LOS is months old; the OLTs
over SSH, the ERP over HTTP) lives a night of outages on top of each other, per seed:

- a power cut over three PONs of the busiest OLT, and 20 min later a fiber cut on a fourth PON
  of that OLT while the power is still out;
- a concentrator failure (every session of another OLT's connection ends, the ONUs stay up);
- a CTO failure, and a fiber cut on another PON of the same OLT 25 min later;
- a power cut over two PONs of a third OLT whose concentrator fails 15 min later.

The monitor runs its own 5-minute `--once` cycles on the simulated clock. Each incident the
monitor opened is matched to the outage that holds most of its logins; its cause is right
when it is the outage's (`energia` for power, `loss` for fiber and CTO, `concentrador` for the
concentrator). Also counted: the OLT records the analyzer was offered that were older than the
incident (a stale dying gasp or LOS) and were refused, and those that voted anyway (goal 0).

Run: `python -m bench.bench_causes` (3 seeds) or `--quick` (1 seed).
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections import Counter, defaultdict
from typing import Any

from bench import br, figure
from simulator.network import Network
from simulator.world import MonitoredIsp

CAUSE_OF = {
    "power_outage": "energia",
    "fiber_cut": "loss",
    "cto_failure": "loss",
    "concentrator_failure": "concentrador",
}
WORDS = {"energia": "falta de energia", "loss": "rompimento (fibra e CTO)", "concentrador": "concentrador"}


def night(seed: int) -> dict[str, Any]:
    """One night at one seed: per true cause, incidents and right causes; stale records."""
    with tempfile.TemporaryDirectory() as folder, MonitoredIsp(folder, customers=3000, seed=seed) as isp:
        isp.run(20)
        truth = _script(isp)
        return _score(isp, truth)


def _script(isp: MonitoredIsp) -> dict[str, str]:
    """Start the night's outages; returns outage id -> kind."""
    net = isp.network
    olts = _olts_by_pons(net)
    first, second, third = olts[0], olts[1], olts[2]
    started = {}
    started[net.power_outage([(first[0], p) for p in first[1][:3]], at=isp.clock.now + 40)] = "power_outage"
    isp.run(20)
    started[net.fiber_cut(first[0], first[1][3], at=isp.clock.now + 70)] = "fiber_cut"
    isp.run(25)
    started[net.concentrator_failure(net.olt(second[0]).conexao, at=isp.clock.now + 15)] = (
        "concentrator_failure"
    )
    isp.run(30)
    cto = next(c for c in net.ctos.values() if c.olt.id == third[0] and len(c.customers) >= 8)
    started[net.cto_failure(cto.id, at=isp.clock.now + 100)] = "cto_failure"
    isp.run(25)
    other = next(p for p in third[1] if p != cto.port)
    started[net.fiber_cut(third[0], other, at=isp.clock.now + 5)] = "fiber_cut"
    isp.run(40)
    net.recover_all(at=isp.clock.now)
    isp.run(30)
    fourth = olts[3] if len(olts) > 3 else first
    started[net.power_outage([(fourth[0], p) for p in fourth[1][:2]], at=isp.clock.now + 60)] = "power_outage"
    isp.run(15)
    started[net.concentrator_failure(net.olt(fourth[0]).conexao, at=isp.clock.now + 30)] = (
        "concentrator_failure"
    )
    isp.run(20)
    net.recover_all(at=isp.clock.now)
    isp.run(30)
    return started


def _olts_by_pons(net: Network) -> list[tuple[str, list[str]]]:
    pons: dict[str, list[str]] = defaultdict(list)
    for (olt, port), members in net.pons().items():
        if len(members) >= 16:
            pons[olt].append(port)
    return sorted(pons.items(), key=lambda item: -len(item[1]))


def _score(isp: MonitoredIsp, truth: dict[str, str]) -> dict[str, Any]:
    fell: dict[str, list[tuple[float, str]]] = defaultdict(list)  # login -> (when, outage), oldest first
    for outage_id in truth:
        for login, at in isp.network.taken_at(outage_id).items():
            fell[login].append((at, outage_id))
    for falls in fell.values():
        falls.sort()
    per_cause: dict[str, Counter[str]] = defaultdict(Counter)
    wrong = []
    stale_offered = stale_voted = 0
    for event in isp.events():
        logins = json.loads(event["logins"])
        owner = _owners(fell, event["ultima_queda"] or event["timestamp"])
        parts = json.loads(event["causas"] or "[]") or [{"motivo": event["motivo"], "logins": logins}]
        for part in parts:  # a widened incident's parts have causes of their own
            matched = Counter(owner[login] for login in part["logins"] if login in owner).most_common(1)
            if not matched or matched[0][1] * 2 < len(part["logins"]):
                continue  # churn or a stray: scored by the day benchmark
            expected = CAUSE_OF[truth[matched[0][0]]]
            per_cause[expected]["incidentes"] += 1
            per_cause[expected]["certos"] += part["motivo"] == expected
            if part["motivo"] != expected:
                wrong.append({"local": event["local"], "esperado": expected, "motivo": part["motivo"]})
        for evidence in json.loads(event["evidencias"] or "[]"):
            if _older_than_incident(evidence, event):
                stale_offered += 1
                stale_voted += bool(evidence.get("conta"))
    return {
        "por_causa": {k: dict(v) for k, v in per_cause.items()},
        "errados": wrong,
        "antigos_oferecidos": stale_offered,
        "antigos_que_votaram": stale_voted,
    }


def _owners(fell: dict[str, list[tuple[float, str]]], last_drop: float) -> dict[str, str]:
    """Each login's outage as an incident whose last drop was at `last_drop` sees it: the
    latest that took it down by then (the same customers may fall in several outages of a night;
    the ERP's times are whole seconds, so a minute of slack)."""
    owner = {}
    for login, falls in fell.items():
        before = [outage_id for at, outage_id in falls if at <= last_drop + 60]
        if before:
            owner[login] = before[-1]
    return owner


def _older_than_incident(evidence: dict[str, Any], event: Any) -> bool:
    from outage.adapters.cause.verdict import olt_epoch

    down = olt_epoch(str(evidence.get("caiu_em", "")))
    start = event["primeira_queda"] or event["timestamp"]
    return bool(down) and down < start - 3600


def run(quick: bool = False) -> dict[str, Any]:
    seeds = [1] if quick else [1, 2, 3]
    totals: dict[str, Counter[str]] = defaultdict(Counter)
    wrong: list[dict[str, Any]] = []
    offered = voted = 0
    for seed in seeds:
        result = night(seed)
        for cause, counts in result["por_causa"].items():
            totals[cause].update(counts)
        wrong += result["errados"]
        offered += result["antigos_oferecidos"]
        voted += result["antigos_que_votaram"]
    return {
        "seeds": seeds,
        "por_causa": {k: dict(v) for k, v in totals.items()},
        "errados": wrong,
        "antigos_oferecidos": offered,
        "antigos_que_votaram": voted,
    }


def figures(result: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for cause, counts in sorted(result["por_causa"].items()):
        total, right = counts.get("incidentes", 0), counts.get("certos", 0)
        share = 100.0 * right / total if total else 0.0
        rows.append(
            figure(
                f"causa certa: {WORDS[cause]} ({right} de {total} incidentes)",
                share,
                "%",
                "100 %",
                total > 0 and right == total,
            )
        )
    rows.append(
        figure(
            "registros antigos da OLT oferecidos / que votaram",
            result["antigos_que_votaram"],
            "votos",
            "0 votos",
            result["antigos_que_votaram"] == 0,
            f"{br(result['antigos_oferecidos'])} oferecidos e recusados",
        )
    )
    return rows


if __name__ == "__main__":
    outcome = run(quick="--quick" in sys.argv)
    print(json.dumps(outcome, ensure_ascii=False, indent=2))
    for row in figures(outcome):
        print(f"{row['nome']}: {br(row['valor'])} {row['unidade']} ({'ok' if row['ok'] else 'FALHOU'})")
