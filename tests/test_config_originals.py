"""A `.env` copied from either original project: read through aliases, or told what to change."""

from __future__ import annotations

from pathlib import Path

import pytest

from outage.adapters.channels import hsm_provider
from outage.adapters.channels.registry import CHANNELS, configured_channels
from outage.adapters.erp import ERPS, configured_erp
from outage.adapters.erp.ixc import ixc_settings
from outage.config import load_settings
from tests.test_config import check_config

# As the original dispatch console's users have it (its code's names, not its README's).
DISPATCH_CONSOLE_ENV = """\
BASE_URL_API=https://olt-manager.provedor.com.br/api
API_AUTH_URL=https://olt-manager.provedor.com.br/api/auth/login
API_USER=noc
API_PASS=senha-do-noc
API_TOKEN=eyJhbGciOiJIUzI1NiJ9.inicial
HSM_URL=https://hsm.provedor.com.br/api/envio
HSM_TOKEN=token-hsm-123
HSM_COOKIE=PHPSESSID=abc123
"""

# As the original monitor's users have it: the services' shared `.env`.
ORIGINAL_MONITOR_ENV = """\
IXCSOFT_HOST=ixc.provedor.com.br
IXCSOFT_USUARIO=8
IXCSOFT_TOKEN=1126d7f4c2a9e0b3
TELEGRAM_BOT_TOKEN=123456:ABCDEF
TELEGRAM_CHAT_ID=-1001234567890
ALERT_SERVICE_URL=http://localhost:5002
GUPSHUP_API_KEY=chave
OLT_HOST=10.0.0.1
"""


SECRET = {"SECRET_KEY": "s" * 40}


def env_of(text: str) -> dict[str, str]:
    return {**SECRET, **dict(line.split("=", 1) for line in text.splitlines() if line)}


def run_check(tmp_path: Path, dotenv: str, **extra: str):
    (tmp_path / ".env").write_text(dotenv, encoding="utf-8")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "SECRET_KEY": "s" * 40, **extra}
    return check_config(env, tmp_path)


def test_the_dispatch_console_env_reads_its_names_and_api_token_is_the_olt_system_token():
    settings, problems = load_settings(
        {**env_of(DISPATCH_CONSOLE_ENV), "IXCSOFT_SERVICE_URL": "http://localhost:5001"},
        channels=CHANNELS,
        erps=ERPS,
    )
    assert problems == []
    assert settings.api_base_url == "https://olt-manager.provedor.com.br/api"
    hsm = hsm_provider.settings_of(settings)
    assert (hsm.url, hsm.token, hsm.cookie) == (
        "https://hsm.provedor.com.br/api/envio",
        "token-hsm-123",
        "PHPSESSID=abc123",
    )
    assert settings.olt_system_token == "eyJhbGciOiJIUzI1NiJ9.inicial"
    assert settings.api_token == ""  # /eventos is not locked behind the OLT system's token
    assert any("BASE_URL_API" in note and "API_BASE_URL" in note for note in settings.notes)
    assert any("API_TOKEN" in note and "gerência de OLT" in note for note in settings.notes)


def test_the_dispatch_console_env_passes_check_config_saying_which_names_were_read(tmp_path):
    proc = run_check(tmp_path, DISPATCH_CONSOLE_ENV, IXCSOFT_SERVICE_URL="http://localhost:5001")
    assert proc.returncode == 0, proc.stderr
    assert "HSM_URL (nome do sistema original) lido como URL_HSM" in proc.stdout
    assert "token-hsm-123" not in proc.stdout + proc.stderr


def test_the_original_monitor_env_configures_direct_ixc_and_telegram_once(tmp_path):
    settings, problems = load_settings(env_of(ORIGINAL_MONITOR_ENV), channels=CHANNELS, erps=ERPS)
    assert problems == []
    ixc = ixc_settings(settings)
    assert (configured_erp(settings).name, ixc.url) == ("direct", "https://ixc.provedor.com.br")
    assert (ixc.user, ixc.token) == ("8", "1126d7f4c2a9e0b3")
    assert configured_channels(settings) == ["telegram:-1001234567890", "alert_service:whatsapp"]
    proc = run_check(tmp_path, ORIGINAL_MONITOR_ENV)
    assert proc.returncode == 0, proc.stderr
    assert "IXCSOFT_HOST (nome do sistema original) lido como IXC_URL" in proc.stdout
    assert "uma vez por grupo" in proc.stdout


@pytest.mark.parametrize(
    "credentials",
    [{"IXC_TOKEN": "8:1126d7f4c2a9e0b3"}, {"IXC_USER": "8", "IXC_TOKEN": "1126d7f4c2a9e0b3"}],
    ids=["as IXC shows it", "user and hash apart"],
)
def test_ixc_credentials_are_read_in_either_form(credentials):
    settings, problems = load_settings(
        {**SECRET, "IXC_URL": "https://ixc.local", **credentials}, channels=CHANNELS, erps=ERPS
    )
    assert problems == []
    assert (ixc_settings(settings).user, ixc_settings(settings).token) == ("8", "1126d7f4c2a9e0b3")


@pytest.mark.parametrize(
    ("credentials", "hint"),
    [
        ({"IXC_TOKEN": "1:8:abc"}, "<id>:<hash>"),
        ({"IXC_USER": "1", "IXC_TOKEN": "8:abc"}, "não confere"),
        ({"IXC_TOKEN": "abc"}, "IXC_USER"),
    ],
)
def test_ixc_credentials_that_cannot_work_are_refused_with_a_hint(credentials, hint):
    _, problems = load_settings(
        {**SECRET, "IXC_URL": "https://ixc.local", **credentials}, channels=CHANNELS, erps=ERPS
    )
    assert any(hint in problem for problem in problems), problems


def test_an_install_on_the_old_api_token_name_keeps_working_with_a_warning(tmp_path):
    settings, problems = load_settings(
        {**SECRET, "IXCSOFT_SERVICE_URL": "http://localhost:5001", "API_TOKEN": "t" * 24},
        channels=CHANNELS,
        erps=ERPS,
    )
    assert problems == [] and settings.api_token == "t" * 24 and settings.olt_system_token == ""
    proc = run_check(tmp_path, "API_TOKEN=" + "t" * 24 + "\nIXCSOFT_SERVICE_URL=http://localhost:5001\n")
    assert proc.returncode == 0, proc.stderr
    assert "renomeie para MONITOR_API_TOKEN" in proc.stdout


def test_an_original_name_and_ours_with_different_values_is_a_problem_to_fix(tmp_path):
    proc = run_check(
        tmp_path,
        "IXCSOFT_SERVICE_URL=http://localhost:5001\nHSM_URL=https://a\nURL_HSM=https://b\nTOKEN_HSM=t\n",
    )
    assert proc.returncode != 0
    assert "HSM_URL e URL_HSM definidos com valores diferentes" in proc.stderr
