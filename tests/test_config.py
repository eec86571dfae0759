"""Configuration: typed, validated all at once, every problem with a hint."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from outage.adapters.channels.registry import CHANNELS
from outage.adapters.erp import ERPS, configured_erp
from outage.config import Reader, load_settings

ROOT = Path(__file__).resolve().parent.parent


def check_config(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """`python monitor_service.py --check-config` in a clean environment."""
    return subprocess.run(
        [sys.executable, str(ROOT / "monitor_service.py"), "--check-config"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_defaults_follow_the_originals():
    settings, problems = load_settings(
        {"IXCSOFT_SERVICE_URL": "http://localhost:5001", "SECRET_KEY": "x" * 32}, channels=CHANNELS, erps=ERPS
    )
    assert problems == []
    assert (settings.threshold_offline_clients, settings.max_clients_in_message, settings.check_interval) == (
        4,
        50,
        300,
    )
    assert (settings.host, settings.port) == ("0.0.0.0", 5010)
    assert settings.database == "data/monitor_events.db"
    assert configured_erp(settings).name == "middleware"


def test_ixc_url_wins_over_the_middleware():
    env = {
        "IXC_URL": "https://ixc.provedor.com.br",
        "IXC_USER": "8",
        "IXC_TOKEN": "8:abc",
        "IXCSOFT_SERVICE_URL": "http://localhost:5001",
        "SECRET_KEY": "x" * 32,
    }
    settings, problems = load_settings(env, channels=CHANNELS, erps=ERPS)
    assert problems == [] and configured_erp(settings).name == "direct"
    assert (
        "Fonte do ERP: IXCSoft (acesso direto); IXCSOFT_SERVICE_URL (serviço intermediário) não é usado."
        in (settings.notes)
    )


def test_it_lists_every_problem_at_once():
    env = {
        "THRESHOLD_OFFLINE_CLIENTS": "0",
        "CHECK_INTERVAL": "cinco",
        "IXC_URL": "ixc.provedor",
        "PORT": "99999",
        "IXC_VERIFY_TLS": "talvez",
        "TELEGRAM_CHAT_ID": "grupo-noc",
    }
    _, problems = load_settings(env, channels=CHANNELS, erps=ERPS)
    text = "\n".join(problems)
    for name in (
        "THRESHOLD_OFFLINE_CLIENTS",
        "CHECK_INTERVAL",
        "IXC_URL",
        "PORT",
        "IXC_VERIFY_TLS",
        "TELEGRAM_CHAT_ID",
    ):
        assert name in text
    assert "SECRET_KEY" in text
    assert "--demo" in text  # no valid ERP source: the hint points at the demo


def test_ixc_url_without_a_token_is_refused():
    _, problems = load_settings(
        {"IXC_URL": "https://ixc.example.com", "IXC_USER": "8", "SECRET_KEY": "x" * 32},
        channels=CHANNELS,
        erps=ERPS,
    )
    assert any("IXC_TOKEN" in p for p in problems)


def test_check_config_exits_non_zero_listing_problems(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "THRESHOLD_OFFLINE_CLIENTS": "0", "HOME": str(tmp_path)}
    proc = check_config(env, tmp_path)
    assert proc.returncode != 0
    assert "THRESHOLD_OFFLINE_CLIENTS" in proc.stderr
    assert "IXC_URL" in proc.stderr


def test_check_config_accepts_a_good_configuration(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "IXCSOFT_SERVICE_URL": "http://127.0.0.1:5001",
        "SECRET_KEY": "s" * 40,
    }
    proc = check_config(env, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "válida" in proc.stdout


def _setting_names() -> set[str]:
    import re

    source = (ROOT / "outage" / "config.py").read_text(encoding="utf-8")
    source += (ROOT / "outage" / "alarm_settings.py").read_text(encoding="utf-8")
    sections = {name for kind in (*CHANNELS, *ERPS) for name in kind.settings}
    return (
        set(re.findall(r'r\.\w+\(\s*"([A-Z][A-Z0-9_]+)"', source))
        | set(re.findall(r'num\(\s*"([A-Z][A-Z0-9_]+)"', source))
        | sections
    )


class AskedFor(dict[str, str]):
    """An environment that remembers which names were asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: set[str] = set()

    def get(self, name: str, default: Any = None) -> Any:
        self.asked.add(name)
        return super().get(name, default)


def test_each_channel_and_erp_declares_every_variable_it_reads():
    for kind in (*CHANNELS, *ERPS):
        env = AskedFor()
        kind.read(Reader(env))
        assert sorted(env.asked) == sorted(kind.settings), kind.name


def test_every_setting_is_documented_in_env_example_and_readme():
    names = _setting_names()
    assert len(names) > 40
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert sorted(n for n in names if f"{n}=" not in example) == []
    assert sorted(n for n in names if n not in readme) == []


def test_check_config_names_the_bad_entries_of_the_olt_inventory(tmp_path):
    inventory = tmp_path / "olts.json"
    inventory.write_text(
        '[{"id_transmissor": "1", "name": "OLT-CENTRO", "vendor": "nokia", "host": "10.0.0.1",'
        ' "username": "noc", "password_env": "SENHA_QUE_NAO_EXISTE"}]',
        encoding="utf-8",
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "IXCSOFT_SERVICE_URL": "http://127.0.0.1:5001",
        "SECRET_KEY": "s" * 40,
        "OLT_INVENTORY": str(inventory),
    }
    proc = check_config(env, tmp_path)
    assert proc.returncode != 0
    assert "OLT-CENTRO" in proc.stderr
    assert "nokia" in proc.stderr
    assert "SENHA_QUE_NAO_EXISTE" in proc.stderr


def _good_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "IXCSOFT_SERVICE_URL": "http://127.0.0.1:5001",
        "SECRET_KEY": "s" * 40,
        "URL_HSM": "http://127.0.0.1:5005/enviar",
        "TOKEN_HSM": "t" * 20,
        "TRUSTED_PROXIES": "127.0.0.1",
        **extra,
    }


def test_check_config_warns_that_a_missing_olt_inventory_turns_the_cause_off_and_says_to_copy_the_example(
    tmp_path,
):
    proc = check_config(_good_env(tmp_path), tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Configuração válida." in proc.stdout and "Avisos" in proc.stdout
    assert "data/olts.json não existe" in proc.stdout
    assert "Copie olts.example.json para data/olts.json" in proc.stdout


def test_an_inventory_copied_from_the_example_names_each_password_to_define(tmp_path):
    (tmp_path / "data").mkdir()
    shutil.copy(ROOT / "olts.example.json", tmp_path / "data" / "olts.json")
    proc = check_config(_good_env(tmp_path), tmp_path)
    assert proc.returncode == 2
    for variable in ("OLT_CENTRO_PASSWORD", "OLT_NORTE_PASSWORD", "OLT_LESTE_PASSWORD"):
        assert f"defina {variable}=<senha da OLT> no .env" in proc.stderr


def test_an_inventory_still_the_example_is_a_warning_once_its_passwords_are_set(tmp_path):
    (tmp_path / "data").mkdir()
    shutil.copy(ROOT / "olts.example.json", tmp_path / "data" / "olts.json")
    passwords = {f"OLT_{name}_PASSWORD": "segredo" for name in ("CENTRO", "NORTE", "LESTE")}
    proc = check_config(
        _good_env(
            tmp_path,
            API_BASE_URL="http://127.0.0.1:5006",
            API_AUTH_URL="http://127.0.0.1:5006/login",
            API_USER="noc",
            API_PASS="segredo",
            **passwords,
        ),
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "ainda é o exemplo" in proc.stdout
    assert "não existe" not in proc.stdout


def test_check_config_warns_about_channels_configured_halfway(tmp_path):
    env = _good_env(tmp_path, OLT_SERVICE_URL="http://127.0.0.1:5003", HSM_NOC_TEMPLATE="120")
    env.update(TELEGRAM_THREAD_ID="42", WHATSAPP_TOKEN="w" * 20, WHATSAPP_PHONE_NUMBER_ID="1234567890")
    proc = check_config(env, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "HSM_NOC_TEMPLATE definido sem WHATSAPP_NOC_NUMBERS" in proc.stdout
    assert "TELEGRAM_THREAD_ID definido sem TELEGRAM_BOT_TOKEN" in proc.stdout
    assert "WHATSAPP_TOKEN configurado sem uso" in proc.stdout
    assert "Inventário" not in proc.stdout  # the original's OLT service answers for every OLT


def test_check_config_warns_when_no_provider_can_send_the_customer_notices(tmp_path):
    env = _good_env(tmp_path, OLT_SERVICE_URL="http://127.0.0.1:5003")
    del env["URL_HSM"], env["TOKEN_HSM"]
    proc = check_config(env, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Nenhum provedor de avisos aos clientes" in proc.stdout


def test_check_config_warns_that_development_takes_logins_over_plain_http(tmp_path):
    proc = check_config(_good_env(tmp_path, APP_ENV="development"), tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "aceita login por HTTP (APP_ENV=development)" in proc.stdout


def test_check_config_warns_that_https_needs_the_proxy_listed(tmp_path):
    env = _good_env(tmp_path)
    del env["TRUSTED_PROXIES"]
    proc = check_config(env, tmp_path)
    assert "TRUSTED_PROXIES vazio" in proc.stdout


def test_a_bad_database_url_is_listed_with_its_password_masked():
    base = {
        "IXCSOFT_SERVICE_URL": "http://127.0.0.1:5001",
        "DATABASE_PATH": "data/x.db",
        "SECRET_KEY": "s" * 40,
    }
    settings, problems = load_settings(
        {**base, "DATABASE_URL": "mysql://noc:s3nh4-forte@db/monitor"}, channels=CHANNELS, erps=ERPS
    )
    assert len(problems) == 1 and "DATABASE_URL" in problems[0] and "postgresql://" in problems[0]
    assert "s3nh4-forte" not in problems[0]
    assert settings.database == "data/x.db"
    for missing_database in ("postgresql://noc:x@db", "postgresql://noc:x@db/", "postgresql:///monitor"):
        assert load_settings({**base, "DATABASE_URL": missing_database}, channels=CHANNELS, erps=ERPS)[1], (
            missing_database
        )
    good, problems = load_settings(
        {**base, "DATABASE_URL": "postgresql://noc:x@db:5432/monitor"}, channels=CHANNELS, erps=ERPS
    )
    assert problems == [] and good.database == "postgresql://noc:x@db:5432/monitor"


def test_check_config_names_an_unreachable_postgresql_without_its_password(tmp_path):
    from simulator.ports import free_port

    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "IXCSOFT_SERVICE_URL": "http://127.0.0.1:5001",
        "SECRET_KEY": "s" * 40,
        "DATABASE_URL": f"postgresql://noc:s3nh4-forte@127.0.0.1:{free_port()}/monitor",
    }
    proc = check_config(env, tmp_path)
    assert proc.returncode != 0
    assert "PostgreSQL em 127.0.0.1" in proc.stderr + proc.stdout
    assert "s3nh4-forte" not in proc.stderr + proc.stdout
    assert "Traceback" not in proc.stderr
