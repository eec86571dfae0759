"""A database written by the previous model migrates in place and its events close by the new rules."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from outage.db import open_database
from outage.migrations import numbered
from outage.monitor import Monitor
from tests.test_api import StaticReader

SCHEMA_4 = Path(__file__).with_name("data") / "schema_0004.sql"
WRITTEN_AT = 1_790_000_600.0  # the last cycle of the dumped database


def database_at_schema_4(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.executescript(SCHEMA_4.read_text(encoding="utf-8"))
    conn.close()


def events(conn: sqlite3.Connection) -> dict[str, sqlite3.Row]:
    return {row["conexao"]: row for row in conn.execute("SELECT * FROM events")}


def test_an_active_event_of_the_previous_model_is_kept_at_its_connection(tmp_path, make_settings):
    path = tmp_path / "old.db"
    database_at_schema_4(path)
    conn = open_database(str(path))
    assert conn.execute("PRAGMA user_version").fetchone()[0] == numbered()[-1][0]
    rows = events(conn)
    active, resolved = rows["OLT-A"], rows["OLT-B"]
    assert (active["status"], active["escopo"], active["chave_local"]) == (
        "ativo",
        "conexao",
        "conexao:OLT-A",
    )
    assert json.loads(active["logins"]) == [f"olt-a-{n}" for n in range(1, 7)]
    assert active["primeira_queda"] == active["timestamp"]
    assert active["aviso"] == "abertura"
    assert resolved["status"] == "resolvido"
    pending = conn.execute("SELECT kind FROM outbox WHERE status = 'pendente' ORDER BY id").fetchall()
    assert [r["kind"] for r in pending] == ["abertura", "abertura", "normalizacao"]


def test_the_migrated_state_loads_and_the_old_event_closes_when_its_logins_are_back(tmp_path, make_settings):
    path = tmp_path / "old.db"
    database_at_schema_4(path)
    settings = make_settings(DATABASE_PATH=str(path), IXCSOFT_SERVICE_URL="http://127.0.0.1:9")
    now = [WRITTEN_AT + 300]
    reader = StaticReader(clock=lambda: now[0])
    reader.drop("OLT-A", 2, 3, 4, 5, 6)
    monitor = Monitor(settings, reader, None, ["telegram:-1001"], clock=lambda: now[0])
    conn = open_database(str(path))

    state = monitor.states.load(conn)
    (incident,) = state.incidents.values()
    assert sorted(incident.offline) == [f"olt-a-{n}" for n in range(2, 7)]
    assert state.offline["olt-a-2"].sub.session_end > 0  # the ERP text of schema 4, read as a time

    monitor.run_cycle(conn)  # nothing changed: still active
    reader.restore("OLT-A", 2, 3, 4, 5)
    reader.drop("OLT-A", 9)  # a new, lone drop on the connection does not join the old event
    now[0] += 300
    monitor.run_cycle(conn)
    assert events(conn)["OLT-A"]["status"] == "ativo"
    reader.restore("OLT-A", 6)
    now[0] += 300
    monitor.run_cycle(conn)

    closed = events(conn)["OLT-A"]
    assert closed["status"] == "resolvido"
    assert json.loads(closed["logins"]) == [f"olt-a-{n}" for n in range(1, 7)]
    kinds = [
        r["kind"]
        for r in conn.execute("SELECT kind FROM outbox WHERE event_id = ? ORDER BY id", (closed["id"],))
    ]
    assert kinds == ["abertura", "normalizacao"]
    assert "olt-a-9" in monitor.states.load(conn).offline
