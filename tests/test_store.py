"""The persisted state is exactly the state in memory, cycle after cycle (restart safety)."""

from __future__ import annotations

import random
from typing import Any

import pytest

from outage.core.detector import MonitorState
from outage.core.model import Subscriber
from outage.db import open_database
from outage.monitor import Monitor
from outage.storage.incidents import load_state
from tests.test_api import StaticReader

pytestmark = pytest.mark.both_databases


def snapshot(state: MonitorState) -> dict[str, object]:
    return {
        "offline": {login: (e.sub, e.dropped_at, e.incident_id) for login, e in state.offline.items()},
        "incidents": {
            i.id: (
                i.place,
                i.path,
                i.conexao,
                i.first_drop,
                i.last_drop,
                dict(i.members),
                sorted(i.offline),
                sorted(i.units),
                i.announced,
                i.announced_rank,
                i.recurrence,
            )
            for i in state.incidents.values()
        },
        "openings": {place: list(openings) for place, openings in state.openings.items()},
        "rates": {key: (round(c.decayed(state.last_poll), 9)) for key, c in state.rates.counts.items()},
        "exposure": round(state.rates.exposure.decayed(state.last_poll), 6),
        "erp_clock": (state.erp_clock.samples, state.erp_clock.offset),
        "last_poll": state.last_poll,
        "baseline_done": state.baseline_done,
    }


def test_reloading_gives_back_the_state_of_every_cycle(make_settings):
    settings = make_settings(IXCSOFT_SERVICE_URL="http://127.0.0.1:9", THRESHOLD_OFFLINE_CLIENTS="3")
    now = [1_800_000_000.0]
    reader = StaticReader(clock=lambda: now[0])
    monitor = Monitor(settings, reader, None, [], clock=lambda: now[0])
    conn = open_database(settings.database)
    rng = random.Random(42)
    connections = ["OLT-A", "OLT-B", "OLT-C"]
    for _ in range(60):
        if rng.random() < 0.25:  # an outage: several logins of one place at once
            reader.drop(rng.choice(connections), *rng.sample(range(1, 13), rng.randint(4, 8)))
        for _ in range(rng.randint(0, 1)):  # churn
            reader.drop(rng.choice(connections), rng.randint(1, 12))
        if rng.random() < 0.3:  # a connection comes back
            reader.restore(rng.choice(connections), *range(1, 13))
        now[0] += rng.choice((60, 300, 300, 900))
        monitor.run_cycle(conn)
        in_memory = monitor.states.load(conn)
        assert snapshot(load_state(conn)) == snapshot(in_memory)
    opened = conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    resolved = conn.execute("SELECT COUNT(*) FROM events WHERE status = 'resolvido'").fetchone()[0]
    assert opened > 3 and resolved > 2  # the walk really went through openings and recoveries
    conn.close()


def test_the_olts_place_replaces_the_events_only_where_the_erp_did_not_break_it_down(make_settings):
    from outage.adapters.cause.base import CauseReport
    from outage.db import transaction
    from outage.storage.incidents import save_cause

    settings = make_settings(IXCSOFT_SERVICE_URL="http://127.0.0.1:9")
    conn = open_database(settings.database)
    with transaction(conn):
        for event_id, escopo, local, unidades in (
            ("olt-known", "olt", "OLT 3 — 12 PONs", '["pon:3:0/1/1", "pon:3:0/1/2"]'),
            ("conexao-only", "conexao", "OLT-SUL", "[]"),
        ):
            conn.execute(
                "INSERT INTO events (id, conexao, timestamp, status, atualizado_em, escopo, local, unidades)"
                " VALUES (?, 'OLT-SUL', 0, 'ativo', 0, ?, ?, ?)",
                (event_id, escopo, local, unidades),
            )
    sampled = CauseReport(
        motivo="energia",
        local="PONs 0/1/1 e 0/1/2 da OLT-SUL",
        local_detalhe={"nivel": "pons", "olt": "OLT-SUL", "pons": ["0/1/1", "0/1/2"]},
    )
    pon = CauseReport(motivo="loss", local="PON 0/1/1 da OLT-SUL", local_detalhe={"nivel": "pon"})
    with transaction(conn):
        assert save_cause(conn, "olt-known", sampled, 1.0).local == "OLT 3 — 12 PONs"
        assert save_cause(conn, "olt-known", pon, 2.0).local == "OLT 3 — 12 PONs"
        assert save_cause(conn, "conexao-only", pon, 1.0).local == "PON 0/1/1 da OLT-SUL"
    places = dict(conn.execute("SELECT id, local FROM events").fetchall())
    assert places == {"olt-known": "OLT 3 — 12 PONs", "conexao-only": "PON 0/1/1 da OLT-SUL"}


class IspReader:
    """The detector tests' small network, read through `Monitor` (sessions end 30 s before now)."""

    def __init__(self, clock) -> None:
        from tests.test_detector import Isp

        self.isp = Isp()
        self.clock = clock
        self.offline: dict = {}
        self.online: set[str] = set()

    def drop(self, logins: list[str]) -> None:
        self.offline.update(self.isp.at(logins, self.clock() - 30))

    def restore(self, logins: list[str]) -> None:
        for name in logins:
            self.offline.pop(name, None)
        self.online |= set(logins)

    def read(self, candidates):
        from outage.adapters.erp.base import Observation

        return Observation(dict(self.offline), frozenset(self.online & set(candidates)))

    def read_population(self):
        return {}


def test_a_widened_incident_reloads_at_its_new_place_and_size(make_settings):
    from tests.test_detector import cto, pon

    settings = make_settings(IXCSOFT_SERVICE_URL="http://127.0.0.1:9", CHECK_INTERVAL="60")
    now = [1_800_000_000.0]
    reader = IspReader(lambda: now[0])
    monitor = Monitor(settings, reader, None, [], clock=lambda: now[0])
    conn = open_database(settings.database)
    monitor.run_cycle(conn)
    for _ in range(2):  # a PON that falls twice, first seen at one of its CTOs
        for step in (
            lambda: reader.drop(cto(1, 0, 0)),
            lambda: reader.drop(pon(1, 0)),
            lambda: reader.restore(pon(1, 0)),
        ):
            step()
            now[0] += 60
            monitor.run_cycle(conn)
            assert snapshot(load_state(conn)) == snapshot(monitor.states.load(conn))
        now[0] += 600
    openings = load_state(conn).openings
    assert list(openings) == ["pon:1:0/1/0"]
    assert [(o.size, o.message) for o in openings["pon:1:0/1/0"]] == [(32, "abertura"), (32, "recorrencia")]


def test_the_write_ahead_log_shrinks_after_a_cycle_that_filled_it(make_settings):
    from pathlib import Path

    from outage.adapters.erp.base import Observation
    from outage.monitor import Monitor

    class Reader:
        def __init__(self) -> None:
            self.offline: dict[str, Subscriber] = {}

        def read(self, candidates: Any) -> Observation:
            return Observation(self.offline, frozenset())

        def read_population(self) -> dict[str, int]:
            return {}

    settings = make_settings(IXCSOFT_SERVICE_URL="http://127.0.0.1:9")
    conn = open_database(settings.database)
    reader = Reader()
    monitor = Monitor(settings, reader, None, [])
    monitor.run_cycle(conn)
    reader.offline = {
        f"c{n}": Subscriber(login=f"c{n}", conexao=f"OLT-{n % 7}", id=str(n), session_end=0.0)
        for n in range(30_000)
    }
    monitor.run_cycle(conn)  # a mass drop: megabytes through the log
    wal = Path(settings.database + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0
