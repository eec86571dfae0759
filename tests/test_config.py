"""Configuration: typed, validated all at once, every problem with a hint."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from outage.config import load_settings

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


def test_defaults_follow_the_seed():
    settings, problems = load_settings(
        {"IXCSOFT_SERVICE_URL": "http://localhost:5001", "SECRET_KEY": "x" * 32}
    )
    assert problems == []
    assert (settings.threshold_offline_clients, settings.max_clients_in_message, settings.check_interval) == (
        4,
        50,
        300,
    )
    assert (settings.host, settings.port) == ("0.0.0.0", 5010)
    assert settings.database_path == "data/monitor_events.db"
    assert settings.erp_mode == "middleware"


def test_ixc_url_wins_over_the_middleware():
    env = {
        "IXC_URL": "https://ixc.provedor.com.br",
        "IXC_USER": "8",
        "IXC_TOKEN": "8:abc",
        "IXCSOFT_SERVICE_URL": "http://localhost:5001",
        "SECRET_KEY": "x" * 32,
    }
    settings, problems = load_settings(env)
    assert problems == [] and settings.erp_mode == "direct"


def test_it_lists_every_problem_at_once():
    env = {
        "THRESHOLD_OFFLINE_CLIENTS": "0",
        "CHECK_INTERVAL": "cinco",
        "IXC_URL": "ixc.provedor",
        "PORT": "99999",
        "IXC_VERIFY_TLS": "talvez",
        "TELEGRAM_CHAT_ID": "grupo-noc",
    }
    _, problems = load_settings(env)
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
        {"IXC_URL": "https://ixc.example.com", "IXC_USER": "8", "SECRET_KEY": "x" * 32}
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
    source += (ROOT / "outage" / "adapters" / "alarms" / "settings.py").read_text(encoding="utf-8")
    return set(re.findall(r'r\.\w+\(\s*"([A-Z][A-Z0-9_]+)"', source)) | set(
        re.findall(r'num\(\s*"([A-Z][A-Z0-9_]+)"', source)
    )


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
