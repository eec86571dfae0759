from __future__ import annotations

import pytest

from outage.adapters.channels.messages import (
    br_duration,
    br_number,
    br_time,
    plural,
    render_telegram,
    render_text,
    telegram_length,
)
from simulator.telegram import parse_error

T0 = 1_732_256_000.0  # 2024-11-22 06:13:20 UTC = 03:13 in São Paulo


def test_numbers_use_the_brazilian_thousands_separator():
    assert [br_number(3000), br_number(1234567), br_number(12)] == ["3.000", "1.234.567", "12"]


def test_times_are_shown_in_sao_paulo_as_day_month_hour_minute():
    assert br_time(T0) == "22/11 03:13"
    assert br_time("2024-11-22 03:10:00") == "22/11 03:10"
    assert br_time("0000-00-00 00:00:00") == "—"


def test_durations_read_naturally():
    assert [br_duration(8100), br_duration(2700), br_duration(97200)] == ["2h 15min", "45min", "1d 3h"]


def test_opening_names_the_cause_in_words_and_the_location():
    payload = {
        "conexao": "OLT-01",
        "total": 12,
        "motivo": "energia",
        "local": "OLT-01 PON 0/1/3 CTO 7",
        "inicio": T0,
        "logins": [{"login": "ana", "ultima_conexao_final": "2024-11-22 03:10:00"}],
    }
    text = render_telegram("abertura", payload)
    assert "Energia" in text and "OLT-01 PON 0/1/3 CTO 7" in text and "22/11 03:13" in text
    assert "<code>ana</code> 22/11 03:10" in text
    assert parse_error(text) is None


def test_every_value_is_escaped_even_in_logins_and_locations():
    payload = {
        "conexao": "<b>",
        "total": 1,
        "motivo": "loss",
        "local": "CTO <&>",
        "inicio": T0,
        "logins": [{"login": "a</code>b", "ultima_conexao_final": ""}],
    }
    text = render_telegram("abertura", payload)
    assert parse_error(text) is None
    assert "&lt;b&gt;" in text and "a&lt;/code&gt;b" in text


def test_a_huge_summary_still_fits_one_message():
    events = [
        {"conexao": f"CONCENTRADOR-{i:04d}-" + "x" * 40, "total": 1000, "motivo": "loss", "local": "POP"}
        for i in range(500)
    ]
    text = render_telegram("resumo", {"eventos": events, "total_clientes": 500000})
    assert telegram_length(text) <= 4096 and parse_error(text) is None
    assert "500.000" in text and "… e mais" in text


def test_normalization_shows_the_check_mark_and_duration():
    text = render_telegram(
        "normalizacao", {"conexao": "X", "total": 3000, "inicio": T0, "fim": T0 + 8100, "duracao": 8100}
    )
    assert text.startswith("✅") and "2h 15min" in text and "3.000" in text


def test_whatsapp_text_is_one_line():
    text = render_text("crescimento", {"conexao": "X", "novos": 3, "total": 1500, "logins_novos": []})
    assert "\n" not in text and "1.500" in text


@pytest.mark.parametrize(
    ("count", "text"),
    [
        (0, "0 avisos enviados"),
        (1, "1 aviso enviado"),
        (2, "2 avisos enviados"),
        (1200, "1.200 avisos enviados"),
    ],
)
def test_counts_agree_with_their_words_never_a_parenthesized_plural(count: int, text: str) -> None:
    assert plural(count, "aviso enviado", "avisos enviados") == text
