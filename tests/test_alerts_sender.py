from __future__ import annotations

import threading

import pytest

from outage.adapters.channels.registry import configured_channels
from outage.adapters.channels.telegram import TelegramChannel, TelegramSettings
from outage.adapters.channels.whatsapp_cloud import WhatsAppCloudSettings
from outage.alerts.sender import Sender
from outage.alerts.storm import summarize_if_storm
from outage.config import Settings
from outage.db import open_database, transaction
from outage.storage.outbox import Alert, enqueue
from simulator.telegram import FakeTelegram
from simulator.whatsapp import FakeWhatsAppCloud

pytestmark = pytest.mark.both_databases

CHATS = ("-1001", "-1002")


class FakeClock:
    """Time that moves only when the sender sleeps (or the test says so)."""

    def __init__(self, start: float = 1_732_256_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.0)


def settings_for(telegram, chat_ids=CHATS, per_chat_per_minute=20, **changes) -> Settings:
    own = TelegramSettings(
        bot_token=telegram.token,
        chat_ids=chat_ids,
        api_url=telegram.url,
        per_chat_per_minute=per_chat_per_minute,
    )
    return Settings(channels={"telegram": own}, **changes)


def opening(name: str, total: int = 10) -> Alert:
    logins = [{"login": f"{name}-{i}", "ultima_conexao_final": "2024-11-22 03:10:00"} for i in range(total)]
    payload = {
        "conexao": name,
        "total": total,
        "motivo": "energia",
        "local": "",
        "inicio": 1732256000.0,
        "logins": logins,
    }
    return Alert("abertura", payload, event_id=name)


def queue(db_path, settings, alerts, now=1_732_256_000.0) -> int:
    """Write the alerts to every configured channel; returns how many rows were written."""
    conn = open_database(db_path)
    with transaction(conn):
        written = enqueue(conn, alerts, configured_channels(settings), now)
    conn.close()
    return len(written)


def rows(db_path):
    conn = open_database(db_path)
    found = [dict(r) for r in conn.execute("SELECT * FROM outbox ORDER BY id")]
    conn.close()
    return found


def sender_for(db_path, settings, clock, **kwargs) -> Sender:
    return Sender(db_path, settings, clock=clock, sleep=clock.sleep, **kwargs)


def test_each_chat_gets_each_alert_exactly_once_across_cycles(telegram, db_path):
    settings = settings_for(telegram)
    clock = FakeClock()
    queue(db_path, settings, [opening("OLT-A"), opening("OLT-B"), opening("OLT-C")])
    sender = sender_for(db_path, settings, clock)
    stats = sender.deliver_due(max_wait=60)
    for _ in range(3):
        clock.sleep(30)
        sender.deliver_due(max_wait=60)
    sender.close()
    assert stats.sent == 6
    for chat in CHATS:
        texts = telegram.texts(chat)
        assert len(texts) == 3
        assert ["OLT-A" in texts[0], "OLT-B" in texts[1], "OLT-C" in texts[2]] == [True] * 3
    assert {r["status"] for r in rows(db_path)} == {"enviado"}
    assert all(r["provider_message_id"] for r in rows(db_path))


def test_it_retries_after_429_honouring_retry_after(telegram, db_path):
    settings = settings_for(telegram, chat_ids=("-1001",))
    clock = FakeClock()
    queue(db_path, settings, [opening("OLT-A")])
    telegram.fail_next("429:1")
    sender = sender_for(db_path, settings, clock)
    stats = sender.deliver_due(max_wait=5)
    sender.close()
    assert (stats.retried, stats.sent) == (1, 1)
    assert len(telegram.texts()) == 1
    [row] = rows(db_path)
    assert row["status"] == "enviado" and row["attempts"] == 2
    assert row["sent_at"] - row["created_at"] == pytest.approx(1.0)


def test_telegram_down_for_a_cycle_then_back_delivers_once(db_path):
    server = FakeTelegram().start()
    port = server.port
    settings = settings_for(server, chat_ids=("-1001",))
    server.stop()
    clock = FakeClock()
    queue(db_path, settings, [opening("OLT-A")])
    sender = sender_for(db_path, settings, clock)
    first = sender.deliver_due()
    assert (first.sent, first.retried) == (0, 1)
    assert rows(db_path)[0]["status"] == "pendente" and "conexão" in rows(db_path)[0]["last_error"]
    with FakeTelegram(port=port) as back:
        clock.sleep(300)
        second = sender.deliver_due()
        third = sender.deliver_due()
        sender.close()
        assert (second.sent, third.sent) == (1, 0)
        assert len(back.texts()) == 1


def test_5xx_is_retried_with_backoff(telegram, db_path):
    settings = settings_for(telegram, chat_ids=("-1001",))
    clock = FakeClock()
    queue(db_path, settings, [opening("OLT-A")])
    telegram.fail_next("500", "503")
    sender = sender_for(db_path, settings, clock)
    stats = sender.deliver_due(max_wait=60)
    sender.close()
    assert (stats.retried, stats.sent) == (2, 1)
    [row] = rows(db_path)
    assert row["attempts"] == 3
    assert row["sent_at"] - row["created_at"] == pytest.approx(5 + 10)


def test_a_slow_answer_times_out_and_is_retried(telegram, db_path):
    settings = settings_for(telegram, chat_ids=("-1001",))
    channel = TelegramChannel(telegram.token, api_url=telegram.url, timeout=0.3)
    clock = FakeClock()
    queue(db_path, settings, [opening("OLT-A")])
    telegram.fail_next("slow:1")
    sender = sender_for(db_path, settings, clock, channels={"telegram": channel})
    stats = sender.deliver_due()
    sender.close()
    assert stats.retried == 1
    assert "tempo esgotado" in rows(db_path)[0]["last_error"]


def test_a_permanent_failure_is_kept_with_its_reason_and_the_other_chat_still_gets_it(
    telegram, db_path, caplog
):
    settings = settings_for(telegram)
    telegram.missing_chats.add("-1002")
    clock = FakeClock()
    queue(db_path, settings, [opening("OLT-A")])
    sender = sender_for(db_path, settings, clock)
    stats = sender.deliver_due(max_wait=30)
    sender.close()
    assert (stats.sent, stats.failed) == (1, 1)
    by_chat = {r["channel"]: r for r in rows(db_path)}
    assert by_chat["telegram:-1001"]["status"] == "enviado"
    assert by_chat["telegram:-1002"]["status"] == "falhou"
    assert "chat not found" in by_chat["telegram:-1002"]["last_error"]
    assert "ALERTA NÃO ENTREGUE" in caplog.text
    assert telegram.token not in caplog.text


def test_special_characters_in_a_connection_name_are_delivered(telegram, db_path):
    settings = settings_for(telegram, chat_ids=("-1001",))
    queue(db_path, settings, [opening("POP <Centro> & R&D > 1")])
    sender = sender_for(db_path, settings, FakeClock())
    stats = sender.deliver_due()
    sender.close()
    assert stats.sent == 1
    assert "POP &lt;Centro&gt; &amp; R&amp;D &gt; 1" in telegram.texts()[0]


def test_a_3000_login_outage_is_delivered_as_one_message(telegram, db_path):
    settings = settings_for(telegram, chat_ids=("-1001",), max_clients_in_message=500)
    queue(db_path, settings, [opening("OLT-GRANDE", total=3000)])
    sender = sender_for(db_path, settings, FakeClock())
    stats = sender.deliver_due()
    sender.close()
    assert stats.sent == 1 and len(telegram.texts()) == 1
    assert "3.000" in telegram.texts()[0] and "… e mais" in telegram.texts()[0]


def test_a_storm_of_30_events_sends_one_summary(telegram, db_path):
    settings = settings_for(telegram, chat_ids=("-1001",))
    alerts = summarize_if_storm(
        [opening(f"OLT-{i:02d}", total=100) for i in range(30)], settings.storm_threshold
    )
    queue(db_path, settings, alerts)
    sender = sender_for(db_path, settings, FakeClock())
    sender.deliver_due(max_wait=60)
    sender.close()
    [text] = telegram.texts()
    assert "30 conexões" in text and "3.000" in text
    assert "OLT-00" in text and "OLT-29" in text


def test_five_events_are_not_a_storm():
    alerts = [opening(f"OLT-{i}") for i in range(5)]
    assert summarize_if_storm(alerts, 5) == alerts


def test_two_senders_racing_on_the_same_outbox_send_each_row_once(telegram, db_path):
    chats = tuple(f"-100{i}" for i in range(5))
    settings = settings_for(telegram, chat_ids=chats, per_chat_per_minute=60000)
    written = queue(db_path, settings, [opening(f"OLT-{i}", total=2) for i in range(40)])
    senders = [Sender(db_path, settings, worker_id=f"w{i}") for i in range(2)]
    results = []
    threads = [
        threading.Thread(target=lambda s=s: results.append(s.deliver_due(max_wait=30))) for s in senders
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for sender in senders:
        sender.close()
    pairs = [(m["chat_id"], m["text"]) for m in telegram.messages]
    assert len(pairs) == written == 200
    assert len(set(pairs)) == 200
    assert sum(r.sent for r in results) == 200
    assert {r["status"] for r in rows(db_path)} == {"enviado"}


def test_after_a_restart_pending_and_abandoned_rows_are_delivered(telegram, db_path):
    settings = settings_for(telegram, chat_ids=("-1001",))
    clock = FakeClock()
    queue(db_path, settings, [opening("OLT-A"), opening("OLT-B")], now=clock.now)
    conn = open_database(db_path)
    conn.execute(
        "UPDATE outbox SET status = 'enviando', claimed_by = 'morto', claimed_at = ?, attempts = 1 WHERE id = 1",
        (clock.now,),
    )
    conn.close()
    clock.sleep(600)  # past the lease of the dead process
    sender = sender_for(db_path, settings, clock)
    stats = sender.deliver_due(max_wait=30)
    sender.close()
    assert (stats.recovered, stats.sent) == (1, 2)
    assert ["OLT-A" in t for t in telegram.texts()] == [True, False]


def test_once_mode_leaves_paced_rows_pending_for_the_next_run(telegram, db_path):
    settings = settings_for(telegram, chat_ids=("-1001",))
    queue(db_path, settings, [opening("OLT-A"), opening("OLT-B")])
    sender = sender_for(db_path, settings, FakeClock())
    stats = sender.deliver_due(max_wait=1)
    sender.close()
    assert stats.sent == 1
    assert [r["status"] for r in rows(db_path)] == ["enviado", "pendente"]


def test_a_supergroup_migration_is_followed_and_noted(telegram, db_path):
    settings = settings_for(telegram, chat_ids=("-1001",))
    queue(db_path, settings, [opening("OLT-A")])
    telegram.fail_next("migrate:-100777")
    sender = sender_for(db_path, settings, FakeClock())
    sender.deliver_due()
    sender.close()
    assert [m["chat_id"] for m in telegram.messages] == ["-100777"]
    assert "-100777" in rows(db_path)[0]["last_error"]


def test_customer_template_rows_go_through_the_same_sender(db_path):
    customers = [
        Alert(
            "hsm_cliente",
            {"to": f"551198765430{i}", "nome": f"C{i}", "template": "queda_massiva_los", "params": [f"C{i}"]},
        )
        for i in range(3)
    ]
    conn = open_database(db_path)
    with transaction(conn):
        enqueue(conn, customers, ["whatsapp_cloud"], 1_732_256_000.0)
    conn.close()
    with FakeWhatsAppCloud() as cloud:
        own = WhatsAppCloudSettings(token=cloud.token, phone_number_id="1055", api_url=cloud.api_url)
        settings = Settings(channels={"whatsapp_cloud": own})
        sender = sender_for(db_path, settings, FakeClock())
        stats = sender.deliver_due(max_wait=1)
        sender.close()
    assert stats.sent == 3
    assert sorted(m["to"] for m in cloud.messages) == [f"551198765430{i}" for i in range(3)]


def test_a_row_for_an_unconfigured_channel_fails_with_the_reason(telegram, db_path):
    settings = settings_for(telegram, chat_ids=("-1001",))
    conn = open_database(db_path)
    with transaction(conn):
        enqueue(conn, [opening("OLT-A")], ["whatsapp_cloud:5511987654321"], 1_732_256_000.0)
    conn.close()
    sender = sender_for(db_path, settings, FakeClock())
    stats = sender.deliver_due()
    sender.close()
    assert stats.failed == 1
    assert "não configurado" in rows(db_path)[0]["last_error"]


def test_run_delivers_in_the_background_until_stopped(telegram, db_path):
    settings = settings_for(telegram, chat_ids=("-1001",))
    queue(db_path, settings, [opening("OLT-A")])
    sender = Sender(db_path, settings)
    stop = threading.Event()
    thread = threading.Thread(target=sender.run, args=(stop, 0.05))
    thread.start()
    for _ in range(200):
        if rows(db_path)[0]["status"] == "enviado":
            break
        stop.wait(0.05)
    stop.set()
    thread.join()
    assert len(telegram.texts()) == 1


def test_alerts_keep_flowing_after_the_wall_clock_goes_back_an_hour(telegram, db_path):
    from tests.clocks import HandClock

    hand = HandClock()
    settings = settings_for(telegram)
    conn = open_database(db_path)
    with transaction(conn):  # an opening held 25 s for its cause
        enqueue(conn, [opening("OLT-A")], configured_channels(settings), hand.wall(), hand.wall() + 25)
    conn.close()
    engine = Sender(db_path, settings, clock=hand.wall, sleep=hand.advance, monotonic=hand.monotonic)
    assert engine.deliver_due(0.0).sent == 0  # not due yet
    hand.jump(-3600)
    hand.advance(26)
    assert engine.deliver_due(5.0).sent == len(CHATS)  # 26 s later it went, whatever the wall says
    assert len(telegram.messages) == len(CHATS)


def test_a_jump_ahead_does_not_rush_what_waits_for_a_retry(telegram, db_path):
    from tests.clocks import HandClock

    hand = HandClock()
    settings = settings_for(telegram)
    conn = open_database(db_path)
    with transaction(conn):
        enqueue(conn, [opening("OLT-B")], configured_channels(settings), hand.wall(), hand.wall() + 25)
    conn.close()
    engine = Sender(db_path, settings, clock=hand.wall, sleep=hand.advance, monotonic=hand.monotonic)
    engine.deliver_due(0.0)
    hand.jump(3600)
    assert engine.deliver_due(0.0).sent == 0  # still 25 real seconds to go
    hand.advance(26)
    assert engine.deliver_due(5.0).sent == len(CHATS)
