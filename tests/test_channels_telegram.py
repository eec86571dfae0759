from __future__ import annotations

import pytest

from outage.adapters.channels.telegram import TelegramChannel
from outage.http import TransportError
from simulator.telegram import FakeTelegram

OPENING = {
    "conexao": "OLT <Centro> & Norte",
    "total": 3000,
    "motivo": "loss",
    "local": "OLT-01 PON 0/1/2 CTO <7>",
    "inicio": 1732256000.0,
    "logins": [{"login": f"cli<{i}>&x", "ultima_conexao_final": "2024-11-22 03:10:00"} for i in range(3000)],
}


@pytest.fixture
def fake():
    with FakeTelegram() as server:
        yield server


def channel_for(fake, **kwargs):
    return TelegramChannel(fake.token, api_url=fake.url, **kwargs)


def test_it_sends_html_that_telegram_accepts_with_special_characters(fake):
    receipt = channel_for(fake).send("-100123", "abertura", OPENING)
    assert receipt.provider_message_id == "1"
    text = fake.texts("-100123")[0]
    assert "OLT &lt;Centro&gt; &amp; Norte" in text
    assert "Rompimento de fibra (LOS)" in text


def test_a_3000_login_outage_fits_in_one_message_even_with_a_high_client_limit(fake):
    channel_for(fake, max_clients=500).send("-100123", "abertura", OPENING)
    text = fake.texts()[0]
    assert len(fake.texts()) == 1
    assert "3.000" in text
    assert "… e mais" in text and "clientes" in text


def test_it_lists_at_most_max_clients_in_message(fake):
    channel_for(fake, max_clients=50).send("-100123", "abertura", OPENING)
    assert fake.texts()[0].count("<code>") == 50
    assert "… e mais 2.950 clientes" in fake.texts()[0]


def test_it_sends_the_thread_id_when_configured(fake):
    channel_for(fake, thread_id="42").send(
        "-100123", "causa", {"conexao": "X", "motivo": "energia", "total": 5}
    )
    assert fake.messages[0]["message_thread_id"] == 42


def test_it_reports_429_as_transient_with_retry_after(fake):
    fake.fail_next("429:3")
    with pytest.raises(TransportError) as error:
        channel_for(fake).send("-100123", "causa", {"conexao": "X", "motivo": "energia", "total": 5})
    assert not error.value.permanent
    assert error.value.retry_after == 3


def test_it_reports_5xx_as_transient(fake):
    fake.fail_next("502")
    with pytest.raises(TransportError) as error:
        channel_for(fake).send("-100123", "causa", {"conexao": "X", "motivo": "energia", "total": 5})
    assert not error.value.permanent


def test_it_reports_chat_not_found_and_blocked_as_permanent(fake):
    fake.missing_chats.add("-100404")
    fake.fail_next("403:Forbidden: bot was blocked by the user")
    channel = channel_for(fake)
    for chat in ("-100123", "-100404"):
        with pytest.raises(TransportError) as error:
            channel.send(chat, "causa", {"conexao": "X", "motivo": "energia", "total": 5})
        assert error.value.permanent


def test_it_resends_to_the_new_chat_after_a_supergroup_migration(fake, caplog):
    fake.fail_next("migrate:-100999")
    channel = channel_for(fake)
    receipt = channel.send("-123", "causa", {"conexao": "X", "motivo": "energia", "total": 5})
    channel.send("-123", "causa", {"conexao": "Y", "motivo": "energia", "total": 5})
    assert [m["chat_id"] for m in fake.messages] == ["-100999", "-100999"]
    assert "-100999" in receipt.note
    assert "TELEGRAM_CHAT_ID" in caplog.text


def test_refused_connection_is_transient_and_the_token_is_not_in_the_error():
    with FakeTelegram() as server:
        url = server.url
    channel = TelegramChannel("999:SECRETTOKEN", api_url=url)
    with pytest.raises(TransportError) as error:
        channel.send("-100123", "causa", {"conexao": "X", "motivo": "energia", "total": 5})
    assert not error.value.permanent
    assert "SECRETTOKEN" not in str(error.value)
