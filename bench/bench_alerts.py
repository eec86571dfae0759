"""Benchmark: 1,000 queued NOC alerts to a fake Telegram answering in 20 ms.

Checks that the sender keeps to the per-chat pacing (throughput within 10% of the
pacing limit, never above it) and that every alert arrives exactly once (counted at
the fake: no duplicate, no loss).

Pacing configuration: with the real defaults (20/min per group, 30/s overall) 1,000
messages take many minutes, which measures nothing but the clock. The quick run uses 20
chats at 300/min each (5/s per chat, 100/s in all) with Telegram's 30/s overall cap
lifted, so the run takes about 10 s and the limit being measured is the per-chat pacing
alone. (100/s in all stays below what one process running both the sender and the fake
can push, about 160/s with 20 ms answers, so the pacing -- not the machine -- is what
is measured.) The full run adds a second scenario at Telegram's real overall cap: 10 chats at
180/min (30/s in all, about 33 s).

Run: `python -m bench.bench_alerts` (full) or `python -m bench.bench_alerts --quick`.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections import Counter, defaultdict
from typing import Any

from outage.adapters.channels import telegram
from outage.adapters.channels.registry import configured_channels
from outage.adapters.channels.telegram import TelegramChannel, TelegramSettings
from outage.alerts.sender import Sender
from outage.config import Settings
from outage.db import open_database, transaction
from outage.storage.outbox import Alert, enqueue
from simulator.telegram import FakeTelegram

ALERTS = 1000
LATENCY = 0.020


def scenario(chats: int, per_chat_per_minute: int, *, overall_cap: bool) -> dict[str, Any]:
    """Queue `ALERTS` rows spread over `chats` chats, deliver them all, measure at the fake."""
    fake = FakeTelegram(latency=LATENCY)
    fake.start()  # not `with`: the base class's __enter__ is typed as the base class
    try:
        return _measure(fake, chats, per_chat_per_minute, overall_cap)
    finally:
        fake.stop()


def _measure(fake: FakeTelegram, chats: int, per_chat_per_minute: int, overall_cap: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        chat_ids = tuple(f"-100{i:04d}" for i in range(chats))
        own = TelegramSettings(
            bot_token=fake.token, chat_ids=chat_ids, api_url=fake.url, per_chat_per_minute=per_chat_per_minute
        )
        settings = Settings(channels={"telegram": own})
        db_path = f"{folder}/bench.db"
        expected = _queue(db_path, settings, ALERTS // chats)
        channel = TelegramChannel(
            fake.token, api_url=fake.url, per_chat_per_minute=per_chat_per_minute, max_clients=50
        )
        if not overall_cap:
            channel.provider_interval = 0.0
        sender = Sender(db_path, settings, channels={"telegram": channel})
        started = time.monotonic()
        stats = sender.deliver_due(max_wait=600)
        elapsed = time.monotonic() - started
        sender.close()
        return _report(fake, expected, elapsed, stats.sent, chats, per_chat_per_minute, overall_cap)


def _queue(db_path: str, settings: Settings, alerts: int) -> Counter[tuple[str, str]]:
    conn = open_database(db_path)
    batch = [
        Alert("causa", {"conexao": f"OLT-{i:05d}", "motivo": "loss", "local": "", "total": 10})
        for i in range(alerts)
    ]
    with transaction(conn):
        enqueue(conn, batch, configured_channels(settings), time.time())
    conn.close()
    return Counter(
        (chat, f"OLT-{i:05d}") for chat in telegram.settings_of(settings).chat_ids for i in range(alerts)
    )


def _report(
    fake: FakeTelegram,
    expected: Counter[tuple[str, str]],
    elapsed: float,
    sent: int,
    chats: int,
    per_chat_per_minute: int,
    overall_cap: bool,
) -> dict[str, Any]:
    received: Counter[tuple[str, str]] = Counter()
    times: dict[str, list[float]] = defaultdict(list)
    for message in fake.messages:
        name = message["text"].split("<b>")[2].split("</b>")[0]
        received[(message["chat_id"], name)] += 1
        times[message["chat_id"]].append(message["at"])
    interval = 60.0 / per_chat_per_minute
    limit = chats / interval if not overall_cap else min(chats / interval, 30.0)
    gaps = [
        b - a for stamps in times.values() for a, b in zip(sorted(stamps), sorted(stamps)[1:], strict=False)
    ]
    throughput = sum(received.values()) / elapsed
    return {
        "chats": chats,
        "per_chat_per_minute": per_chat_per_minute,
        "overall_cap_per_s": 30 if overall_cap else None,
        "messages_expected": sum(expected.values()),
        "messages_received": sum(received.values()),
        "sent_recorded": sent,
        "duplicates": sum(n - 1 for n in received.values() if n > 1),
        "lost": sum(1 for key in expected if received[key] == 0),
        "elapsed_s": round(elapsed, 2),
        "throughput_per_s": round(throughput, 1),
        "pacing_limit_per_s": round(limit, 1),
        "throughput_vs_limit": round(throughput / limit, 3),
        "min_gap_in_a_chat_s": round(min(gaps), 3) if gaps else None,
        "pacing_interval_s": round(interval, 3),
    }


def run(quick: bool) -> dict[str, Any]:
    """Quick: the per-chat pacing scenario (~10 s). Full: also the 30/s overall cap (~35 s)."""
    results = {"per_chat_pacing": scenario(20, 300, overall_cap=False)}
    if not quick:
        results["overall_cap"] = scenario(10, 180, overall_cap=True)
    for result in results.values():
        result["ok"] = (
            result["duplicates"] == 0 and result["lost"] == 0 and 0.9 <= result["throughput_vs_limit"] <= 1.1
        )
    return results


if __name__ == "__main__":
    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
