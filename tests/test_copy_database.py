"""`--copy-database`: a SQLite installation copied into an empty PostgreSQL database, every
table row for row, new ids after the copied ones; refused, with nothing copied, when the
target has rows, a monitor is using the source, a value cannot go as it is, or the server
cannot be reached; the password never shown."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from bench.bench_copy import fill
from outage import migrations
from outage.db import open_database
from outage.storage import cycles
from outage.storage.copy import CopyRefused, copy_database
from simulator.ports import free_port
from tests.conftest import with_revision

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "s3nha-secreta"  # the throwaway server trusts every login: any password goes through


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """A SQLite installation with rows in every table."""
    path = tmp_path / "data" / "monitor.db"
    conn = open_database(str(path))
    fill(conn, offline=1200, events=40, cycles=25)
    conn.close()
    return path


def tables(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " AND name != 'alembic_version' ORDER BY name"
        ).fetchall()
        return [name for (name,) in rows]
    finally:
        conn.close()


def sqlite_rows(path: Path, table: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(path)
    try:
        return sorted(conn.execute(f"SELECT * FROM {table}").fetchall(), key=repr)  # noqa: S608
    finally:
        conn.close()


def pg_rows(url: str, table: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return sorted(conn.execute(f"SELECT * FROM {table}").fetchall(), key=repr)  # noqa: S608


def pg_counts(url: str) -> dict[str, int]:
    """Rows per table of the public schema (empty: no table at all)."""
    with psycopg.connect(url) as conn:
        names = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
            " AND table_name != 'alembic_version'"
        ).fetchall()
        counted = {name: conn.execute(f'SELECT count(*) FROM "{name}"').fetchone() for (name,) in names}  # noqa: S608
        return {name: row[0] for name, row in counted.items() if row}


def with_password(url: str) -> str:
    return url.replace("postgres@", f"postgres:{PASSWORD}@")


def cli(source: Path, url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(cwd), "DATABASE_PATH": str(source)}
    return subprocess.run(
        [sys.executable, str(ROOT / "monitor_service.py"), "--copy-database", url],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_every_table_is_copied_row_for_row_by_the_command(
    source: Path, postgres_url: str, tmp_path: Path
) -> None:
    done = cli(source, with_password(postgres_url), tmp_path)

    assert done.returncode == 0, done.stderr
    names = tables(source)
    assert len(names) >= 20
    for table in names:
        rows = sqlite_rows(source, table)
        assert rows, f"{table} sem linhas na origem: o teste precisa preenchê-la"
        assert pg_rows(postgres_url, table) == rows, table
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"Copiando {source} para postgresql://postgres:***@127.0.0.1:")
    assert any(line.split() == ["offline_state", "1.200", "linhas"] for line in lines)
    assert lines[-1].startswith("Cópia concluída: 1.")  # over a thousand rows, the Brazilian way
    assert PASSWORD not in done.stdout + done.stderr


def test_new_rows_after_the_copy_take_ids_after_every_copied_one(source: Path, postgres_url: str) -> None:
    conn = sqlite3.connect(source)
    conn.execute("DELETE FROM outbox WHERE id = (SELECT max(id) FROM outbox)")  # its id is never given again
    conn.commit()
    used = dict(conn.execute("SELECT name, seq FROM sqlite_sequence").fetchall())
    conn.close()

    copy_database(str(source), postgres_url, time.time())

    with psycopg.connect(postgres_url) as pg:
        numbered = pg.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public'"
            " AND pg_get_serial_sequence(quote_ident(table_name), column_name) IS NOT NULL"
        ).fetchall()
        assert sorted(table for table, _ in numbered) == [
            "cycles",
            "held_alerts",
            "hsm_decisions",
            "hsm_recipients",
            "incident_numbers",
            "outbox",
        ]
        for table, column in numbered:
            largest = pg.execute(f"SELECT max({column}) FROM {table}").fetchone()  # noqa: S608
            new = pg.execute(another_row(pg, table, column)).fetchone()
            assert largest is not None and new is not None
            assert new[0] > max(largest[0], used[table]), table


def another_row(pg: psycopg.Connection[Any], table: str, serial: str) -> str:
    """An INSERT of a copy of one of `table`'s rows, with the id left to the database (and a
    new value where a UNIQUE constraint wants one), returning that id."""
    unique = {"incident_numbers": "event_id", "hsm_decisions": "incident_id"}
    columns = [
        name
        for (name,) in pg.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s", (table,)
        ).fetchall()
        if name != serial
    ]
    values = ", ".join("'novo'" if name == unique.get(table) else name for name in columns)
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) SELECT {values} FROM {table} LIMIT 1"  # noqa: S608
        f" RETURNING {serial}"
    )


def test_a_target_with_rows_is_refused_and_keeps_only_its_own(source: Path, postgres_url: str) -> None:
    migrations.upgrade(migrations.engine(postgres_url))
    with psycopg.connect(postgres_url) as pg:
        pg.execute(
            "INSERT INTO users (username, password_hash, role, created_at) VALUES ('zé', 'h', 'admin', 1)"
        )

    with pytest.raises(CopyRefused, match=r"já tem dados \(tabelas users\)"):
        copy_database(str(source), postgres_url, time.time())

    assert {name: count for name, count in pg_counts(postgres_url).items() if count} == {"users": 1}


def test_a_second_copy_into_the_same_database_is_refused(source: Path, postgres_url: str) -> None:
    copy_database(str(source), postgres_url, time.time())
    before = pg_counts(postgres_url)

    with pytest.raises(CopyRefused, match="já tem dados"):
        copy_database(str(source), postgres_url, time.time())

    assert pg_counts(postgres_url) == before


def test_a_source_a_monitor_is_using_is_refused_before_the_target_is_touched(
    source: Path, postgres_url: str, tmp_path: Path
) -> None:
    conn = open_database(str(source))
    now = time.time()
    assert cycles.take_lease(conn, "servidor:4242", now, 30)
    conn.close()

    done = cli(source, postgres_url, tmp_path)

    assert done.returncode == 1
    assert "um monitor está usando este banco agora (processo servidor:4242)" in done.stderr
    assert "Traceback" not in done.stderr
    assert pg_counts(postgres_url) == {}  # not even the schema


def test_a_lease_left_expired_by_a_stopped_monitor_does_not_stop_the_copy(
    source: Path, postgres_url: str
) -> None:
    conn = open_database(str(source))
    assert cycles.take_lease(conn, "servidor:4242", time.time() - 120, 30)
    conn.close()

    result = copy_database(str(source), postgres_url, time.time())

    assert dict(result.tables)["leases"] == 1


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("mysql://root:s3nha-secreta@127.0.0.1/monitor", "endereço do PostgreSQL inválido"),
        ("isto não é um endereço", "endereço do PostgreSQL inválido"),
        (f"postgresql://postgres:{PASSWORD}@127.0.0.1:{{port}}/monitor", "recusou: "),
    ],
)
def test_a_bad_address_or_a_server_that_does_not_answer_gets_a_sentence_not_a_traceback(
    source: Path, tmp_path: Path, url: str, says: str
) -> None:
    done = cli(source, url.format(port=free_port()), tmp_path)

    assert done.returncode == 1
    assert says in done.stderr
    assert "Traceback" not in done.stderr
    assert PASSWORD not in done.stdout + done.stderr


def test_a_missing_sqlite_file_is_refused_and_not_created(tmp_path: Path, postgres_url: str) -> None:
    missing = tmp_path / "nada" / "monitor.db"

    with pytest.raises(CopyRefused, match="não existe"):
        copy_database(str(missing), postgres_url, time.time())

    assert not missing.parent.exists()


# --- values SQLite keeps loosely -------------------------------------------------------------

LOOSE_REVISION = '''
"""Columns of types the baseline does not use yet."""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import sqlite

revision = "loose"
down_revision = "baseline"


def upgrade() -> None:
    op.add_column("meta", sa.Column("ligado", sa.Boolean(), nullable=True))
    op.add_column("meta", sa.Column("detalhe", sa.JSON(), nullable=True))
    op.add_column("meta", sa.Column("vezes", sa.Integer().with_variant(sqlite.REAL(), "sqlite"), nullable=True))
'''


@pytest.fixture
def loose_revision(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The program's revisions plus one adding a boolean, a JSON and an integer column (an
    integer that SQLite keeps as REAL)."""
    yield from with_revision(tmp_path, monkeypatch, "loose.py", LOOSE_REVISION)


def meta_rows(path: Path, *rows: tuple[Any, ...]) -> None:
    conn = open_database(str(path))
    conn.executemany("INSERT INTO meta (key, value, ligado, detalhe, vezes) VALUES (?, 'v', ?, ?, ?)", rows)
    conn.close()


@pytest.mark.usefixtures("loose_revision")
def test_values_go_in_the_type_of_their_target_column(tmp_path: Path, postgres_url: str) -> None:
    path = tmp_path / "monitor.db"
    meta_rows(path, ("a", 1, '{"olt": "A"}', 7.0), ("b", 0, "12", 3), ("c", None, None, None))

    copy_database(str(path), postgres_url, time.time())

    assert pg_rows(postgres_url, "meta") == [
        ("a", "v", True, {"olt": "A"}, 7),
        ("b", "v", False, 12, 3),
        ("c", "v", None, None, None),
    ]


@pytest.mark.usefixtures("loose_revision")
@pytest.mark.parametrize(
    ("row", "says"),
    [
        (("a", 2, None, None), "coluna meta.ligado (BOOLEAN): o valor 2 não é booleano"),
        (("a", None, "{olt", None), "coluna meta.detalhe (JSON): o valor '{olt' não é JSON"),
        (("a", None, None, 7.5), "coluna meta.vezes (INTEGER): o valor 7.5 não é um inteiro de 32 bits"),
        (("a", None, None, 2.0**40), "coluna meta.vezes (INTEGER): o valor 1099511627776.0 não é um inteiro"),
        ((None, None, None, None), "coluna meta.key (TEXT): vazia (NULL), e o destino exige um valor"),
        (("a\x00b", None, None, None), "coluna meta.key (TEXT): o texto tem o caractere nulo"),
    ],
)
def test_a_value_that_cannot_go_as_it_is_stops_the_copy_naming_its_column(
    tmp_path: Path, postgres_url: str, row: tuple[Any, ...], says: str
) -> None:
    path = tmp_path / "monitor.db"
    meta_rows(path, ("primeira", 1, None, 1), row)

    with pytest.raises(CopyRefused) as refused:
        copy_database(str(path), postgres_url, time.time())

    assert "linha " in str(refused.value) and "da tabela meta" in str(refused.value)
    assert says in str(refused.value)
    assert pg_counts(postgres_url)["meta"] == 0


def test_text_in_an_integer_column_stops_the_copy_naming_it(source: Path, postgres_url: str) -> None:
    conn = sqlite3.connect(source)
    conn.execute("UPDATE outbox SET attempts = 'duas' WHERE id = 3")
    conn.commit()
    conn.close()

    with pytest.raises(
        CopyRefused, match=r"coluna outbox.attempts \(BIGINT\): o valor 'duas' não é um inteiro"
    ):
        copy_database(str(source), postgres_url, time.time())

    assert sum(pg_counts(postgres_url).values()) == 0


def test_a_row_whose_parent_is_gone_stops_the_copy_with_the_server_s_words(
    source: Path, postgres_url: str
) -> None:
    conn = sqlite3.connect(source)  # foreign keys off, as files of older versions could be written
    conn.execute(
        "INSERT INTO sessions (id, username, csrf, created_at, last_seen_at) VALUES ('s9', 'fantasma', 'c', 1, 1)"
    )
    conn.commit()
    conn.close()

    with pytest.raises(
        CopyRefused, match=r"a tabela sessions não pôde ser gravada no PostgreSQL: .*fantasma"
    ):
        copy_database(str(source), postgres_url, time.time())

    assert sum(pg_counts(postgres_url).values()) == 0
