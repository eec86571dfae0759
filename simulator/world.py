"""A simulated ISP watched by the real monitor on the simulated clock, for tests and benchmarks.

    with MonitoredIsp(tmp_dir, customers=1600, seed=7) as isp:
        isp.run(15)                                   # baseline and quiet cycles of churn
        isp.network.fiber_cut(olt, pon, at=isp.clock.now + 30)
        isp.run(10)                                   # 5-minute `--once` cycles
        isp.events(), isp.messages()

Every outside system is real on 127.0.0.1: the ERP fake over HTTP (`FakeIXC`), each OLT's SSH
emulator fed by the network (what its ONUs show now, with their records months old), and the
Telegram fake the NOC's alerts go to. Each cycle is the product's own `--once` cycle
(`outage.process.run_once`) with the simulated clock, the network advanced to it first.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Self

from simulator.day import SimClock
from simulator.ixc import FakeIXC
from simulator.network import Network
from simulator.olt_cli import OltEmulator
from simulator.telegram import FakeTelegram

CYCLE = 300.0
CHAT = "-1001"
START = 1_767_236_400.0  # 2026-01-01 00:00:00 in São Paulo
OLT_USER, OLT_PASSWORD = "noc", "noc-teste"


class MonitoredIsp:
    """See the module docstring. `env` adds or overrides settings (e.g. `CHECK_INTERVAL`)."""

    def __init__(
        self, folder: str | Path, *, customers: int = 1600, seed: int = 7, env: dict[str, str] | None = None
    ) -> None:
        self.folder = Path(folder)
        self.clock = SimClock(START)
        self.network = Network(customers=customers, seed=seed, clock=self.clock)
        self.extra = dict(env or {})
        self._stack = ExitStack()
        self.settings: Any = None
        self.telegram: FakeTelegram | None = None

    def __enter__(self) -> Self:
        from outage.adapters.channels.registry import CHANNELS
        from outage.adapters.erp import ERPS
        from outage.config import load_settings

        stack = self._stack
        ixc = stack.enter_context(FakeIXC(self.network))
        self.telegram = stack.enter_context(FakeTelegram())
        emulators = {
            olt.id: stack.enter_context(
                OltEmulator(
                    olt.vendor, self._feed(olt.id), model=olt.model, username=OLT_USER, password=OLT_PASSWORD
                )
            )
            for olt in self.network.olts
        }
        settings, problems = load_settings(
            {
                "DATABASE_PATH": str(self.folder / "monitor.db"),
                "SECRET_KEY": "k" * 64,
                "IXC_URL": ixc.url,
                "IXC_USER": ixc.user,
                "IXC_TOKEN": ixc.token,
                "OLT_INVENTORY": str(self._inventory(emulators)),
                "CAUSE_TIMEOUT": "15",
                "TELEGRAM_BOT_TOKEN": self.telegram.token,
                "TELEGRAM_CHAT_ID": CHAT,
                "TELEGRAM_API_URL": self.telegram.url,
                "TELEGRAM_PER_CHAT_PER_MINUTE": "60",
                **self.extra,
            },
            channels=CHANNELS,
            erps=ERPS,
        )
        if problems:
            stack.close()
            raise ValueError("; ".join(problems))
        self.settings = settings
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def run(self, minutes: float) -> None:
        """One cycle every 5 minutes for `minutes`; a failed cycle raises."""
        from outage.process import run_once

        for _ in range(int(minutes * 60 // CYCLE)):
            self.clock.now += CYCLE
            self.network.advance(self.clock.now)
            if run_once(self.settings, clock=self.clock) != 0:
                raise RuntimeError(f"o ciclo de {self.clock.now:.0f} falhou")

    def events(self) -> list[sqlite3.Row]:
        from outage.db import open_database

        conn = open_database(self.settings.database_path)
        try:
            return conn.execute("SELECT * FROM events ORDER BY timestamp").fetchall()
        finally:
            conn.close()

    def messages(self) -> list[str]:
        assert self.telegram is not None
        return self.telegram.texts(CHAT)

    def pons_of_busiest_olt(self, smallest: int = 16) -> tuple[str, list[str]]:
        """The OLT with the most PONs of at least `smallest` customers, and those PONs."""
        pons: dict[str, list[str]] = {}
        for (olt, port), members in self.network.pons().items():
            if len(members) >= smallest:
                pons.setdefault(olt, []).append(port)
        olt = max(pons, key=lambda ident: len(pons[ident]))
        return olt, pons[olt]

    def _feed(self, olt_id: str) -> Callable[[], list[dict[str, str]]]:
        members = [c for c in self.network.customers if c.olt.id == olt_id]
        return lambda: [self.network.onu_view(c) for c in members]

    def _inventory(self, emulators: dict[str, OltEmulator]) -> Path:
        path = self.folder / "olts.json"
        entries = [
            {
                "id_transmissor": olt.id,
                "name": olt.name,
                "vendor": olt.vendor,
                "model": olt.model,
                "host": "127.0.0.1",
                "port": emulators[olt.id].port,
                "username": OLT_USER,
                "password": OLT_PASSWORD,
            }
            for olt in self.network.olts
        ]
        path.write_text(json.dumps(entries), encoding="utf-8")
        return path
