from __future__ import annotations

from outage.adapters.channels.alert_service import AlertServiceSettings
from outage.adapters.channels.hsm_provider import HSMProviderSettings
from outage.adapters.channels.registry import configured_channels
from outage.adapters.channels.telegram import TelegramSettings
from outage.adapters.channels.whatsapp_cloud import WhatsAppCloudSettings
from outage.alerts.health import outbox_health
from outage.checks import channel_warnings
from outage.config import Settings
from outage.db import open_database, transaction
from outage.storage.outbox import Alert, enqueue

T0 = 1_732_256_000.0


def database(tmp_path, channels=("telegram:-1001",), count=2):
    conn = open_database(str(tmp_path / "monitor.db"))
    with transaction(conn):
        enqueue(conn, [Alert("causa", {"conexao": f"X{i}"}) for i in range(count)], channels, T0)
    return conn


def test_an_empty_outbox_is_healthy(tmp_path):
    conn = open_database(str(tmp_path / "monitor.db"))
    assert outbox_health(conn, T0, 300) | {"problems": []} == {
        "backlog": 0,
        "sending": 0,
        "sent": 0,
        "failed": 0,
        "uncertain": 0,
        "oldest_pending_age": 0.0,
        "failing_channels": [],
        "healthy": True,
        "problems": [],
    }


def test_backlog_within_three_intervals_is_healthy(tmp_path):
    health = outbox_health(database(tmp_path), T0 + 900, 300)
    assert health["backlog"] == 2 and health["oldest_pending_age"] == 900
    assert health["healthy"]


def test_an_alert_undelivered_for_more_than_three_intervals_is_unhealthy(tmp_path):
    health = outbox_health(database(tmp_path), T0 + 901, 300)
    assert not health["healthy"]
    assert "aguardando envio" in health["problems"][0]


def test_a_destination_whose_last_alert_failed_is_unhealthy_until_one_goes_through(tmp_path):
    conn = database(tmp_path)
    conn.execute("UPDATE outbox SET status = 'falhou', last_error = 'chat not found' WHERE id = 1")
    health = outbox_health(conn, T0, 300)
    assert (health["failed"], health["failing_channels"], health["healthy"]) == (1, ["telegram:-1001"], False)
    conn.execute("UPDATE outbox SET status = 'enviado' WHERE id = 2")
    health = outbox_health(conn, T0, 300)
    assert (health["failed"], health["failing_channels"], health["healthy"]) == (1, [], True)


def test_failed_customer_notices_do_not_make_the_noc_unhealthy(tmp_path):
    conn = open_database(str(tmp_path / "monitor.db"))
    with transaction(conn):
        enqueue(conn, [Alert("hsm_cliente", {"to": "5511987654321", "template": "114"})], ["hsm"], T0)
    conn.execute("UPDATE outbox SET status = 'falhou'")
    health = outbox_health(conn, T0, 300)
    assert health["failed"] == 1 and health["healthy"]


def test_configured_channels_name_one_destination_per_chat_number_and_route():
    settings = Settings(
        channels={
            "telegram": TelegramSettings(bot_token="1:abc", chat_ids=("-1001", "-1002")),
            "whatsapp_cloud": WhatsAppCloudSettings(
                token="tok", phone_number_id="1055", noc_numbers=("5511987654321",)
            ),
            "hsm": HSMProviderSettings(url="http://hsm.local/send", token="t", noc_template="200"),
            "alert_service": AlertServiceSettings(url="http://alertas.local"),
        }
    )
    assert configured_channels(settings) == [
        "telegram:-1001",
        "telegram:-1002",
        "hsm:5511987654321",
        "whatsapp_cloud:5511987654321",
        "alert_service:whatsapp",
    ]
    [warning] = channel_warnings(settings)
    assert "uma vez por grupo" in warning and "/alerta/whatsapp" in warning


def test_the_alert_service_carries_telegram_alerts_when_the_bot_api_is_not_configured():
    settings = Settings(channels={"alert_service": AlertServiceSettings(url="http://alertas.local")})
    assert configured_channels(settings) == ["alert_service:telegram", "alert_service:whatsapp"]


def test_no_channel_configured_gives_an_empty_list_and_a_warning():
    assert configured_channels(Settings()) == []
    noc, customers = channel_warnings(Settings())
    assert "Nenhum canal de alerta configurado" in noc and "HSM_NOC_TEMPLATE" in noc
    assert "Nenhum provedor de avisos aos clientes" in customers
