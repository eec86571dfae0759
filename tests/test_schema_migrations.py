"""One migration runner for both databases: a new SQLite file, a new PostgreSQL database and a
SQLite file of the numbered scripts upgraded in place all end with the same schema."""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from outage import migrations
from outage.db import connect, open_database
from tests.conftest import with_revision

LAST_NUMBERED = migrations.numbered()[-1][0]


@pytest.fixture
def pg(postgres_url: str) -> Iterator[Engine]:
    engine = migrations.engine(postgres_url)
    yield engine
    engine.dispose()


LATER_REVISION = '''
"""A schema change after the baseline."""

import sqlalchemy as sa
from alembic import op

revision = "later"
down_revision = "baseline"


def upgrade() -> None:
    op.add_column("meta", sa.Column("nota", sa.Text(), nullable=False, server_default=sa.text("''")))
'''


@pytest.fixture
def later_revision(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The program's revisions plus one more after them."""
    yield from with_revision(tmp_path, monkeypatch, "later.py", LATER_REVISION)


def numbered_file(path: Path, version: int) -> Path:
    """A SQLite file as the numbered scripts 1..`version` left it, before Alembic."""
    conn = sqlite3.connect(path)
    for number, script in migrations.numbered()[:version]:
        conn.executescript(script.read_text(encoding="utf-8"))
        conn.execute(f"PRAGMA user_version = {number}")
    conn.close()
    return path


def new_sqlite_file(path: Path) -> Path:
    open_database(str(path)).close()
    return path


# --- SQLite, exactly: what SQLite itself reports of every table ------------------------------


def sqlite_layout(path: Path) -> dict[str, Any]:
    """Every table but `alembic_version`: its columns as `PRAGMA table_info` gives them (order,
    type, NOT NULL, default, primary key), its indexes (unique, origin, partial and their WHERE),
    foreign keys, CHECK constraints, WITHOUT ROWID and AUTOINCREMENT."""
    conn = sqlite3.connect(path)
    objects = dict(conn.execute("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL").fetchall())
    tables = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'alembic_version'")
    layout = {}
    for (table,) in tables.fetchall():
        sql = objects[table]
        layout[table] = {
            "columns": conn.execute(f"PRAGMA table_info({table})").fetchall(),
            "indexes": sorted(
                index(conn, row, objects) for row in conn.execute(f"PRAGMA index_list({table})").fetchall()
            ),
            "foreign": sorted(conn.execute(f"PRAGMA foreign_key_list({table})").fetchall()),
            "checks": sorted(checks(sql)),
            "without_rowid": sql.rstrip().endswith("WITHOUT ROWID"),
            "autoincrement": "AUTOINCREMENT" in sql,
        }
    conn.close()
    return layout


def index(conn: sqlite3.Connection, listed: tuple[Any, ...], objects: dict[str, str]) -> tuple[Any, ...]:
    """An index of `PRAGMA index_list`: its name, unique flag, origin (`c` created, `u` UNIQUE,
    `pk`), columns and WHERE clause."""
    _, name, unique, origin, _ = listed
    columns = tuple(c[2] for c in conn.execute(f"PRAGMA index_info({name})"))
    return (name, unique, origin, columns, where(objects.get(name, "")))


def where(index_sql: str) -> str:
    _, _, condition = index_sql.partition(" WHERE ")
    return " ".join(condition.split())


def checks(table_sql: str) -> list[str]:
    """The expressions of the CHECK constraints in a CREATE TABLE statement."""
    found = []
    for match in re.finditer(r"\bCHECK\s*\(", table_sql):
        depth, start = 1, match.end()
        end = start
        while depth:
            depth += {"(": 1, ")": -1}.get(table_sql[end], 0)
            end += 1
        found.append(" ".join(table_sql[start : end - 1].split()))
    return found


def user_version(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])
    finally:
        conn.close()


def revision(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        (found,) = conn.execute("SELECT version_num FROM alembic_version").fetchall()
        return str(found[0])
    finally:
        conn.close()


# --- either database, as SQLAlchemy's inspector sees it ----------------------------------------


def kind(column_type: sa.types.TypeEngine[Any]) -> str:
    for generic, name in ((sa.Integer, "integer"), (sa.Float, "real"), (sa.String, "text")):
        if isinstance(column_type, generic):
            return name
    raise AssertionError(f"unexpected column type {column_type!r}")


def default(text: str | None) -> str | None:
    """A column default as both databases would agree on it: `'[]'::text` and `'[]'` are `[]`;
    an id numbered by the database has none (its sequence shows in `numbered`)."""
    if text is None or text.startswith("nextval("):
        return None
    return re.sub(r"::[a-z ]+", "", text).strip("()'")


def numbered(conn: Connection, table: str) -> bool:
    """Ids that are never reused: SQLite's AUTOINCREMENT, a PostgreSQL sequence."""
    if conn.dialect.name == "sqlite":
        sql = conn.execute(
            sa.text("SELECT sql FROM sqlite_master WHERE name = :t"), {"t": table}
        ).scalar_one()
        return "AUTOINCREMENT" in sql
    return any(str(c["default"] or "").startswith("nextval(") for c in sa.inspect(conn).get_columns(table))


def foreign_keys(conn: Connection, table: str) -> list[tuple[Any, ...]]:
    if conn.dialect.name == "sqlite":  # SQLite's own word on ON DELETE, whichever way it was written
        rows = conn.exec_driver_sql(f"PRAGMA foreign_key_list({table})").fetchall()
        return sorted((r[3], r[2], r[4], r[6]) for r in rows)
    return sorted(
        (
            fk["constrained_columns"][0],
            fk["referred_table"],
            fk["referred_columns"][0],
            fk["options"].get("ondelete", "NO ACTION"),
        )
        for fk in sa.inspect(conn).get_foreign_keys(table)
    )


def shape(engine: Engine) -> dict[str, Any]:
    """Every table's columns (name, kind, nullability, default), primary key, indexes, unique
    and check constraints and foreign keys, as inspection reports them.

    A primary-key column's nullability is left out: SQLite lets a rowid table's TEXT PRIMARY
    KEY hold NULL unless NOT NULL is written (the numbered scripts did not), PostgreSQL never."""
    tables: dict[str, Any] = {}
    with engine.connect() as conn:
        inspector = sa.inspect(conn)
        for table in sorted(set(inspector.get_table_names()) - {"sqlite_sequence"}):
            primary = inspector.get_pk_constraint(table)["constrained_columns"]
            tables[table] = {
                "columns": [
                    (
                        c["name"],
                        kind(c["type"]),
                        None if c["name"] in primary else c["nullable"],
                        default(c["default"]),
                    )
                    for c in inspector.get_columns(table)
                ],
                "primary": primary,
                "numbered": numbered(conn, table),
                "indexes": sorted(
                    (
                        i["name"],
                        tuple(i["column_names"]),
                        bool(i["unique"]),
                        any(k.endswith("_where") for k in i.get("dialect_options", {})),
                    )
                    for i in inspector.get_indexes(table)
                    if not i.get("duplicates_constraint")
                ),
                "unique": sorted(tuple(u["column_names"]) for u in inspector.get_unique_constraints(table)),
                "checks": len(inspector.get_check_constraints(table)),
                "foreign": foreign_keys(conn, table),
            }
    return tables


# --- the tests -----------------------------------------------------------------------------------


def test_a_new_sqlite_file_gets_exactly_the_schema_of_the_numbered_scripts(tmp_path):
    new = new_sqlite_file(tmp_path / "new.db")
    scripts = numbered_file(tmp_path / "scripts.db", LAST_NUMBERED)
    assert sqlite_layout(new) == sqlite_layout(scripts)
    assert user_version(new) == LAST_NUMBERED
    assert revision(new) == migrations.head()


def test_a_new_postgresql_database_gets_every_revision(pg):
    assert migrations.upgrade(pg) == migrations.head()
    with pg.connect() as conn:
        assert (
            conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one() == migrations.head()
        )
        types = {c["name"]: str(c["type"]) for c in sa.inspect(conn).get_columns("outbox")}
    assert (types["id"], types["next_attempt_at"], types["payload"]) == ("BIGINT", "DOUBLE PRECISION", "TEXT")


def test_sqlite_and_postgresql_end_with_the_same_schema(tmp_path, pg):
    migrations.upgrade(pg)
    path = new_sqlite_file(tmp_path / "new.db")
    expected = shape(migrations.engine(f"sqlite:///{path}"))
    assert shape(pg) == expected
    assert set(expected) == set(sqlite_layout(path)) - {"sqlite_sequence"} | {"alembic_version"}
    partial = {name for table in expected.values() for name, _, _, where in table["indexes"] if where}
    assert partial == {"outbox_live", "outbox_provider_message", "whatsapp_statuses_reference"}


@pytest.mark.parametrize("version", range(1, LAST_NUMBERED + 1))
def test_a_file_of_the_numbered_scripts_upgrades_in_place_keeping_its_rows(version, tmp_path):
    path = numbered_file(tmp_path / "old.db", version)
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO meta (key, value) VALUES ('escrito_na_versao', ?)", (str(version),))
    conn.execute(
        "INSERT INTO events (id, conexao, timestamp, status, atualizado_em)"
        " VALUES ('e-1', 'OLT-A', 100.0, 'ativo', 100.0)"
    )
    conn.commit()
    conn.close()

    upgraded = open_database(str(path))
    assert upgraded.execute("SELECT value FROM meta WHERE key = 'escrito_na_versao'").fetchone()[0] == str(
        version
    )
    event = upgraded.execute(
        "SELECT conexao, status, chave_local, origem FROM events WHERE id = 'e-1'"
    ).fetchone()
    upgraded.close()
    place = "conexao:OLT-A" if version < 5 else ""  # 0005 placed the events of the previous model
    assert tuple(event) == ("OLT-A", "ativo", place, "erp")
    assert sqlite_layout(path) == sqlite_layout(new_sqlite_file(tmp_path / "new.db"))
    assert (user_version(path), revision(path)) == (LAST_NUMBERED, migrations.head())


def test_a_revision_after_the_baseline_reaches_new_and_numbered_sqlite_files_and_postgresql(
    later_revision, tmp_path, pg
):
    new = new_sqlite_file(tmp_path / "new.db")
    old = new_sqlite_file(numbered_file(tmp_path / "old.db", 8))
    assert migrations.upgrade(pg) == migrations.head() == "later"
    for engine in (migrations.engine(f"sqlite:///{new}"), migrations.engine(f"sqlite:///{old}"), pg):
        with engine.connect() as conn:
            assert "nota" in {c["name"] for c in sa.inspect(conn).get_columns("meta")}
            assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one() == "later"


def test_opening_an_up_to_date_file_again_changes_nothing(tmp_path):
    path = new_sqlite_file(tmp_path / "new.db")
    before = sqlite_layout(path)
    conn = open_database(str(path))
    assert conn.execute("SELECT COUNT(*) FROM alembic_version").fetchone()[0] == 1
    conn.close()
    assert sqlite_layout(path) == before


def test_a_database_of_a_revision_this_program_does_not_know_is_refused_and_left_as_it_was(tmp_path):
    path = new_sqlite_file(tmp_path / "newer.db")
    conn = sqlite3.connect(path)
    conn.execute("UPDATE alembic_version SET version_num = 'de_uma_versao_nova'")
    conn.commit()
    conn.close()
    with pytest.raises(migrations.SchemaError, match="atualize o programa"):
        open_database(str(path))
    assert revision(path) == "de_uma_versao_nova"


def test_processes_opening_a_new_sqlite_file_together_migrate_it_once(tmp_path):
    path = str(tmp_path / "new.db")
    connections = [connect(path) for _ in range(4)]
    assert (
        upgraded_together([lambda c=c: migrations.upgrade_sqlite(c) for c in connections])
        == [LAST_NUMBERED] * 4
    )
    for conn in connections:
        conn.close()
    assert revision(Path(path)) == migrations.head()


def test_processes_upgrading_a_new_postgresql_database_together_migrate_it_once(postgres_url):
    engines = [migrations.engine(postgres_url) for _ in range(4)]
    assert upgraded_together([lambda e=e: migrations.upgrade(e) for e in engines]) == [migrations.head()] * 4
    for engine in engines:
        engine.dispose()


def upgraded_together(upgrades: list[Any]) -> list[object]:
    """Run every upgrade at once in its own thread; what each returned or raised."""
    results: list[object] = [None] * len(upgrades)

    def run(index: int) -> None:
        try:
            results[index] = upgrades[index]()
        except Exception as exc:
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(upgrades))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
