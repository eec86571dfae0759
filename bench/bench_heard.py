"""Benchmark: from an outage to the NOC's first message, with the network's alarms on and off.

    python -m bench.bench_heard            the day at 3,000 and 30,000 logins, a whole OLT dark
    python -m bench.bench_heard --quick    the day at 3,000 logins, a whole OLT dark

The scripted day of `bench.bench_day` (real churn — whose ONUs send their dying gasps too —,
twelve outages, a bad night of overlapping ones) runs twice on the simulated clock through
`simulator.heard.HeardDay`: once with the OLTs' traps and syslog alarms and the concentrators'
accounting reaching the real receivers over UDP/TCP on 127.0.0.1 (the poller reading them
every 2 s, the ERP polled every 5 min), once on ERP polls alone. For each outage episode: the
seconds from its onset to its first NOC message being queued (sending adds the channel's own
delay: under a second to Telegram). Also scored: false incidents (those opened by alarms
alone among them), alarms the ERP never confirmed.

A whole OLT dark: 4,096 ONUs of one OLT lose power within 2 s; one incident, cause energia,
place the OLT, its message within 20 s.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from bench import br, figure

THRESHOLD = 4
QUORUM = 0.9
START = 1_767_236_400.0  # 2026-01-01 00:00:00 in São Paulo


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * (len(ordered) - 1) + 0.5))] if ordered else 0.0


def day(customers: int, alarms: bool, seed: int = 1) -> dict[str, Any]:
    """One scripted day, scored: delays to the first message, false incidents."""
    from bench.day import score_day
    from simulator.day import ScriptedDay
    from simulator.heard import HeardDay

    scripted = ScriptedDay(customers=customers, seed=seed, start=START)
    env = {"THRESHOLD_OFFLINE_CLIENTS": str(THRESHOLD), "RESOLVE_QUORUM": str(QUORUM)}
    started = time.monotonic()
    with (
        tempfile.TemporaryDirectory() as tmp,
        HeardDay(scripted, tmp, alarms=alarms, step=2.0 if alarms else 300.0, env=env) as watched,
    ):
        watched.run()
        score = score_day(watched.conn, scripted, watched.cycles, threshold=THRESHOLD, quorum=QUORUM)
        origins = dict(watched.conn.execute("SELECT id, origem FROM events").fetchall())
        unconfirmed = watched.conn.execute(
            "SELECT COUNT(*) FROM events WHERE resolvido_por = 'alarme não confirmado'"
        ).fetchone()[0]
        by_alarm = sum(1 for origin in origins.values() if origin == "alarme")
        fed = watched.feed.counts if watched.feed is not None else None
    delays = [e.told_after for e in score.episodes if e.told_after is not None]
    return {
        "logins": customers,
        "alarmes": alarms,
        "segundos": round(time.monotonic() - started, 1),
        "episodios": len(score.episodes),
        "avisados": len(delays),
        "atraso_mediana_s": round(statistics.median(delays), 1) if delays else None,
        "atraso_p95_s": round(_percentile(delays, 0.95), 1) if delays else None,
        "atraso_pior_s": round(max(delays), 1) if delays else None,
        "atrasos_s": [round(d, 1) for d in delays],
        "silenciosos": len(score.silent),
        "retidos": len(score.held),
        "falsos": len(score.false_events),
        "falsos_por_alarme": sum(1 for e in score.false_events if origins.get(e["id"]) == "alarme"),
        "abertos_por_alarme": by_alarm,
        "nao_confirmados": unconfirmed,
        "quedas_entregues": fed.quedas if fed is not None else 0,
    }


class _Night:
    """A quiet stretch of churn over `network`, for `HeardDay` (the day's interface)."""

    def __init__(self, network: Any, clock: Any, start: float, hours: float) -> None:
        self.network, self.clock, self.start, self.end = network, clock, start, start + hours * 3600

    def advance(self, now: float) -> None:
        self.clock.now = now
        self.network.advance(now)


def whole_olt_dark() -> dict[str, Any]:
    """4,096 ONUs of one OLT lose power within 2 s, with churn on the other OLT."""
    from simulator.day import SimClock
    from simulator.heard import HeardDay
    from simulator.network import REALISTIC, Network

    clock = SimClock(START)
    timing = replace(REALISTIC, power_spread=2.0, onset_spread=2.0)
    network = Network(customers=8192, seed=3, clock=clock, timing=timing, olt_size=4096)
    olt = network.olts[0]
    pons = sorted(port for (ident, port) in network.pons() if ident == olt.id)
    night = _Night(network, clock, START, 1.0)
    env = {"THRESHOLD_OFFLINE_CLIENTS": str(THRESHOLD), "RESOLVE_QUORUM": str(QUORUM)}
    with tempfile.TemporaryDirectory() as tmp, HeardDay(night, tmp, env=env) as watched:
        watched.run(until=START + 900)  # the baseline, the tables learned, quiet churn
        onset = clock.now + 10
        network.power_outage([(olt.id, port) for port in pons], share=1.0, at=onset)
        dark = sum(len(network.pons()[(olt.id, port)]) for port in pons)
        watched.run(until=onset + 120)
        rows = watched.conn.execute(
            "SELECT id, escopo, motivo, local, logins, origem, timestamp FROM events WHERE timestamp >= ?",
            (onset,),
        ).fetchall()
        first = watched.conn.execute(
            "SELECT MIN(created_at) FROM outbox WHERE kind = 'abertura' AND created_at >= ?", (onset,)
        ).fetchone()[0]
    big = [r for r in rows if len(json.loads(r["logins"])) >= dark // 2]
    return {
        "onus": dark,
        "incidentes": len(rows),
        "incidentes_grandes": len(big),
        "escopo": big[0]["escopo"] if big else None,
        "causa": big[0]["motivo"] if big else None,
        "local": big[0]["local"] if big else None,
        "clientes": len(json.loads(big[0]["logins"])) if big else 0,
        "mensagem_em_s": round(first - onset, 1) if first is not None else None,
    }


def run(quick: bool = False) -> dict[str, Any]:
    sizes = (3_000,) if quick else (3_000, 30_000)
    days = {n: (day(n, alarms=True), day(n, alarms=False)) for n in sizes}
    dark = whole_olt_dark()
    rows = []
    for n, (heard, polled) in days.items():
        rows.append(
            figure(
                f"queda → 1ª mensagem ao NOC, alarmes ligados, {br(n)} logins (mediana / p95)",
                heard["atraso_mediana_s"],
                "s",
                "<= 15 s / <= 30 s",
                (heard["atraso_mediana_s"] or 99) <= 15 and (heard["atraso_p95_s"] or 99) <= 30,
                f"p95 {br(heard['atraso_p95_s'])} s, pior {br(heard['atraso_pior_s'])} s; "
                f"{heard['avisados']} de {heard['episodios']} episódios avisados ({heard['retidos']} retidos de propósito)",
            )
        )
        rows.append(
            figure(
                f"queda → 1ª mensagem ao NOC, só o ERP (hoje), {br(n)} logins (mediana / p95)",
                polled["atraso_mediana_s"],
                "s",
                "comparação",
                True,
                f"p95 {br(polled['atraso_p95_s'])} s, pior {br(polled['atraso_pior_s'])} s (ciclo de 5 min)",
            )
        )
        rows.append(
            figure(
                f"incidentes falsos no dia com alarmes, {br(n)} logins",
                heard["falsos"],
                "incidentes",
                "0 (abertos só por alarme: 0)",
                heard["falsos"] == 0 and heard["falsos_por_alarme"] == 0,
                f"{heard['abertos_por_alarme']} abertos por alarme, {heard['nao_confirmados']} não confirmados pelo ERP; "
                f"{br(heard['quedas_entregues'])} quedas de alarme entregues ao detector",
            )
        )
    rows.append(
        figure(
            "OLT inteira apagada (4.096 ONUs em 2 s): 1ª mensagem ao NOC",
            dark["mensagem_em_s"],
            "s",
            "1 incidente, energia, a OLT, <= 20 s",
            dark["incidentes_grandes"] == 1
            and dark["causa"] == "energia"
            and dark["escopo"] == "olt"
            and (dark["mensagem_em_s"] or 99) <= 20,
            f"{dark['incidentes']} incidente(s), {br(dark['clientes'])} clientes, causa {dark['causa']}, {dark['local']}",
        )
    )
    return {"figuras": rows, "detalhes": {"dias": days, "olt_apagada": dark}}


def main(argv: Sequence[str] | None = None) -> int:
    quick = "--quick" in (argv if argv is not None else sys.argv[1:])
    result = run(quick)
    print(json.dumps(result["detalhes"], indent=2, ensure_ascii=False))
    for row in result["figuras"]:
        print(row)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
