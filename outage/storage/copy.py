"""Copy a SQLite installation into an empty PostgreSQL database (`--copy-database`).

`copy_database(path, url, now)` migrates the SQLite file at `path` (`outage.db.migrate`)
and the PostgreSQL database at `url` (`outage.migrations.upgrade`) to the same revision, then
copies every table of the schema in one transaction on the target, and returns what it copied.
It raises `CopyRefused`, with nothing written to the target but its schema, when:

- the address is not a PostgreSQL one, or the server cannot be reached or logged into;
- the SQLite file does not exist, or a monitor is using it (the poller lease is held and not
  expired at `now`: its cycles would go on after the copy and be lost);
- any table of the target already holds rows;
- a value cannot go into its column as it is (the table and column are named): SQLite keeps
  values loosely, so each one is converted to the type of the target's column (an integer
  written as `3.0`, 0/1 for a boolean, JSON as text) only when nothing is lost;
- the rows counted in the target after the copy differ from the source's.

The tables are the migrated SQLite file's (Alembic's version table aside), in the order of
their foreign keys in the target; the source is read in one snapshot, the rows go in with
PostgreSQL's COPY. Every sequence that numbers a table's ids is then set past the largest id
copied and past SQLite's own counter for the table (`sqlite_sequence`: ids of rows deleted
since are never reused). The address's password never appears in a message.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
import sqlalchemy as sa
from psycopg import sql

from outage import migrations
from outage.db import connect_sqlite, describe_failure, migrate, transaction
from outage.storage.cycles import live_lease

CONNECT_TIMEOUT = 10  # seconds to reach the server, unless the address says otherwise
LOCK_TIMEOUT = "10s"  # how long the copy waits for another process's lock on a target table
SHOWN_TABLES = 5  # tables named when the target already holds rows
Convert = Callable[[Any], Any]


class CopyRefused(Exception):
    """The copy did not happen and the target holds no row of it; the message says why."""


class _Unfit(ValueError):
    """A value that cannot go into its column as it is."""


@dataclass(frozen=True)
class CopyResult:
    """What was copied: each table's rows, in copy order, and how long the copy took."""

    tables: tuple[tuple[str, int], ...]
    seconds: float

    @property
    def rows(self) -> int:
        return sum(count for _, count in self.tables)


def masked(url: str) -> str:
    """The address with its password as `***`, fit to print."""
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "(endereço inválido)"


def copy_database(path: str, url: str, now: float) -> CopyResult:
    """Copy the SQLite database at `path` into the empty PostgreSQL database at `url` (see
    the module); raises `CopyRefused`."""
    address = _postgres_address(url)
    try:
        return _copy_into(path, address, now)
    except CopyRefused as exc:
        raise CopyRefused(_hidden(str(exc), address.password)) from None


def _copy_into(path: str, address: sa.URL, now: float) -> CopyResult:
    shown = address.render_as_string(hide_password=True)
    if not os.path.exists(path):
        raise CopyRefused(f"o banco SQLite {path} não existe (confira DATABASE_PATH)")
    started = time.monotonic()
    try:
        source = connect_sqlite(path)
        migrate(source)
    except (sqlite3.Error, migrations.SchemaError) as exc:
        raise CopyRefused(f"o banco SQLite {path} não abriu: {_sqlite_reason(exc, path)}") from None
    try:
        with transaction(source):  # the write lock: nothing changes the source meanwhile
            _refuse_running_monitor(source, now)
            engine = migrations.engine(_with_timeout(address).render_as_string(hide_password=False))
            try:
                copied = _copy(source, engine, _target_tables(engine, _source_tables(source)))
            finally:
                engine.dispose()
    except (sa.exc.DBAPIError, psycopg.Error) as exc:
        raise CopyRefused(f"o PostgreSQL em {shown} recusou: {_reason(exc)}") from None
    except migrations.SchemaError as exc:
        raise CopyRefused(f"{shown}: {exc}") from None
    except sqlite3.Error as exc:
        raise CopyRefused(f"o banco SQLite {path} falhou: {_sqlite_reason(exc, path)}") from None
    finally:
        source.close()
    return CopyResult(copied, time.monotonic() - started)


def _postgres_address(url: str) -> sa.URL:
    try:
        address = sa.make_url(url)
    except sa.exc.ArgumentError:
        address = None
    if address is None or address.get_backend_name() != "postgresql" or not address.host:
        raise CopyRefused(
            f"endereço do PostgreSQL inválido: {masked(url)}"
            " (o formato é postgresql://usuario:senha@servidor:5432/banco)"
        )
    return address


def _with_timeout(address: sa.URL) -> sa.URL:
    """`address` with a connection timeout, unless it sets one (libpq waits forever)."""
    if "connect_timeout" in address.query:
        return address
    return address.update_query_dict({"connect_timeout": str(CONNECT_TIMEOUT)})


def _refuse_running_monitor(source: sqlite3.Connection, now: float) -> None:
    """Refuse while the poller lease is held at `now` (`cycles.live_lease`)."""
    held = live_lease(source, now)
    if held is not None:
        holder, left = held
        raise CopyRefused(
            f"um monitor está usando este banco agora (processo {holder}): pare o monitor e tente de novo"
            f" (um monitor que parou sem liberar o banco o libera sozinho em até {math.ceil(left)} s)"
        )


def _source_tables(source: sqlite3.Connection) -> list[str]:
    rows = source.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
        " AND name != 'alembic_version'"
    ).fetchall()
    return [row["name"] for row in rows]


def _target_tables(engine: sa.Engine, names: list[str]) -> list[sa.Table]:
    """Migrate the target and read its tables named `names`, in foreign-key order."""
    migrations.upgrade(engine)
    schema = sa.MetaData()
    try:
        schema.reflect(engine, only=names)
    except sa.exc.InvalidRequestError as exc:
        raise CopyRefused(f"o destino não tem as tabelas do banco SQLite: {exc}") from None
    return list(schema.sorted_tables)


def _copy(
    source: sqlite3.Connection, engine: sa.Engine, tables: list[sa.Table]
) -> tuple[tuple[str, int], ...]:
    """Copy `tables` in one transaction on the target; the counts written, in order."""
    raw = engine.raw_connection()
    try:
        target = raw.driver_connection
        assert isinstance(target, psycopg.Connection)
        with target.cursor() as cursor:
            _lock_empty(cursor, tables)
            copied = tuple((table.name, _copy_table(source, cursor, table)) for table in tables)
            _advance_sequences(source, cursor, {table.name for table in tables})
            _verify(source, cursor, copied)
        target.commit()
        return copied
    finally:
        raw.close()  # rolls back what was not committed


def _lock_empty(cursor: psycopg.Cursor[Any], tables: list[sa.Table]) -> None:
    """Keep other processes from writing the tables until the copy commits; refuse when any
    holds rows."""
    names = sql.SQL(", ").join(sql.Identifier(table.name) for table in tables)
    cursor.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(LOCK_TIMEOUT)))
    cursor.execute(sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(names))
    filled = [
        table.name
        for table in tables
        if cursor.execute(
            sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(sql.Identifier(table.name))
        ).fetchone()
        == (True,)
    ]
    if filled:
        named = ", ".join(filled[:SHOWN_TABLES]) + (
            f" e mais {len(filled) - SHOWN_TABLES}" if filled[SHOWN_TABLES:] else ""
        )
        raise CopyRefused(
            f"o banco de destino já tem dados (tabelas {named}): a cópia só vai para um banco vazio"
        )


def _copy_table(source: sqlite3.Connection, cursor: psycopg.Cursor[Any], table: sa.Table) -> int:
    """COPY the rows of `table` from the source; how many. Only the columns holding a value
    that is not already what the target takes (one scan in SQLite finds them) go through
    their converter, the others as they are."""
    columns = [column.name for column in table.columns]
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    )
    count = 0
    try:
        fixes = _fixes(source, table)
        rows = source.cursor()
        rows.row_factory = None  # plain tuples: the fastest rows sqlite3 gives
        rows.execute(f"SELECT {', '.join(map(_quoted, columns))} FROM {_quoted(table.name)}")  # noqa: S608
        with cursor.copy(statement) as copy:
            for row in rows:
                if fixes:
                    values = list(row)
                    for index, convert in fixes:
                        values[index] = convert(values[index])
                    row = values
                copy.write_row(row)
                count += 1
    except _Unfit as exc:
        raise CopyRefused(f"a linha {count + 1} da tabela {table.name} não pode ser copiada: {exc}") from None
    except sqlite3.Error as exc:
        raise CopyRefused(f"a tabela {table.name} não pôde ser lida do SQLite: {exc}") from None
    except psycopg.Error as exc:
        raise CopyRefused(
            f"a tabela {table.name} não pôde ser gravada no PostgreSQL: {_reason(exc)}"
        ) from None
    return count


def _fixes(source: sqlite3.Connection, table: sa.Table) -> list[tuple[int, Convert]]:
    """The columns of `table` (their positions) with a value to convert, and their converters."""
    plans = [_plan(table.name, column) for column in table.columns]
    looks = ", ".join(f"max({look})" for look, _ in plans)
    flagged = source.execute(f"SELECT {looks} FROM {_quoted(table.name)}").fetchone()  # noqa: S608
    return [(index, convert) for index, (_, convert) in enumerate(plans) if flagged[index]]


def _advance_sequences(source: sqlite3.Connection, cursor: psycopg.Cursor[Any], names: set[str]) -> None:
    """Set each sequence that numbers a column of the tables `names` past the column's largest
    value and past SQLite's counter for its table, so new rows get new ids."""
    used = {row["name"]: int(row["seq"]) for row in source.execute("SELECT name, seq FROM sqlite_sequence")}
    numbered = cursor.execute(
        "SELECT table_name, column_name, pg_get_serial_sequence(quote_ident(table_name), column_name)"
        " FROM information_schema.columns WHERE table_schema = current_schema()"
        " AND pg_get_serial_sequence(quote_ident(table_name), column_name) IS NOT NULL"
    ).fetchall()
    for table, column, sequence in (found for found in numbered if found[0] in names):
        largest = cursor.execute(
            sql.SQL("SELECT max({}) FROM {}").format(sql.Identifier(column), sql.Identifier(table))
        ).fetchone()
        last = max((largest[0] if largest else None) or 0, used.get(table, 0))
        cursor.execute("SELECT setval(%s, %s, %s)", (sequence, max(last, 1), last > 0))


def _verify(
    source: sqlite3.Connection, cursor: psycopg.Cursor[Any], copied: tuple[tuple[str, int], ...]
) -> None:
    for name, count in copied:
        (expected,) = source.execute(f"SELECT count(*) FROM {_quoted(name)}").fetchone()  # noqa: S608
        found = cursor.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(name))).fetchone()
        if found != (expected,) or count != expected:
            raise CopyRefused(
                f"a contagem da tabela {name} não confere: {expected} no SQLite, {found[0] if found else '?'}"
                " no PostgreSQL; nada foi gravado"
            )


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _reason(exc: BaseException) -> str:
    """What the server or the driver said: PostgreSQL's message and its detail, or the
    driver's first line."""
    if isinstance(exc, sa.exc.DBAPIError) and exc.orig is not None:
        exc = exc.orig
    if isinstance(exc, psycopg.Error) and exc.diag.message_primary:
        detail = exc.diag.message_detail
        return exc.diag.message_primary + (f" ({detail})" if detail else "")
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _sqlite_reason(exc: BaseException, path: str) -> str:
    if isinstance(exc, sqlite3.Error):
        return f"{describe_failure(exc, path)} ({exc})"
    return str(exc)


def _hidden(text: str, password: str | None) -> str:
    return text.replace(password, "***") if password else text


# --- each value as its target column takes it ------------------------------------------------


def _plan(table: str, column: sa.Column[Any]) -> tuple[str, Convert]:
    """How the values of `column` go: a SQL expression, true for a value SQLite holds in
    another form than the target takes, and the function that converts such a value or
    raises `_Unfit` naming the table and column."""
    kind = column.type
    name = _quoted(column.name)
    fit: Convert
    where = f"coluna {table}.{column.name} ({kind})"
    if isinstance(kind, sa.Boolean):
        fit, look = _boolean, "1"
    elif isinstance(kind, sa.Integer):
        bits = _bits(kind)
        fit, look = _integer(bits), f"typeof({name}) != 'integer'"
        if bits < 64:
            look += f" OR {name} NOT BETWEEN {-(2 ** (bits - 1))} AND {2 ** (bits - 1) - 1}"
    elif isinstance(kind, sa.Float):
        fit, look = _real, f"typeof({name}) != 'real'"
    elif isinstance(kind, sa.JSON):
        fit, look = _json, "1"
    elif isinstance(kind, sa.String):
        fit, look = _text, f"typeof({name}) != 'text' OR instr(CAST({name} AS BLOB), x'00') > 0"
    else:
        raise CopyRefused(f"a {where} tem um tipo que a cópia não sabe converter")
    nullable = column.nullable

    def convert(value: Any) -> Any:
        if value is None:
            if nullable:
                return None
            raise _Unfit(f"{where}: vazia (NULL), e o destino exige um valor")
        try:
            return fit(value)
        except _Unfit as exc:
            raise _Unfit(f"{where}: {exc}") from None

    null = f"{name} IS NOT NULL AND" if nullable else f"{name} IS NULL OR"
    return f"({null} ({look}))", convert


def _unfit(value: Any, kind: str) -> _Unfit:
    shown = repr(value)
    return _Unfit(f"o valor {shown[:60]}{'…' if len(shown) > 60 else ''} não é {kind}")


def _bits(kind: sa.Integer) -> int:
    if isinstance(kind, sa.SmallInteger):
        return 16
    return 64 if isinstance(kind, sa.BigInteger) else 32


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError:
            raise _unfit(value, "texto UTF-8") from None
    text = str(value)  # a number in a text column reads as SQLite would write it
    if "\x00" in text:
        raise _Unfit("o texto tem o caractere nulo (\\x00), que o PostgreSQL não guarda")
    return text


def _integer(bits: int) -> Convert:
    low, high = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1

    def fit(value: Any) -> int:
        number = value
        if isinstance(value, float) and value.is_integer():
            number = int(value)
        elif isinstance(value, str):
            with contextlib.suppress(ValueError):
                number = int(value) if str(int(value)) == value else value
        if not isinstance(number, int) or not low <= number <= high:
            raise _unfit(value, f"um inteiro de {bits} bits")
        return number

    return fit


def _real(value: Any) -> float:
    if isinstance(value, float):
        return value
    if isinstance(value, int) and float(value) == value:
        return float(value)
    raise _unfit(value, "um número que caiba sem perder dígitos")


def _boolean(value: Any) -> bool:
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    raise _unfit(value, "booleano (0 ou 1)")


def _json(value: Any) -> str:
    text = _text(value)
    try:
        json.loads(text)
    except ValueError:
        raise _unfit(value, "JSON") from None
    return text
