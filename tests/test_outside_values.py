"""Values from outside always fit the channel that carries them, spreadsheets never run
them, and a value a channel would refuse on every message stops `--check-config`."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from outage.adapters.channels.messages import MAX_VALUE, clip, render_telegram
from outage.adapters.channels.registry import CHANNELS
from outage.adapters.channels.telegram import TelegramChannel
from outage.adapters.channels.whatsapp_cloud import WhatsAppCloudChannel
from outage.adapters.erp import ERPS
from outage.config import load_settings
from outage.hsm.history import to_csv
from simulator.telegram import FakeTelegram, parse_error
from simulator.whatsapp import FakeWhatsAppCloud
from tests.test_config import check_config

LONG_NAME = "OLT-" + "Centro<&>" * 560  # 5,000 characters, a third of them escaped in HTML


def opening(conexao: str, login: str = "cliente1") -> dict[str, object]:
    return {
        "conexao": conexao,
        "total": 80,
        "motivo": "loss",
        "local": conexao,
        "inicio": 1_790_000_000.0,
        "logins": [
            {"login": f"{login}{i}", "ultima_conexao_final": "2026-11-22 03:10:00"} for i in range(80)
        ],
    }


def test_an_opening_with_a_5000_character_connection_name_is_accepted_by_telegram(
    telegram: FakeTelegram,
) -> None:
    channel = TelegramChannel(telegram.token, api_url=telegram.url)
    channel.send("-100123", "abertura", opening(LONG_NAME, login="x" * 5000))
    text = telegram.texts("-100123")[0]
    assert "OLT-Centro&lt;&amp;&gt;" in text and "…" in text


@pytest.mark.parametrize(
    "kind", ["abertura", "recorrencia", "crescimento", "causa", "normalizacao", "resumo"]
)
def test_every_alert_kind_fits_telegram_whatever_the_names(kind: str) -> None:
    payload = {
        **opening(LONG_NAME),
        "novos": 5,
        "logins_novos": opening(LONG_NAME)["logins"],
        "eventos": [{"conexao": LONG_NAME, "total": 9, "motivo": "energia", "local": LONG_NAME}] * 40,
        "total_clientes": 360,
        "duracao": 3600,
        "vez": 3,
        "janela": 3600,
        "local_anterior": LONG_NAME,
        "retardatarios": opening(LONG_NAME, login="y" * 5000)["logins"],
        "resolvido_por": LONG_NAME,
        "fim": 1_790_003_600.0,
    }
    text = render_telegram(kind, payload)
    assert parse_error(text) is None


def test_clipping_never_cuts_inside_an_html_entity() -> None:
    text = render_telegram("causa", {"conexao": "&" * 5000, "motivo": "loss", "total": 3})
    assert parse_error(text) is None
    assert "&amp;" * (MAX_VALUE - 1) + "…" in text


def test_clip_keeps_short_texts_and_marks_cut_ones() -> None:
    assert clip("curto", 10) == "curto"
    assert clip("x" * 11, 10) == "x" * 9 + "…"


def test_a_customer_parameter_with_line_breaks_and_5000_characters_is_accepted_by_whatsapp() -> None:
    with FakeWhatsAppCloud() as cloud:
        channel = WhatsAppCloudChannel(cloud.token, "1055", api_url=cloud.api_url)
        payload = {
            "to": "5511987654321",
            "template": "queda_massiva_los",
            "params": ["Maria\n\tda Silva " * 400],
        }
        channel.send("5511987654321", "hsm_cliente", payload)
        sent = cloud.messages[0]["template"]["components"][0]["parameters"][0]["text"]
    assert sent.startswith("Maria da Silva Maria") and len(sent) <= 1000 and sent.endswith("…")


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralized() -> None:
    entry = {
        "decidido_em": 1795424400.0,  # epoch seconds, as history() gives it
        "usuario": "@admin",
        "decisao": "APROVADO",
        "status_atual": "ENVIADO",
        "comentario": '=HYPERLINK("http://evil.example","clique")',
        "olt": "+55 OLT",
        "snapshot": {"olt": "-1+1", "slot_pon": "0/1/2", "afetados": 12},
        "contagens": {"enviados": 12, "falhas": 0},
    }
    row = next(r for r in csv.DictReader(io.StringIO(to_csv([entry])), delimiter=";"))
    assert row["Comentário"] == '\'=HYPERLINK("http://evil.example","clique")'
    assert row["Quem"] == "'@admin"
    assert row["OLT"] == "'-1+1"
    assert row["PON"] == "0/1/2" and row["Clientes afetados"] == "12" and row["Enviados"] == "12"


def test_channels_find_values_they_would_refuse_on_every_message() -> None:
    _, problems = load_settings(
        {
            "IXCSOFT_SERVICE_URL": "http://127.0.0.1:5001",
            "SECRET_KEY": "s" * 40,
            "TELEGRAM_BOT_TOKEN": "123:abc",
            "TELEGRAM_CHAT_ID": "-100123",
            "TELEGRAM_THREAD_ID": "geral",
            "WHATSAPP_TOKEN": "t",
            "WHATSAPP_PHONE_NUMBER_ID": "+55 11 98765-4321",
            "WHATSAPP_NOC_TEMPLATE": "Alerta NOC",
            "URL_HSM": "http://127.0.0.1:9/hsm",
            "TOKEN_HSM": "t",
            "HSM_TEMPLATE_LOS": "queda",
        },
        channels=CHANNELS,
        erps=ERPS,
    )
    found = "\n".join(problems)
    for name in (
        "TELEGRAM_THREAD_ID",
        "WHATSAPP_PHONE_NUMBER_ID",
        "WHATSAPP_NOC_TEMPLATE",
        "HSM_TEMPLATE_LOS",
    ):
        assert name in found
    assert "WHATSAPP_TEMPLATE_LOS" not in found and "HSM_TEMPLATE_POWER" not in found


def test_check_config_refuses_a_non_numeric_telegram_thread_id(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "IXCSOFT_SERVICE_URL": "http://127.0.0.1:5001",
        "SECRET_KEY": "s" * 40,
        "TELEGRAM_BOT_TOKEN": "123:abc",
        "TELEGRAM_CHAT_ID": "-100123",
        "TELEGRAM_THREAD_ID": "²",
    }
    proc = check_config(env, tmp_path)
    assert proc.returncode != 0
    assert "TELEGRAM_THREAD_ID='²' inválido" in proc.stderr
