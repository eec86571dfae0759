"""A day at an ISP of 3,000 logins with real churn and twelve scripted outages — one right after
the install's baseline, a bad night of outages on top of each other — through the real ERP fake
and `--once` cycles on the simulated clock, scored against the day's truth."""

from __future__ import annotations

import json

import pytest

from bench.day import START, drive, score_day
from outage.db import open_database
from outage.process import run_once
from simulator.day import ScriptedDay
from simulator.ixc import FakeIXC
from simulator.telegram import FakeTelegram

THRESHOLD = 4


@pytest.fixture(scope="module")
def monitored_day(tmp_path_factory):
    from outage.adapters.channels.registry import CHANNELS
    from outage.adapters.erp import ERPS
    from outage.config import load_settings

    day = ScriptedDay(customers=3000, seed=1, start=START)
    folder = tmp_path_factory.mktemp("day")
    with FakeIXC(day.network) as ixc, FakeTelegram() as telegram:
        settings, problems = load_settings(
            {
                "DATABASE_PATH": str(folder / "monitor.db"),
                "SECRET_KEY": "k" * 64,
                "IXC_URL": ixc.url,
                "IXC_USER": ixc.user,
                "IXC_TOKEN": ixc.token,
                "THRESHOLD_OFFLINE_CLIENTS": str(THRESHOLD),
                "TELEGRAM_BOT_TOKEN": telegram.token,
                "TELEGRAM_CHAT_ID": "-1001",
                "TELEGRAM_API_URL": telegram.url,
                "TELEGRAM_PER_CHAT_PER_MINUTE": "60",
            },
            channels=CHANNELS,
            erps=ERPS,
        )
        assert problems == []

        def once(now: float) -> None:
            assert run_once(settings, clock=day.clock) == 0

        cycles = drive(day, once)
        delivered = telegram.texts("-1001")
    conn = open_database(settings.database)
    yield day, cycles, conn, delivered
    conn.close()


def test_churn_never_opens_an_incident(monitored_day):
    day, cycles, conn, _ = monitored_day
    score = score_day(conn, day, cycles, threshold=THRESHOLD, quorum=0.9)
    assert score.false_events == []


def test_every_outage_is_detected_in_the_first_cycle_that_can_see_it(monitored_day):
    day, cycles, conn, _ = monitored_day
    score = score_day(conn, day, cycles, threshold=THRESHOLD, quorum=0.9)
    assert [(e.outage, e.number) for e in score.episodes if not e.detected] == []
    assert {(e.outage, e.number): e.late_cycles for e in score.episodes if e.late_cycles} == {}


def test_incidents_hold_only_their_own_logins_and_close_in_the_cycle_their_quorum_is_back(monitored_day):
    day, cycles, conn, _ = monitored_day
    score = score_day(conn, day, cycles, threshold=THRESHOLD, quorum=0.9)
    # churn dropping in the same seconds as a concentrator's 1,400 sessions cannot be told apart:
    # at most 0.5 % of an incident's logins
    too_much = {
        (e.outage, e.number): e.churn_inside for e in score.episodes if e.churn_inside > 0.005 * e.logins
    }
    assert too_much == {}
    assert {(e.outage, e.number): e.missing for e in score.episodes if e.missing} == {}
    assert score.worst_normalization_lag <= 1
    assert conn.execute("SELECT COUNT(*) FROM events WHERE status = 'ativo'").fetchone()[0] == 0


def test_the_noc_hears_of_each_incident_twice_besides_its_widenings_and_every_message_arrives(monitored_day):
    day, cycles, conn, delivered = monitored_day
    score = score_day(conn, day, cycles, threshold=THRESHOLD, quorum=0.9)
    assert score.most_messages <= 2
    sent = conn.execute("SELECT COUNT(*) FROM outbox WHERE status = 'enviado'").fetchone()[0]
    queued = conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]
    assert len(delivered) == sent == queued


def test_a_flapping_pon_is_told_once_as_a_recurrence_and_the_held_alert_says_why(monitored_day):
    day, _, conn, _ = monitored_day
    flap = next(o for o in day.truth() if o.name == "flap")
    rows = conn.execute(
        "SELECT id, aviso, recorrencia, chave_local, logins FROM events ORDER BY timestamp"
    ).fetchall()
    flapping = [r for r in rows if set(json.loads(r["logins"])) <= flap.logins]
    assert [(r["aviso"], r["recorrencia"]) for r in flapping] == [
        ("abertura", 1),
        ("recorrencia", 2),
        ("", 3),
    ]
    assert len({r["chave_local"] for r in flapping}) == 1
    held = conn.execute(
        "SELECT kind, motivo FROM held_alerts WHERE event_id = ? ORDER BY id", (flapping[-1]["id"],)
    ).fetchall()
    assert [r["kind"] for r in held] == ["abertura", "normalizacao"]
    assert held[0]["motivo"].startswith("recorrência: 3ª queda no mesmo local em 1 h")


def test_every_outage_of_the_bad_night_is_told_within_one_cycle_with_its_count(monitored_day):
    day, cycles, conn, _ = monitored_day
    score = score_day(conn, day, cycles, threshold=THRESHOLD, quorum=0.9)
    late_or_wrong = {
        f"{e.outage}#{e.number}": (e.told_cycles, e.told_count, e.seen_count)
        for e in score.episodes
        if not e.held and (e.told_cycles is None or e.told_cycles > 1 or not e.count_ok)
    }
    assert late_or_wrong == {}
    assert score.held == ["flap#3"]  # the one recurrence held on purpose, with its reason


def test_no_outage_is_silent_and_no_first_fall_is_told_as_a_flap(monitored_day):
    day, cycles, conn, _ = monitored_day
    score = score_day(conn, day, cycles, threshold=THRESHOLD, quorum=0.9)
    assert score.silent == []
    assert score.false_recurrences == []


def test_overlapping_outages_are_incidents_of_their_own_related_to_the_open_one(monitored_day):
    day, cycles, conn, _ = monitored_day
    score = score_day(conn, day, cycles, threshold=THRESHOLD, quorum=0.9)
    by_outage = {e.outage: e.events for e in score.episodes}
    assert len(set(by_outage["night_fiber"]) | set(by_outage["night_power"])) == 2
    related = dict(conn.execute("SELECT id, relacionado FROM events").fetchall())
    assert related[by_outage["night_fiber"][0]] == by_outage["night_power"][0]
    assert related[by_outage["night_concentrator"][0]] in (
        by_outage["night_power"][0],
        by_outage["night_fiber"][0],
    )
