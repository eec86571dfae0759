"""A scripted day watched by the real monitor with the network's alarms on, on the simulated clock.

    with HeardDay(day, folder) as watched:          # day: simulator.day.ScriptedDay
        watched.run()                               # the whole day (or `until=`)
        watched.conn                                 # the monitor's database, to score

Every part is the product's own: the ERP fake over HTTP (`FakeIXC`), the alarm receivers
(`AlarmService`, real UDP/TCP sockets on 127.0.0.1) fed by the simulated OLTs' traps and
syslog alarms and the concentrators' accounting (`simulator.alarms`, each device from its own
loopback address), the OLTs' tables read over SNMP (`SnmpAgent`), the population read that
fills the roster, and `AlarmFeed.tick` / `Monitor.run_cycle` — all on the day's clock. Time
moves in `step` seconds (the poller reads the alarms about once a second; 2 s keeps the
gathering honest at a tolerable cost), an ERP poll every `interval`. With `alarms=False` the
same day runs on ERP polls alone, for comparison.
"""

from __future__ import annotations

import json
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Protocol, Self

from outage.clock import Clock
from simulator.alarms import AlarmTargets, NetworkAlarms, olt_address
from simulator.day import SimClock
from simulator.ixc import FakeIXC
from simulator.network import Network
from simulator.snmp_agent import SnmpAgent, olt_rows

COMMUNITY = "traps-dia"
SECRET = "radius-dia"
CHANNEL = "telegram:-1001"
DELIVERY_WAIT = 2.0  # real seconds to wait for the packets of one step to reach the receivers
SENDING_WAIT = 120.0  # ... and for the simulated devices to send them (a real OLT sends 4,096 in 2 s;
# the simulator builds each trap with pysnmp, far slower: the day's clock waits for it)


class SimulatedDay(Protocol):
    """What `HeardDay` drives: a network on a simulated clock, from `start` to `end`
    (`simulator.day.ScriptedDay`, or a quiet stretch of churn)."""

    network: Network
    clock: SimClock
    start: float
    end: float

    def advance(self, now: float) -> None: ...


class HeardDay:
    """See the module docstring."""

    def __init__(
        self,
        day: SimulatedDay,
        folder: str | Path,
        *,
        alarms: bool = True,
        step: float = 2.0,
        interval: float = 300.0,
        env: dict[str, str] | None = None,
    ) -> None:
        self.day = day
        self.folder = Path(folder)
        self.alarms = alarms
        self.step = step
        self.interval = interval
        self.extra = dict(env or {})
        self.cycles: list[float] = []
        self.ticks = 0
        self._stack = ExitStack()
        self.conn: Any = None
        self.feed: Any = None
        self.sender: NetworkAlarms | None = None
        self.monitor: Any = None

    def __enter__(self) -> Self:
        from outage.adapters.channels.registry import CHANNELS
        from outage.adapters.erp import ERPS, build_reader
        from outage.config import load_settings
        from outage.db import open_database
        from outage.listening import build_feed
        from outage.monitor import Monitor

        stack = self._stack
        network = self.day.network
        ixc = stack.enter_context(FakeIXC(network))
        env = {
            "DATABASE_PATH": str(self.folder / "dia.db"),
            "SECRET_KEY": "d" * 64,
            "IXC_URL": ixc.url,
            "IXC_USER": ixc.user,
            "IXC_TOKEN": ixc.token,
            "CHECK_INTERVAL": str(int(self.interval)),
            "LOG_LEVEL": "WARNING",
            **self.extra,
        }
        targets = None
        if self.alarms:
            agent = SnmpAgent(
                {f"ler-{olt.id}": olt_rows(olt.vendor, olt.model, self._onus(olt.id)) for olt in network.olts}
            ).start()
            stack.callback(agent.stop)
            targets = AlarmTargets.on_free_ports(SECRET, COMMUNITY)
            env.update(
                {
                    "OLT_INVENTORY": str(self._inventory(agent.port)),
                    **targets.receiver_env(o.concentrador for o in network.olts),
                }
            )
        settings, problems = load_settings(env, channels=CHANNELS, erps=ERPS)
        if problems:
            stack.close()
            raise ValueError("; ".join(problems))
        self.settings = settings
        self.monitor = Monitor(settings, build_reader(settings), None, [CHANNEL], clock=self.day.clock)
        self.conn = open_database(settings.database_path)
        stack.callback(self.conn.close)
        if targets is not None:
            self.feed = build_feed(settings, Clock(wall=self.day.clock))
            self.feed.start()
            stack.callback(self.feed.stop)
            self.monitor.roster = self.feed.roster
            self.sender = NetworkAlarms(targets).start()
            stack.callback(self.sender.stop)
            network.alarms = self.sender
            stack.callback(setattr, network, "alarms", None)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def run(self, until: float | None = None) -> None:
        """Move the day on to `until` (default: its end): alarms each step, a poll each interval."""
        end = self.day.end if until is None else until
        now = self.day.clock.now
        due = self.cycles[-1] + self.interval if self.cycles else now + self.interval
        while now + self.step <= end:
            now += self.step
            self.day.advance(now)
            if self.feed is not None:
                self._delivered()
                self.feed.tick(self.conn, self.monitor)
                self.ticks += 1
            if now >= due:
                self.monitor.run_cycle(self.conn)
                self.cycles.append(now)
                due = now + self.interval
                if self.feed is not None and len(self.cycles) == 1:
                    self._learned()

    def _delivered(self) -> None:
        """Wait until what the devices sent this step has reached the receivers (or a moment)."""
        assert self.sender is not None
        self.sender.idle(SENDING_WAIT)
        deadline = time.monotonic() + DELIVERY_WAIT
        while time.monotonic() < deadline:
            fontes = self.feed.service.intake.snapshot(0)["fontes"]
            if (
                fontes["snmp"]["recebidos"] >= self.sender.sent["traps"]
                and fontes["syslog"]["recebidos"] >= self.sender.sent["syslog"]
            ):
                return
            time.sleep(0.002)

    def _learned(self) -> None:
        """After the first poll (which fills the roster), wait for the OLTs' tables to be read."""
        deadline = time.monotonic() + 60
        while len(self.feed.service.learned) < len(self.day.network.olts) and time.monotonic() < deadline:
            time.sleep(0.05)

    def report(self) -> dict[str, Any]:
        """The receivers' counts and what the feed handed to the detector."""
        return json.loads(json.dumps(self.feed.service.snapshot())) if self.feed is not None else {}

    def _onus(self, olt_id: str) -> Any:
        network = self.day.network
        members = [c for c in network.customers if c.olt.id == olt_id]
        return lambda: [network.onu_view(c) for c in members]

    def _inventory(self, snmp_port: int) -> Path:
        path = self.folder / "olts.json"
        entries = [
            {
                "id_transmissor": olt.id,
                "name": olt.name,
                "vendor": olt.vendor,
                "model": olt.model,
                "backend": "ssh",
                "host": "127.0.0.1",
                "username": "noc",
                "password": "noc-dia",
                "addresses": [olt_address(olt.id)],
                "snmp_community": COMMUNITY,
                "snmp_read_community": f"ler-{olt.id}",
                "snmp_port": snmp_port,
            }
            for olt in self.day.network.olts
        ]
        path.write_text(json.dumps(entries), encoding="utf-8")
        return path
