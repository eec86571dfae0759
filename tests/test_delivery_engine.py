"""The one delivery engine: a failing alert stalls its destination only so long, an event's
alerts never overtake each other, a crash repeats NOC alerts (marked) but never customer
notices, and an existing database migrates to the engine's schema."""

from __future__ import annotations

import json
import sqlite3

import pytest

from outage.adapters.channels.hsm_provider import HSMProviderSettings
from outage.adapters.channels.registry import build_channels
from outage.adapters.channels.telegram import TelegramSettings
from outage.alerts.health import outbox_health
from outage.alerts.sender import LEASE_SECONDS, Sender
from outage.config import Settings
from outage.core.kinds import CUSTOMER_TEMPLATE
from outage.db import connect, open_database, transaction
from outage.hsm.dispatch import notice_payload
from outage.migrations import numbered
from outage.storage import outbox
from outage.storage.outbox import Alert, enqueue
from simulator.telegram import FakeTelegram
from tests.test_alerts_sender import FakeClock, opening

pytestmark = pytest.mark.both_databases

CHAT = "-1001"


def one_chat(telegram: FakeTelegram) -> Settings:
    own = TelegramSettings(
        bot_token=telegram.token, chat_ids=(CHAT,), api_url=telegram.url, per_chat_per_minute=600
    )
    return Settings(channels={"telegram": own})


def normalization(name: str) -> Alert:
    payload = {"conexao": name, "total": 10, "inicio": 1732256000.0, "fim": 1732256600.0, "duracao": 600}
    return Alert("normalizacao", payload, event_id=name)


def write(db_path: str, alerts: list[Alert], channels: list[str], now: float) -> list[int]:
    conn = open_database(db_path)
    with transaction(conn):
        ids = enqueue(conn, alerts, channels, now)
    conn.close()
    return ids


def statuses(db_path: str) -> list[tuple[str, str, int]]:
    conn = connect(db_path)
    found = [(r["kind"], r["status"], r["repete"]) for r in conn.execute("SELECT * FROM outbox ORDER BY id")]
    conn.close()
    return found


def sent_order(telegram: FakeTelegram) -> list[str]:
    """Which alert each accepted message was: `<kind> <connection>`, in arrival order."""
    order = []
    for text in telegram.texts(CHAT):
        kind = "normalizacao" if "Normaliz" in text else "abertura"
        name = next(n for n in ("OLT-X", "OLT-Y", "OLT-Z") if n in text)
        order.append(f"{kind} {name}" + (" (reenvio)" if "Reenvio" in text else ""))
    return order


def test_a_failing_alert_holds_the_others_for_three_attempts_then_they_go_and_it_keeps_retrying(
    telegram, db_path
):
    clock = FakeClock()
    write(db_path, [opening("OLT-X"), opening("OLT-Y"), opening("OLT-Z")], [f"telegram:{CHAT}"], clock.now)
    telegram.fail_next("500", "500", "500")
    sender = Sender(db_path, one_chat(telegram), clock=clock, sleep=clock.sleep)
    stats = sender.deliver_due(max_wait=120)
    sender.close()
    assert sent_order(telegram) == ["abertura OLT-Y", "abertura OLT-Z", "abertura OLT-X"]
    assert (stats.sent, stats.retried) == (3, 3)
    assert {status for _, status, _ in statuses(db_path)} == {"enviado"}


def test_a_destination_whose_alert_keeps_failing_is_failing_for_healthz_and_the_health_page(
    telegram, db_path
):
    clock = FakeClock()
    write(db_path, [opening("OLT-X"), opening("OLT-Y")], [f"telegram:{CHAT}"], clock.now)
    telegram.fail_next("500", "500", "500")
    sender = Sender(db_path, one_chat(telegram), clock=clock, sleep=clock.sleep)
    sender.deliver_due(max_wait=17)  # three failed attempts of OLT-X; OLT-Y then goes
    sender.close()
    conn = connect(db_path)
    assert sent_order(telegram) == ["abertura OLT-Y"]
    assert outbox.failing_destinations(conn) == [f"telegram:{CHAT}"]
    health = outbox_health(conn, clock.now, 300)
    assert health["healthy"] is False and health["failing_channels"] == [f"telegram:{CHAT}"]
    conn.close()


def test_an_event_s_alerts_never_overtake_each_other_even_past_the_stall_bound(telegram, db_path):
    clock = FakeClock()
    alerts = [opening("OLT-X"), normalization("OLT-X"), opening("OLT-Y")]
    write(db_path, alerts, [f"telegram:{CHAT}"], clock.now)
    telegram.fail_next("500", "500", "500")
    sender = Sender(db_path, one_chat(telegram), clock=clock, sleep=clock.sleep)
    sender.deliver_due(max_wait=120)
    sender.close()
    assert sent_order(telegram) == ["abertura OLT-Y", "abertura OLT-X", "normalizacao OLT-X"]


def test_after_a_crash_a_noc_opening_is_sent_again_marked_as_a_repeat_and_before_its_normalization(
    telegram, db_path
):
    clock = FakeClock()
    settings = one_chat(telegram)
    opening_id, _ = write(
        db_path, [opening("OLT-X"), normalization("OLT-X")], [f"telegram:{CHAT}"], clock.now
    )
    crash_after_acceptance(db_path, settings, opening_id, clock.now)
    clock.sleep(LEASE_SECONDS + 1)
    sender = Sender(db_path, settings, clock=clock, sleep=clock.sleep)
    stats = sender.deliver_due(max_wait=30)
    sender.close()
    assert stats.recovered == 1
    assert sent_order(telegram) == ["abertura OLT-X", "abertura OLT-X (reenvio)", "normalizacao OLT-X"]
    assert statuses(db_path) == [("abertura", "enviado", 1), ("normalizacao", "enviado", 0)]


def test_after_a_crash_a_customer_notice_the_provider_accepted_is_never_sent_again_by_itself(hsm, db_path):
    clock = FakeClock()
    settings = Settings(channels={"hsm": HSMProviderSettings(url=hsm.send_url, token=hsm.token)})
    payloads = [notice_payload(f"55119876500{n:02d}", f"Cliente {n}", "114") for n in range(3)]
    ids = write(db_path, [Alert(CUSTOMER_TEMPLATE, p, "hsm:1") for p in payloads], ["hsm"], clock.now)
    crash_after_acceptance(db_path, settings, ids[0], clock.now)
    assert len(hsm.messages) == 1
    clock.sleep(LEASE_SECONDS + 1)
    sender = Sender(db_path, settings, clock=clock, sleep=clock.sleep)
    stats = sender.deliver_due(max_wait=30)
    sender.close()
    assert (stats.recovered, stats.sent) == (1, 2)
    assert sorted(m["contato"]["telefone"] for m in hsm.messages) == [
        "5511987650000",
        "5511987650001",
        "5511987650002",
    ]
    assert [status for _, status, _ in statuses(db_path)] == ["incerto", "enviado", "enviado"]

    again = Sender(db_path, settings, clock=lambda: clock.now + 86400)
    again.deliver_due()
    again.close()
    assert len(hsm.messages) == 3


def test_a_notice_whose_answer_never_came_is_uncertain_not_retried(hsm, db_path):
    clock = FakeClock()
    settings = Settings(channels={"hsm": HSMProviderSettings(url=hsm.send_url, token=hsm.token)})
    channels = build_channels(settings)
    channels["hsm"]._timeout = 0.5  # a provider slower than our patience
    hsm.fail_next("slow:1.5")
    write(
        db_path,
        [Alert(CUSTOMER_TEMPLATE, notice_payload("5511987650000", "Ana", "114"), "hsm:1")],
        ["hsm"],
        clock.now,
    )
    sender = Sender(db_path, settings, clock=clock, sleep=clock.sleep, channels=channels)
    stats = sender.deliver_due(max_wait=30)
    sender.close()
    assert (stats.uncertain, stats.sent, stats.retried) == (1, 0, 0)
    assert [status for _, status, _ in statuses(db_path)] == ["incerto"]


def crash_after_acceptance(db_path: str, settings: Settings, row_id: int, now: float) -> None:
    """A worker claims the row and the provider accepts it; the worker dies before recording."""
    conn = connect(db_path)
    [claimed] = outbox.claim(conn, [row_id], "morto", now, due_only=False)
    row = conn.execute("SELECT channel, kind, payload FROM outbox WHERE id = ?", (claimed,)).fetchone()
    conn.close()
    payload = json.loads(row["payload"])
    provider, _, target = row["channel"].partition(":")
    channel = build_channels(settings)[provider]
    channel.send(target or payload["to"], row["kind"], payload)


# --- migration ---------------------------------------------------------------------------


@pytest.mark.sqlite_only
def test_a_database_of_the_previous_schema_migrates_keeping_every_row(db_path):
    conn = connect(db_path)
    for number, path in numbered():
        if number > 4:
            break
        conn.executescript(path.read_text(encoding="utf-8"))
        conn.execute(f"PRAGMA user_version={number}")
    conn.execute(
        "INSERT INTO events (id, conexao, timestamp, status, logins, motivo, atualizado_em)"
        " VALUES ('e-old', 'OLT-A', 100.0, 'resolvido', '[]', 'loss', 100.0),"
        " ('e-new', 'OLT-B', 200.0, 'ativo', '[]', 'energia', 200.0)"
    )
    conn.execute(
        "INSERT INTO outbox (channel, kind, event_id, payload, status, attempts, next_attempt_at, created_at)"
        " VALUES ('telegram:-1', 'abertura', 'e-old', '{}', 'enviado', 1, 100.0, 100.0),"
        " ('telegram:-1', 'normalizacao', 'e-old', '{}', 'pendente', 0, 150.0, 150.0)"
    )
    conn.commit()
    conn.close()

    migrated = open_database(db_path)
    rows = [tuple(r) for r in migrated.execute("SELECT id, kind, status, repete FROM outbox ORDER BY id")]
    assert rows == [(1, "abertura", "enviado", 0), (2, "normalizacao", "pendente", 0)]
    numbers = migrated.execute("SELECT event_id, numero FROM incident_numbers ORDER BY numero").fetchall()
    assert [tuple(r) for r in numbers] == [("e-old", 1), ("e-new", 2)]
    with pytest.raises(sqlite3.IntegrityError):
        migrated.execute("UPDATE outbox SET status = 'perdido' WHERE id = 1")
    migrated.close()
