"""The database schema and its migrations: one runner for SQLite and PostgreSQL.

The schema lives in Alembic revisions, `revisions/versions/*.py`, written with Alembic's
operations so that each one runs on both databases. `upgrade(engine)` brings a database to
the newest revision; `upgrade_sqlite(conn)` does the same on an open `sqlite3` connection
(it is `outage.db.migrate`). Alembic keeps the revision a database holds in its table
`alembic_version`. A schema change is a new revision whose `down_revision` is the current
head, written by hand or from the template `revisions/script.py.mako`:

    python -c "from alembic import command; from outage import migrations; \\
        command.revision(migrations.config(), 'what changes', rev_id='short_name')"

Revisions only go forward: undoing one is another revision.

The numbered scripts `NNNN_name.sql` beside this file are the frozen history of SQLite
installs from before Alembic: a file's `PRAGMA user_version` is the number of the last one
it ran. They are never edited and none is added. A SQLite file with a `user_version` and no
`alembic_version` runs the scripts it lacks, is stamped with the `baseline` revision (the
schema the last script leaves, which a new database gets from the revision itself), then
goes on with the revisions after it. The baseline sets a new SQLite file's `user_version`
to the last script's number too, so the two kinds of file look alike.

One process migrates at a time: the whole upgrade is one transaction holding SQLite's write
lock (`BEGIN IMMEDIATE`) or a PostgreSQL advisory lock, so processes that start together on
a new database wait for the first one and then find nothing to do.
"""

from __future__ import annotations

import functools
import logging
import re
import sqlite3
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool

log = logging.getLogger(__name__)

NUMBERED_DIR = Path(__file__).parent
REVISIONS = NUMBERED_DIR / "revisions"
BASELINE = "baseline"  # the revision equal to the last numbered script
MIGRATION_LOCK = 0x6F7574616765  # PostgreSQL advisory lock key ("outage"), held while migrating
_NUMBERED_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


class SchemaError(RuntimeError):
    """The database holds a schema this program does not know; the message says why."""


def engine(url: str) -> Engine:
    """An engine for a database address: `postgresql://...` (driven by psycopg 3) or
    `sqlite:///<path>`. Parameters stay out of error messages (they may be customer data)."""
    address = sa.make_url(url)
    if address.get_backend_name() == "postgresql":
        address = address.set(drivername="postgresql+psycopg")
    return sa.create_engine(address, hide_parameters=True)


def upgrade(engine: Engine) -> str:
    """Bring the database of `engine` to the newest revision, in one transaction under the
    migration lock (see the module); returns that revision."""
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        _upgrade(conn)
        conn.commit()
    return head()


def upgrade_sqlite(conn: sqlite3.Connection) -> int:
    """Bring the SQLite database open on `conn` (an `outage.db.connect` connection) to the
    newest revision; returns its `user_version`, the last numbered script it holds.

    An up-to-date file costs one read under the write lock; `conn` stays open and as it was."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        current = _sqlite_revision(conn)
    finally:
        conn.execute("COMMIT")
    if current != head():
        upgrade(sa.create_engine("sqlite://", creator=lambda: conn, poolclass=StaticPool))
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


@functools.cache
def head() -> str:
    """The newest revision this program knows."""
    found = ScriptDirectory(str(REVISIONS)).get_current_head()
    assert found is not None
    return found


def config(conn: Connection | None = None) -> Config:
    """Alembic's configuration (no alembic.ini): the revisions, and the connection they run on."""
    settings = Config()
    settings.set_main_option("script_location", str(REVISIONS))
    settings.attributes["connection"] = conn
    return settings


def numbered() -> list[tuple[int, Path]]:
    """The numbered SQLite scripts in order, checked for gaps."""
    found = []
    for path in sorted(NUMBERED_DIR.glob("*.sql")):
        match = _NUMBERED_NAME.match(path.name)
        if match:
            found.append((int(match.group(1)), path))
    for expected, (number, path) in enumerate(found, start=1):
        if number != expected:
            raise RuntimeError(f"migração fora de sequência: {path.name} (esperado {expected:04d})")
    return found


def _upgrade(conn: Connection) -> None:
    current = MigrationContext.configure(conn).get_current_revision()
    if current is None and conn.dialect.name == "sqlite":
        version = int(conn.exec_driver_sql("PRAGMA user_version").scalar_one())
        if version > 0:
            _adopt_numbered(conn, version)
    elif current is not None and current not in _known():
        raise SchemaError(
            f"o banco de dados está na revisão {current!r} do esquema, que este programa não conhece "
            "(é de uma versão mais nova): atualize o programa"
        )
    command.upgrade(config(conn), "head")


def _adopt_numbered(conn: Connection, version: int) -> None:
    """Run the numbered scripts after `version`, then record that the file holds the baseline."""
    for number, path in numbered():
        if number > version:
            for statement in _statements(path.read_text(encoding="utf-8")):
                conn.exec_driver_sql(statement)
            conn.exec_driver_sql(f"PRAGMA user_version={number}")
    command.stamp(config(conn), BASELINE)
    log.info("banco SQLite no esquema numerado %d passou às migrações do Alembic", version)


def _statements(script: str) -> list[str]:
    """Split a numbered script on `;` at line ends (the scripts hold no triggers)."""
    body = "\n".join(line for line in script.splitlines() if not line.strip().startswith("--"))
    return [part.strip() for part in body.split(";\n") if part.strip().rstrip(";")]


def _sqlite_revision(conn: sqlite3.Connection) -> str | None:
    """The revision in the file's `alembic_version` (None: no such table, or empty)."""
    if conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
    ).fetchone():
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        return str(row[0]) if row else None
    return None


@functools.cache
def _known() -> frozenset[str]:
    return frozenset(script.revision for script in ScriptDirectory(str(REVISIONS)).walk_revisions())
