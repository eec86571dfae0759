"""The persisted state is exactly the state in memory, cycle after cycle (restart safety)."""

from __future__ import annotations

import random

from outage.db import open_database
from outage.detector import MonitorState
from outage.monitor import Monitor
from outage.store import load_state
from tests.test_api import StaticReader


def snapshot(state: MonitorState) -> dict[str, object]:
    return {
        "offline": {login: (e.sub, e.event_id) for login, e in state.offline.items()},
        "events": {
            conexao: (e.id, sorted(e.logins), sorted(e.offline), e.announced, e.suppressed)
            for conexao, e in state.events.items()
        },
        "last_opening_alert": dict(state.last_opening_alert),
        "baseline_done": state.baseline_done,
    }


def test_reloading_gives_back_the_state_of_every_cycle(make_settings):
    settings = make_settings(IXCSOFT_SERVICE_URL="http://127.0.0.1:9", THRESHOLD_OFFLINE_CLIENTS="3")
    reader = StaticReader()
    monitor = Monitor(settings, reader, None, [])
    conn = open_database(settings.database_path)
    rng = random.Random(42)
    connections = ["OLT-A", "OLT-B", "OLT-C"]
    for _ in range(60):
        for _ in range(rng.randint(0, 6)):
            reader.drop(rng.choice(connections), rng.randint(1, 12))
        if rng.random() < 0.3:  # a connection comes back
            reader.restore(rng.choice(connections), *range(1, 13))
        monitor.run_cycle(conn)
        in_memory = monitor.states.load(conn)
        assert snapshot(load_state(conn)) == snapshot(in_memory)
    opened = conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    resolved = conn.execute("SELECT COUNT(*) FROM events WHERE status = 'resolvido'").fetchone()[0]
    assert opened > 3 and resolved > 2  # the walk really went through openings and recoveries
    conn.close()
