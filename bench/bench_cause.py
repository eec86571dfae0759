"""Benchmark: the cause of an event of 64 ONUs over 2 PONs on one emulated OLT, Huawei and ZTE C600.

The emulators (`simulator.olt_cli`) answer every command after 200 ms; each figure is shown
next to its lower bound, the commands the analyzer sent times that latency. Measured:

- Huawei (MA5800), `huawei_pon_known`: the ERP gives the PON (`interface_transmissao`): one
  SSH session, one `display ont info summary` per PON (target ≤ 3 s);
- Huawei, `huawei_pon_unknown`: the ERP gives nothing but the login: one session, a `by-desc`
  per sampled ONU, then one summary per PON (target ≤ 3 s);
- ZTE C600, `c600_onu_known`: the ERP names the ONU (`gpon_onu-1/4/1:2`): one session, one
  `show gpon onu state gpon_olt-…` per PON (paged: a C600 ignores `terminal length 0`);
- ZTE C600, `c600_serial`: the ERP gives the PON and the serial: one `show gpon onu by sn`
  per sampled ONU, then the state per PON (target ≤ 3 s);
- `seed`: the original monitor's approach on the Huawei emulator: per login, a new netmiko session, then
  `enable`, `config`, `display ont info by-desc`, `display ont info F S P ID`, each followed
  by a fixed 2 s sleep, for its 3 sample logins in sequence. The quick run measures one
  login and multiplies by 3 (said in the result); the full run measures all three.

Run: `python -m bench.bench_cause` (full) or `python -m bench.bench_cause --quick`.
"""

from __future__ import annotations

import json
import re
import sys
import time
from typing import Any

from netmiko import ConnectHandler

from bench import br, figure
from outage.adapters.cause.analyzer import CompositeAnalyzer
from outage.adapters.cause.inventory import OltEntry
from outage.core.model import Subscriber
from simulator.olt_cli import OltEmulator

COMMAND_DELAY = 0.2
ONUS = 64
HUAWEI_PONS = ("0/1/0", "0/1/1")
C600_PONS = ("1/4/1", "1/4/2")
SEED_SLEEP = 2.0
SEED_LOGINS = 3
TARGET_SECONDS = 3.0


def network(pons: tuple[str, str], serial_prefix: str) -> list[dict[str, Any]]:
    """64 ONUs, half on each PON, all down by a power cut."""
    return [
        {
            "fsp": pons[n % 2],
            "ont_id": n // 2 + 1,
            "sn": f"{serial_prefix}{n:08X}",
            "description": f"cliente{n}",
            "run_state": "offline",
            "last_down_cause": "dying-gasp",
            "last_down_time": "2026-03-05 09:55:28-03:00",
            "last_up_time": "2026-03-05 08:56:12-03:00",
        }
        for n in range(ONUS)
    ]


def huawei_subscriber(onu: dict[str, Any], pon_known: bool) -> Subscriber:
    return Subscriber(
        login=onu["description"], id_transmissor="1", interface_transmissao=onu["fsp"] if pon_known else ""
    )


def c600_subscriber(onu: dict[str, Any], onu_known: bool) -> Subscriber:
    interface = f"gpon_onu-{onu['fsp']}:{onu['ont_id']}" if onu_known else f"gpon_olt-{onu['fsp']}"
    return Subscriber(
        login=onu["description"], id_transmissor="1", interface_transmissao=interface, onu_mac=onu["sn"]
    )


def ours(olt: OltEmulator, subscribers: list[Subscriber]) -> dict[str, Any]:
    """One analysis of the event on `olt` (its inventory entry names its vendor and model)."""
    entry = OltEntry(
        "1", "OLT-BENCH", olt.vendor, olt.host, olt.port, olt.username, olt.password, model=olt.model
    )
    analyzer = CompositeAnalyzer({"1": entry}, sample_size=5, olt_timeout=20)
    before = olt.commands_run
    started = time.perf_counter()
    report = analyzer.analyze(subscribers, deadline=time.monotonic() + 20)
    seconds = time.perf_counter() - started
    return {
        "seconds": round(seconds, 2),
        "motivo": report.motivo,
        "votos": report.votos,
        "local": report.local,
        "erros": report.erros,
        "commands": olt.commands_run - before,
        "ok": report.motivo == "energia" and seconds <= TARGET_SECONDS,
    }


def seed_one_login(olt: OltEmulator, login: str) -> str:
    """What the original monitor's middleware did for one login: its own session and fixed sleeps."""
    conn = ConnectHandler(
        device_type="huawei_smartax",
        host=olt.host,
        port=olt.port,
        username=olt.username,
        password=olt.password,
    )
    try:
        for command in ("enable", "config", f"display ont info by-desc {login}"):
            conn.write_channel(command + "\n")
            time.sleep(SEED_SLEEP)
        listing = conn.read_channel()
        match = re.search(r"(\d+)/\s*(\d+)/(\d+)\s+(\d+)\s+[0-9A-F]{16}", listing)
        if not match:
            return ""
        conn.write_channel("display ont info {} {} {} {}\n".format(*match.groups()))
        time.sleep(SEED_SLEEP)
        detail = conn.read_channel()
    finally:
        conn.disconnect()
    cause = re.search(r"Last down cause\s*:\s*(\S+)", detail)
    return cause.group(1) if cause else ""


def seed(olt: OltEmulator, quick: bool) -> dict[str, Any]:
    measured = 1 if quick else SEED_LOGINS
    started = time.perf_counter()
    causes = [seed_one_login(olt, f"cliente{n}") for n in range(measured)]
    seconds = time.perf_counter() - started
    total = seconds * SEED_LOGINS / measured
    result: dict[str, Any] = {"seconds": round(total, 2), "logins": SEED_LOGINS, "causes": causes}
    if quick:
        result["note"] = f"medido 1 login ({br(seconds, 2)} s) e multiplicado por {SEED_LOGINS}"
    return result


def run(quick: bool) -> dict[str, Any]:
    """Every figure, each OLT answering each command after 200 ms."""
    onus = network(HUAWEI_PONS, "48575443")
    with OltEmulator("huawei", onus, model="MA5800-X7", command_delay=COMMAND_DELAY) as olt:
        results: dict[str, Any] = {
            "huawei_pon_known": ours(olt, [huawei_subscriber(o, pon_known=True) for o in onus]),
            "huawei_pon_unknown": ours(olt, [huawei_subscriber(o, pon_known=False) for o in onus]),
            "seed": seed(olt, quick),
        }
    onus = network(C600_PONS, "5A544547")
    with OltEmulator("zte", onus, model="C600", command_delay=COMMAND_DELAY) as olt:
        results["c600_onu_known"] = ours(olt, [c600_subscriber(o, onu_known=True) for o in onus])
        results["c600_serial"] = ours(olt, [c600_subscriber(o, onu_known=False) for o in onus])
    speedup = results["seed"]["seconds"] / results["huawei_pon_unknown"]["seconds"]
    return {"figuras": figures(results, speedup), "detalhes": results}


OURS = {
    "huawei_pon_known": "Huawei, PON conhecida",
    "huawei_pon_unknown": "Huawei, PON desconhecida",
    "c600_onu_known": "ZTE C600, ONU conhecida",
    "c600_serial": "ZTE C600, PON e serial",
}


def figures(results: dict[str, Any], speedup: float) -> list[dict[str, Any]]:
    """The table rows: each of ours next to commands × latency, then the original monitor's approach."""
    rows = []
    for key, label in OURS.items():
        part = results[key]
        bound = part["commands"] * COMMAND_DELAY
        rows.append(
            figure(
                f"análise de causa, 64 ONUs em 2 PONs, {label} (OLT a {br(COMMAND_DELAY * 1000, 0)} ms/comando)",
                part["seconds"],
                "s",
                f"<= {br(TARGET_SECONDS)}",
                bool(part["ok"]),
                f"mín. {br(bound, 1)} s ({part['commands']} comandos)",
            )
        )
    rows.append(
        figure(
            "análise de causa do sistema original (3 logins, sessão SSH por login, esperas fixas)",
            results["seed"]["seconds"],
            "s",
            "—",
            True,
            f"{br(speedup, 1)}x mais lento que a nossa",
        )
    )
    return rows


if __name__ == "__main__":
    print(json.dumps(run(quick="--quick" in sys.argv), indent=2, ensure_ascii=False))
