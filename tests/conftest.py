"""Shared fixtures: settings over a temporary SQLite file, records in IXC's shape, the
Telegram and HSM provider fakes, a throwaway PostgreSQL server."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest

from outage.adapters.channels import registry
from outage.config import Settings, load_settings
from simulator.telegram import FakeTelegram
from simulator.whatsapp import FakeHSMProvider
from tests.postgres import Cluster, find_binaries, start_cluster


def radusuario(
    n: int,
    conexao: str = "OLT-A",
    online: str = "S",
    *,
    login: str | None = None,
    ultima: str | None = None,
    **extra: Any,
) -> dict[str, str]:
    """A `radusuarios` record as IXC sends it: every value a string.

    `ultima_conexao_final` defaults to now (America/Sao_Paulo), as for a session that just
    ended: a fixed date would age past the detection window and turn drops into stale ones.
    """
    if ultima is None:
        ultima = datetime.now(ZoneInfo("America/Sao_Paulo")).strftime("%Y-%m-%d %H:%M:%S")
    record = {
        "id": str(n),
        "ativo": "S",
        "online": online,
        "login": login or f"cliente{n}",
        "id_cliente": str(1000 + n),
        "id_contrato": str(2000 + n),
        "conexao": conexao,
        "concentrador": "10.0.0.1",
        "id_transmissor": "1",
        "interface_transmissao": "0/1/0",
        "id_caixa_ftth": "12",
        "ftth_porta": str(n % 16 + 1),
        "onu_mac": f"48575443{n:08X}",
        "modelo_tranmissor": "HW",
        "ultima_conexao_inicial": "2026-11-20 10:00:00",
        "ultima_conexao_final": ultima,
        "motivo_desconexao": "",
        "count_desconexao": "0",
        "latitude": "",
        "longitude": "",
        "ultima_atualizacao": "2026-11-22 03:00:00",
    }
    record.update({k: str(v) for k, v in extra.items()})
    return record


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    """Settings from an env dict, with a temp database and logs; fails on any problem."""

    def build(**env: str) -> Settings:
        base = {
            "DATABASE_PATH": str(tmp_path / "monitor.db"),
            "LOG_DIR": str(tmp_path / "logs"),
            "SECRET_KEY": "k" * 32,
            "CHECK_INTERVAL": "300",
            "OLT_INVENTORY": str(tmp_path / "olts.json"),
        }
        base.update(env)
        settings, problems = load_settings(base, channels=registry.CHANNELS)
        assert problems == [], problems
        return settings

    return build


@pytest.fixture
def telegram() -> Iterator[FakeTelegram]:
    with FakeTelegram() as server:
        yield server


@pytest.fixture
def hsm() -> Iterator[FakeHSMProvider]:
    with FakeHSMProvider() as server:
        yield server


@pytest.fixture
def db_path(tmp_path: Path) -> str:
    return str(tmp_path / "monitor.db")


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[Cluster]:
    """A throwaway PostgreSQL server for the session, started by the first test that needs it.

    Without PostgreSQL's server binaries the tests that need it are skipped, saying so, except
    in CI (`CI` set), where they fail: CI installs PostgreSQL and must run them. A server
    that is installed but does not start is always a failure."""
    bindir = find_binaries()
    if bindir is None:
        reason = "PostgreSQL não instalado (initdb/pg_ctl ausentes; apt-get install postgresql)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}: a CI precisa dele", pytrace=False)
        pytest.skip(reason)
    cluster = start_cluster(bindir)
    yield cluster
    cluster.stop()


@pytest.fixture
def postgres_url(postgres_cluster: Cluster) -> Iterator[str]:
    """The address of a new, empty database on the session's server (dropped after the test)."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_cluster.url(), autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    yield postgres_cluster.url(name)
    with psycopg.connect(postgres_cluster.url(), autocommit=True) as admin:
        admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
