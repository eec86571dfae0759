"""Shared fixtures: settings over a temporary SQLite file, records in IXC's shape, the
Telegram and HSM provider fakes, a throwaway PostgreSQL server."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from outage import migrations
from outage.adapters import erp
from outage.adapters.channels import registry
from outage.config import Settings, load_settings
from outage.db import is_url
from simulator.postgres import NOT_INSTALLED, Cluster, find_binaries, start_cluster
from simulator.telegram import FakeTelegram
from simulator.whatsapp import FakeHSMProvider


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


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "both_databases: run the test on SQLite and on PostgreSQL (the `database` fixture)"
    )
    config.addinivalue_line("markers", "sqlite_only: a test of SQLite itself in a `both_databases` module")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests marked `both_databases` run once per database, SQLite and PostgreSQL (except
    those marked `sqlite_only`)."""
    marked = metafunc.definition.get_closest_marker("both_databases")
    if (
        marked
        and not metafunc.definition.get_closest_marker("sqlite_only")
        and "dialect" in metafunc.fixturenames
    ):
        metafunc.parametrize("dialect", ["sqlite", "postgresql"])


@pytest.fixture
def dialect() -> str:
    """The database the test runs on (SQLite unless the test is marked `both_databases`)."""
    return "sqlite"


@pytest.fixture
def database(dialect: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """Where the test's data lives: a new SQLite file, or a new PostgreSQL database (its URL)."""
    if dialect == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    return str(tmp_path / "monitor.db")


@pytest.fixture
def make_settings(tmp_path: Path, database: str) -> Callable[..., Settings]:
    """Settings from an env dict, with a temp database and logs; fails on any problem."""

    def build(**env: str) -> Settings:
        base = {
            "DATABASE_PATH": str(tmp_path / "monitor.db"),
            **({"DATABASE_URL": database} if is_url(database) else {}),
            "LOG_DIR": str(tmp_path / "logs"),
            "SECRET_KEY": "k" * 32,
            "CHECK_INTERVAL": "300",
            "OLT_INVENTORY": str(tmp_path / "olts.json"),
        }
        base.update(env)
        settings, problems = load_settings(base, channels=registry.CHANNELS, erps=erp.ERPS)
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
def db_path(database: str) -> str:
    return database


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[Cluster]:
    """A throwaway PostgreSQL server for the session, started by the first test that needs it.

    Without PostgreSQL's server binaries the tests that need it are skipped, saying so, except
    in CI (`CI` set), where they fail: CI installs PostgreSQL and must run them. A server
    that is installed but does not start is always a failure."""
    bindir = find_binaries()
    if bindir is None:
        if os.environ.get("CI"):
            pytest.fail(f"{NOT_INSTALLED}: a CI precisa dele", pytrace=False)
        pytest.skip(NOT_INSTALLED)
    cluster = start_cluster(bindir)
    yield cluster
    cluster.stop()


@pytest.fixture
def postgres_url(postgres_cluster: Cluster) -> Iterator[str]:
    """The address of a new, empty database on the session's server (dropped after the test)."""
    url = postgres_cluster.new_database()
    yield url
    postgres_cluster.drop_database(url)


def with_revision(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, text: str) -> Iterator[None]:
    """For a fixture: the program's revisions plus one more (`name`, its source `text`) while it lasts."""
    revisions = tmp_path / "revisions"
    shutil.copytree(migrations.REVISIONS, revisions, ignore=shutil.ignore_patterns("__pycache__"))
    (revisions / "versions" / name).write_text(text, encoding="utf-8")
    monkeypatch.setattr(migrations, "REVISIONS", revisions)
    migrations.head.cache_clear()
    migrations._known.cache_clear()
    yield
    migrations.head.cache_clear()
    migrations._known.cache_clear()
