"""Poll cycles against a fake IXCSoft that is a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator

import pytest

from outage.adapters.erp.base import subscriber_from_record
from outage.adapters.erp.ixc import IxcReader
from outage.config import Settings
from outage.core.detector import AlarmDrop
from outage.db import open_database, transaction
from outage.monitor import CycleFailed, Monitor
from outage.storage.incidents import load_state
from simulator.ixc import FakeIXC
from tests.conftest import radusuario

pytestmark = pytest.mark.both_databases

USER, TOKEN = "8", "k4n8wkSEGREDO"


class Isp:
    """The ERP side of a small ISP, all online: 40 logins on OLT-A (id 1), 40 on OLT-B (id 2),
    one PON each, CTOs of 8 (logins 1-8 share one CTO, 9-16 the next, ...)."""

    def __init__(self, ixc: FakeIXC) -> None:
        self.ixc = ixc
        self.records = {
            n: radusuario(
                n,
                "OLT-A" if n <= 40 else "OLT-B",
                "S",
                id_transmissor="1" if n <= 40 else "2",
                id_caixa_ftth=str(100 + (n - 1) // 8),
            )
            for n in range(1, 81)
        }
        self.publish()

    def publish(self) -> None:
        self.ixc.set_records("radusuarios", list(self.records.values()))

    def set(self, numbers: range | list[int], online: str) -> None:
        for n in numbers:
            self.records[n]["online"] = online
        self.publish()


@pytest.fixture
def ixc() -> Iterator[FakeIXC]:
    server = FakeIXC(user=USER, token=TOKEN)
    server.slow_seconds = 1.5  # past IXC_TIMEOUT=1
    with server:
        yield server


@pytest.fixture
def isp(ixc: FakeIXC) -> Isp:
    return Isp(ixc)


@pytest.fixture
def settings(make_settings: Callable[..., Settings], ixc: FakeIXC) -> Settings:
    return make_settings(IXC_URL=ixc.url, IXC_USER=USER, IXC_TOKEN=TOKEN, IXC_PAGE_SIZE="7", IXC_TIMEOUT="1")


@pytest.fixture
def conn(settings: Settings) -> Iterator[sqlite3.Connection]:
    db = open_database(settings.database)
    yield db
    db.close()


@pytest.fixture
def monitor(settings: Settings) -> Monitor:
    return Monitor(settings, IxcReader(settings), None, ["telegram"])


def active(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    return conn.execute("SELECT * FROM events WHERE status = 'ativo' ORDER BY conexao").fetchall()


def outbox_kinds(conn: sqlite3.Connection) -> list[str]:
    return [r[0] for r in conn.execute("SELECT kind FROM outbox ORDER BY id")]


def test_the_first_cycle_records_the_baseline_only(isp: Isp, monitor: Monitor, conn):
    isp.set(range(1, 6), "N")
    result = monitor.run_cycle(conn)
    assert result.baseline
    assert active(conn) == []
    assert conn.execute("SELECT COUNT(*) FROM offline_state").fetchone()[0] == 5


def test_a_mass_drop_opens_one_event_with_its_alert(isp: Isp, monitor: Monitor, conn):
    monitor.run_cycle(conn)
    isp.set(range(1, 9), "N")
    result = monitor.run_cycle(conn)
    events = active(conn)
    assert [(e["conexao"], e["escopo"], e["local"]) for e in events] == [
        ("OLT-A", "cto", "CTO 100 (PON 0/1/0 da OLT 1)")
    ]
    assert sorted(json.loads(events[0]["logins"])) == sorted(f"cliente{n}" for n in range(1, 9))
    assert result.counts.abertos == 1 and result.counts.novas_quedas == 8
    assert outbox_kinds(conn) == ["abertura"]
    payload = json.loads(conn.execute("SELECT payload FROM outbox").fetchone()[0])
    assert payload["total"] == 8 and payload["conexao"] == "OLT-A"


def test_drops_below_the_threshold_open_nothing(isp: Isp, monitor: Monitor, conn):
    monitor.run_cycle(conn)
    isp.set([1, 2, 3, 41], "N")
    monitor.run_cycle(conn)
    assert active(conn) == []
    assert outbox_kinds(conn) == []


def test_drops_over_two_cycles_count_together(isp: Isp, monitor: Monitor, conn):
    monitor.run_cycle(conn)
    isp.set([1, 2], "N")
    monitor.run_cycle(conn)
    isp.set([3, 4], "N")
    monitor.run_cycle(conn)
    assert [len(json.loads(e["logins"])) for e in active(conn)] == [4]


def test_a_neighbouring_cto_falling_next_widens_the_event_and_tells_the_noc(isp: Isp, monitor: Monitor, conn):
    monitor.run_cycle(conn)
    isp.set(range(1, 6), "N")
    monitor.run_cycle(conn)
    isp.set(range(6, 16), "N")
    monitor.run_cycle(conn)
    events = active(conn)
    assert len(events) == 1
    assert len(json.loads(events[0]["logins"])) == 15
    assert (events[0]["escopo"], events[0]["local"]) == ("pon", "PON 0/1/0 da OLT 1")
    assert outbox_kinds(conn) == ["abertura", "crescimento"]


def test_partial_then_full_recovery_resolves_the_event(isp: Isp, monitor: Monitor, conn):
    monitor.run_cycle(conn)
    isp.set(range(1, 9), "N")
    monitor.run_cycle(conn)
    isp.set(range(1, 5), "S")
    monitor.run_cycle(conn)
    event = active(conn)[0]
    back = conn.execute(
        "SELECT COUNT(*) FROM event_reconnections WHERE event_id = ?", (event["id"],)
    ).fetchone()[0]
    still = len(json.loads(event["logins"])) - back
    assert still == 4
    isp.set(range(5, 9), "S")
    monitor.run_cycle(conn)
    assert active(conn) == []
    row = conn.execute("SELECT status, resolvido_em FROM events").fetchone()
    assert row["status"] == "resolvido" and row["resolvido_em"] is not None
    assert outbox_kinds(conn) == ["abertura", "normalizacao"]


def test_sem_status_is_never_a_reconnection(isp: Isp, monitor: Monitor, conn):
    monitor.run_cycle(conn)
    isp.set(range(1, 9), "N")
    monitor.run_cycle(conn)
    isp.set(range(1, 5), "SS")
    isp.set(range(5, 9), "")
    monitor.run_cycle(conn)
    assert len(active(conn)) == 1
    assert outbox_kinds(conn) == ["abertura"]


@pytest.mark.parametrize(
    "kind", ["http500", "type_error", "html", "invalid_json", "missing_page", "short", "slow"]
)
def test_a_failed_read_changes_nothing_and_never_looks_like_a_recovery(
    kind, isp: Isp, monitor: Monitor, conn, ixc
):
    monitor.run_cycle(conn)
    isp.set(range(1, 11), "N")
    monitor.run_cycle(conn)
    before = [dict(r) for r in conn.execute("SELECT * FROM events")]
    state_before = conn.execute("SELECT COUNT(*) FROM offline_state").fetchone()[0]
    ixc.fail(kind, count=10)
    with pytest.raises(CycleFailed):
        monitor.run_cycle(conn)
    assert [dict(r) for r in conn.execute("SELECT * FROM events")] == before
    assert conn.execute("SELECT COUNT(*) FROM offline_state").fetchone()[0] == state_before
    assert outbox_kinds(conn) == ["abertura"]
    last = conn.execute("SELECT ok, erro FROM cycles ORDER BY id DESC LIMIT 1").fetchone()
    assert last["ok"] == 0 and last["erro"]
    ixc.clear_faults()
    monitor.run_cycle(conn)  # the next good cycle diffs against the last good state
    assert len(active(conn)) == 1
    assert outbox_kinds(conn) == ["abertura"]


def test_an_unreachable_erp_fails_the_cycle(isp: Isp, monitor: Monitor, conn, ixc):
    monitor.run_cycle(conn)
    ixc.stop()
    with pytest.raises(CycleFailed, match="inacessível"):
        monitor.run_cycle(conn)


def test_a_refused_token_fails_the_cycle_with_a_hint(make_settings, ixc: FakeIXC, isp: Isp, conn):
    bad = make_settings(
        IXC_URL=ixc.url,
        IXC_USER=USER,
        IXC_TOKEN="8:errado",
    )
    with pytest.raises(CycleFailed, match="IXC_TOKEN"):
        Monitor(bad, IxcReader(bad), None, []).run_cycle(conn)


def test_pages_after_the_first_are_fetched_and_deduplicated(isp: Isp, monitor: Monitor, conn, ixc):
    monitor.run_cycle(conn)
    isp.set(range(1, 31), "N")
    monitor.run_cycle(conn)
    assert len(json.loads(active(conn)[0]["logins"])) == 30


def test_a_new_process_continues_from_the_persisted_state(isp: Isp, settings: Settings, conn):
    Monitor(settings, IxcReader(settings), None, []).run_cycle(conn)
    isp.set(range(1, 9), "N")
    Monitor(settings, IxcReader(settings), None, []).run_cycle(conn)
    isp.set(range(1, 9), "S")
    Monitor(settings, IxcReader(settings), None, []).run_cycle(conn)
    assert conn.execute("SELECT status FROM events").fetchone()[0] == "resolvido"


def test_logins_whose_session_ended_hours_ago_are_not_a_new_outage(isp: Isp, monitor: Monitor, conn):
    from datetime import datetime, timedelta

    from outage.core.localtime import LOCAL_TZ

    monitor.run_cycle(conn)
    long_ago = (datetime.now(LOCAL_TZ) - timedelta(hours=3)).strftime("%Y-%m-%d %H:%M:%S")
    for n in range(41, 51):  # e.g. SS for days, now reported N by the ERP
        isp.records[n]["ultima_conexao_final"] = long_ago
    isp.set(range(41, 51), "N")
    result = monitor.run_cycle(conn)
    assert (result.counts.novas_quedas, result.counts.abertos) == (0, 0)
    isp.set(range(1, 6), "N")  # sessions that just ended
    assert monitor.run_cycle(conn).counts.abertos == 1


# --- the network's alarms between polls -----------------------------------------------------


def watcher(settings, at: list[float]) -> Monitor:
    return Monitor(settings, IxcReader(settings), None, ["telegram:-1"], clock=lambda: at[0])


def downs(isp: Isp, numbers: range, at: float, cause: str = "energia") -> list[AlarmDrop]:
    return [AlarmDrop(subscriber_from_record(isp.records[n]), at, cause) for n in numbers]


def test_dying_gasps_open_an_incident_between_polls_with_their_cause(isp, settings, conn):
    now = [1_795_000_000.0]
    monitor = watcher(settings, now)
    monitor.run_cycle(conn)
    now[0] += 6
    monitor.hear(conn, downs(isp, range(1, 9), now[0] - 5), [])
    [event] = active(conn)
    assert (event["origem"], event["motivo"], event["escopo"]) == ("alarme", "energia", "cto")
    assert event["timestamp"] - event["primeira_queda"] == 5  # told 5 s after the fall
    assert "ONUs com alarme da OLT" in event["causa_explicacao"]
    opening = json.loads(conn.execute("SELECT payload FROM outbox WHERE kind = 'abertura'").fetchone()[0])
    assert opening["total"] == 8 and opening["motivo"] == "energia"
    assert conn.execute("SELECT COUNT(*) FROM alarm_drops").fetchone()[0] == 8


def test_the_next_poll_confirms_the_alarms_drops_once(isp, settings, conn):
    now = [1_795_000_000.0]
    monitor = watcher(settings, now)
    monitor.run_cycle(conn)
    now[0] += 6
    monitor.hear(conn, downs(isp, range(1, 9), now[0] - 5), [])
    isp.set(range(1, 9), "N")
    now[0] += 300
    result = monitor.run_cycle(conn)
    assert result.counts.novas_quedas == 0 and result.counts.abertos == 0
    assert conn.execute("SELECT COUNT(*) FROM alarm_drops").fetchone()[0] == 0
    assert [e["origem"] for e in active(conn)] == ["alarme"]
    assert load_state(conn).heard == {}


def test_an_incident_the_erp_never_confirms_closes_as_an_alarm_not_confirmed(isp, settings, conn):
    now = [1_795_000_000.0]
    monitor = watcher(settings, now)
    monitor.run_cycle(conn)
    now[0] += 6
    monitor.hear(conn, downs(isp, range(1, 9), now[0] - 5, "loss"), [])
    now[0] += 200
    monitor.run_cycle(conn)  # the concentrator may not have ended the sessions yet: waiting
    assert len(active(conn)) == 1
    now[0] += 300
    monitor.run_cycle(conn)  # over eight minutes on, the ERP still shows them online
    assert active(conn) == []
    row = conn.execute("SELECT resolvido_por, logins FROM events").fetchone()
    assert (row["resolvido_por"], json.loads(row["logins"])) == ("alarme não confirmado", [])
    assert conn.execute("SELECT COUNT(*) FROM alarm_drops").fetchone()[0] == 0


def test_alarms_heard_survive_a_restart(isp, settings, conn: sqlite3.Connection):
    now = [1_795_000_000.0]
    watcher(settings, now).run_cycle(conn)
    now[0] += 6
    watcher(settings, now).hear(conn, downs(isp, range(1, 9), now[0] - 5), [])
    state = load_state(conn)
    assert len(state.heard) == 8 and {i.origin for i in state.incidents.values()} == {"alarme"}


def test_without_a_cause_in_the_alarms_the_cause_waits_for_the_olts(isp, settings, conn):
    now = [1_795_000_000.0]
    monitor = watcher(settings, now)
    monitor.run_cycle(conn)
    now[0] += 6
    monitor.hear(conn, downs(isp, range(1, 9), now[0] - 5, ""), [])  # the concentrator's stops say no why
    [event] = active(conn)
    assert (event["origem"], event["motivo"], event["causa_status"]) == (
        "alarme",
        "indeterminado",
        "pendente",
    )


# --- a wall clock that jumps -----------------------------------------------------------------


def test_an_outage_whose_drops_straddle_a_clock_jump_is_one_incident(isp, settings, conn):
    from outage.core.localtime import erp_text
    from tests.clocks import HandClock

    hand = HandClock()
    monitor = Monitor(
        settings, IxcReader(settings), None, ["telegram"], clock=hand.wall, monotonic=hand.monotonic
    )
    monitor.run_cycle(conn)  # the baseline
    true_time = hand.wall()
    for n in (1, 2, 3):  # the ERP's clock is right: session ends in true time
        isp.records[n].update(online="N", ultima_conexao_final=erp_text(true_time + 280))
    isp.publish()
    hand.advance(300)
    monitor.run_cycle(conn)  # 3 of the CTO's 8: not yet an outage
    hand.jump(3600)  # someone sets the server's date an hour ahead
    for n in (4, 5, 6, 7, 8):
        isp.records[n].update(online="N", ultima_conexao_final=erp_text(true_time + 420))
    isp.publish()
    hand.advance(300)
    monitor.run_cycle(conn)
    [event] = active(conn)
    assert len(json.loads(event["logins"])) == 8
    assert event["primeira_queda"] == true_time + 280  # the detector's time did not jump


# --- what a dead process left half done -----------------------------------------------------


def test_a_cycle_a_dead_process_never_finished_is_closed_with_the_reason(isp, settings, conn):
    import socket

    dead = f"{socket.gethostname()}:999999:abcd1234"  # no such process
    conn.execute("INSERT INTO cycles (started_at, holder) VALUES (?, ?)", (1_795_000_000.0, dead))
    Monitor(settings, IxcReader(settings), None, ["telegram"]).run_cycle(conn)
    row = conn.execute("SELECT ok, erro, finished_at FROM cycles WHERE holder = ?", (dead,)).fetchone()
    assert row["ok"] == 0 and row["erro"].startswith("interrompido:") and row["finished_at"] is not None


def test_the_cycle_a_dead_process_was_running_is_recorded_from_its_heartbeat(isp, settings, conn):
    import socket

    from outage.storage import cycles

    dead = f"{socket.gethostname()}:999999:abcd1234"  # no such process
    with transaction(conn):
        cycles.beat_cycle_start(conn, dead, "outro-boot", 10.0, 1_795_000_000.0)
    Monitor(settings, IxcReader(settings), None, ["telegram"]).run_cycle(conn)
    row = conn.execute("SELECT ok, erro, started_at FROM cycles WHERE holder = ?", (dead,)).fetchone()
    assert row["ok"] == 0 and row["erro"].startswith("interrompido:") and row["started_at"] == 1_795_000_000.0
    assert not cycles.read_beat(conn).running  # type: ignore[union-attr]


def test_a_cause_a_crash_left_pending_is_asked_again_at_the_next_start(isp, settings, conn):
    from outage.adapters.cause.base import CauseReport

    class Asked:
        def __init__(self) -> None:
            self.logins: list[str] = []

        def analyze(self, subscribers, deadline, drops=None) -> CauseReport:
            self.logins += [s.login for s in subscribers]
            return CauseReport(motivo="energia", explicacao="5 de 5 ONUs consultadas com queda de energia")

    first = Monitor(settings, IxcReader(settings), None, ["telegram"])
    first.run_cycle(conn)
    isp.set(range(1, 9), "N")
    first.run_cycle(conn)  # no analyzer: the cause stays pending, as when the process died mid-analysis
    conn.execute("UPDATE events SET causa_status = 'pendente', timestamp = timestamp - 3600")
    analyzer = Asked()
    Monitor(settings, IxcReader(settings), analyzer, ["telegram"]).run_cycle(conn)
    [event] = active(conn)
    assert (event["motivo"], event["causa_status"]) == ("energia", "concluido")
    assert sorted(analyzer.logins) == sorted(f"cliente{n}" for n in range(1, 9))
