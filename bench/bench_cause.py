"""Benchmark: the cause of an event of 64 ONUs over 2 PONs on one emulated Huawei OLT.

The emulator (`simulator.olt_cli`) answers every command after 200 ms. Measured:

- `ours_pon_known`: the analyzer when the ERP gives the PON (`interface_transmissao`): one
  SSH session, one `display ont info summary` per PON (target ≤ 3 s);
- `ours_pon_unknown`: the analyzer when the ERP gives nothing but the login: one session,
  a `by-desc` per sampled ONU, then one summary per PON (target ≤ 3 s);
- `seed`: the seed's approach on the same emulator: per login, a new netmiko session, then
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

from outage.cause.analyzer import CompositeAnalyzer
from outage.cause.inventory import OltEntry
from outage.model import Subscriber
from simulator.olt_cli import OltEmulator

COMMAND_DELAY = 0.2
ONUS = 64
PONS = ("0/1/0", "0/1/1")
SEED_SLEEP = 2.0
SEED_LOGINS = 3
TARGET_SECONDS = 3.0


def network() -> list[dict[str, Any]]:
    """64 ONUs, half on each PON, all down by a power cut."""
    return [
        {
            "fsp": PONS[n % 2],
            "ont_id": n // 2,
            "sn": f"48575443{n:08X}",
            "description": f"cliente{n}",
            "run_state": "offline",
            "last_down_cause": "dying-gasp",
            "last_down_time": "2026-03-05 09:55:28-03:00",
            "last_up_time": "2026-03-05 08:56:12-03:00",
        }
        for n in range(ONUS)
    ]


def ours(olt: OltEmulator, pon_known: bool) -> dict[str, Any]:
    entry = OltEntry("1", "OLT-BENCH", "huawei", olt.host, olt.port, olt.username, olt.password)
    subscribers = [
        Subscriber(
            login=f"cliente{n}", id_transmissor="1", interface_transmissao=PONS[n % 2] if pon_known else ""
        )
        for n in range(ONUS)
    ]
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
        "commands": olt.commands_run - before,
        "ok": report.motivo == "energia" and seconds <= TARGET_SECONDS,
    }


def seed_one_login(olt: OltEmulator, login: str) -> str:
    """What the seed's middleware did for one login: its own session and fixed sleeps."""
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
        result["note"] = f"medido 1 login ({seconds:.2f} s) e multiplicado por {SEED_LOGINS}"
    return result


def run(quick: bool) -> dict[str, Any]:
    """Both figures on one emulator answering each command after 200 ms."""
    with OltEmulator("huawei", network(), command_delay=COMMAND_DELAY) as olt:
        results: dict[str, Any] = {
            "ours_pon_known": ours(olt, pon_known=True),
            "ours_pon_unknown": ours(olt, pon_known=False),
            "seed": seed(olt, quick),
        }
    results["target_seconds"] = TARGET_SECONDS
    results["speedup_vs_seed"] = round(results["seed"]["seconds"] / results["ours_pon_unknown"]["seconds"], 1)
    results["ok"] = results["ours_pon_known"]["ok"] and results["ours_pon_unknown"]["ok"]
    return results


if __name__ == "__main__":
    print(json.dumps(run(quick="--quick" in sys.argv), indent=2, ensure_ascii=False))
