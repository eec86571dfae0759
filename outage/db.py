"""Database access: one connection per thread or request, the schema kept up to date.

The database is SQLite (a file, WAL mode: the embedded default) or PostgreSQL (shared by two
instances), chosen by its address: a path, or a `postgresql://` URL (`is_url`). Storage code
sees one face for both: `execute(sql, params)` with `?` (or `:name`) marks, rows read by name
or position, `transaction()`. A PostgreSQL connection (`PgConnection`) translates the marks,
stores booleans as the integers SQLite stores, and reads integral numbers as `int`; the SQL
itself is written in what both dialects share, and the few spots that differ ask `postgres(conn)`.

Writes serialize on both: SQLite's `BEGIN IMMEDIATE` takes the database's write lock, and on
PostgreSQL `transaction()` takes one advisory lock held to the transaction's end, so every
read-then-write (the outbox claims, the poller lease and its fencing) behaves the same. Commits
are as durable on both: SQLite's WAL with `synchronous=NORMAL`, PostgreSQL's session with
`synchronous_commit=off` (a crash of the database's machine may undo the last moment of
commits, never corrupt; a crash of our process loses nothing).

The schema and its migrations live in `outage.migrations` (Alembic revisions that run on
SQLite and PostgreSQL alike); `migrate` applies them to an open connection.
"""

from __future__ import annotations

import errno
import functools
import logging
import os
import re
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

import psycopg
from psycopg.adapt import Dumper, Loader

from outage import migrations

log = logging.getLogger(__name__)

T = TypeVar("T")
C = TypeVar("C", bound="Connection")
BUSY_TIMEOUT = 30.0  # seconds a write waits for another one's lock before failing
LOW_DISK_BYTES = 1_000_000  # below this free space the database's disk counts as full
PROBE_TIMEOUT = 1.0


POSTGRES_SCHEMES = ("postgresql://", "postgres://", "postgresql+psycopg://")
WRITE_LOCK = 0x6F75745772  # PostgreSQL advisory lock key held by every write transaction
CONNECT_TIMEOUT = 10  # seconds to reach a PostgreSQL server before giving up

DatabaseError: tuple[type[Exception], ...] = (sqlite3.Error, psycopg.Error)  # what a database call raises
OperationalError: tuple[type[Exception], ...] = (sqlite3.OperationalError, psycopg.OperationalError)
IntegrityError: tuple[type[Exception], ...] = (sqlite3.IntegrityError, psycopg.IntegrityError)
Record = Any  # a row read by name or position: `sqlite3.Row` or `Row`


class Cursor(Protocol):
    """What storage reads from a statement: rows (by name or position) and the count changed."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """The face both databases show storage: `sqlite3.Connection` or `PgConnection`."""

    def execute(self, sql: str, parameters: Any = (), /) -> Cursor: ...

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> Any: ...

    def close(self) -> None: ...


def is_url(target: str) -> bool:
    """True when the database `target` is a PostgreSQL address rather than a SQLite path."""
    return target.startswith(POSTGRES_SCHEMES)


def postgres(conn: Connection) -> bool:
    """True when `conn` is a PostgreSQL connection (for the few statements that differ)."""
    return isinstance(conn, PgConnection)


def json_field(conn: Connection, column: str, key: str) -> str:
    """SQL for the text at `key` of the JSON object held (as text) in `column`."""
    if postgres(conn):
        return f"(CAST({column} AS jsonb) ->> '{key}')"
    return f"json_extract({column}, '$.{key}')"


def json_items(conn: Connection, column: str, key: str, alias: str) -> str:
    """SQL for a table `alias` with one row (`alias.value`, text) per item of the JSON array at
    `key` of the object held (as text) in `column`: use it in a FROM clause."""
    if postgres(conn):
        return f"jsonb_array_elements_text(CAST({column} AS jsonb) -> '{key}') AS {alias}(value)"
    return f"json_each({column}, '$.{key}') AS {alias}"


def connect(target: str, *, timeout: float | None = None) -> Connection:
    """Open the database at `target`: a SQLite path (`connect_sqlite`) or a PostgreSQL URL
    (`connect_postgres`)."""
    if is_url(target):
        return connect_postgres(target, timeout=timeout)
    return connect_sqlite(target, timeout=timeout)


def connect_sqlite(path: str, *, timeout: float | None = None) -> sqlite3.Connection:
    """Open `path` (creating its folder) in WAL mode with foreign keys on.

    `isolation_level=None` leaves transactions to `transaction()`, so each one is explicit.
    A write waits up to `timeout` (default `BUSY_TIMEOUT`) for another writer's lock.
    """
    timeout = BUSY_TIMEOUT if timeout is None else timeout
    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    _use_wal(conn, timeout)
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA cache_size=-65536")  # 64 MiB: a mass drop writes 100k+ rows at once
    conn.execute("PRAGMA temp_store=MEMORY")
    conn.execute(f"PRAGMA journal_size_limit={WAL_LIMIT}")  # a checkpoint truncates the WAL to this
    conn.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
    return conn


def _use_wal(conn: sqlite3.Connection, timeout: float) -> None:
    """Switch to WAL. On a new file the switch needs the file alone, and SQLite answers
    "locked" at once instead of waiting when another connection is opening it at the same
    moment (the poller and the lease thread at start-up): retry until `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.05)


class Row(tuple[Any, ...]):
    """A PostgreSQL row read like `sqlite3.Row`: by position, by column name, `keys()`."""

    _index: Mapping[str, int]

    def __new__(cls, values: Sequence[Any], index: Mapping[str, int]) -> Row:
        row = super().__new__(cls, values)
        row._index = index
        return row

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return tuple.__getitem__(self, self._index[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._index)


def _rows(cursor: psycopg.Cursor[Any]) -> Callable[[Sequence[Any]], Row]:
    index = {column.name: i for i, column in enumerate(cursor.description or ())}
    return lambda values: Row(values, index)


class _BoolAsInteger(Dumper):
    """Booleans go in as 0/1, the integers SQLite stores and the schema declares."""

    oid = psycopg.adapters.types["int8"].oid

    def dump(self, obj: Any) -> bytes:
        return b"1" if obj else b"0"


class _NumberLoader(Loader):
    """NUMERIC (what SUM of integers gives) read as `int` when integral, else `float`, as SQLite does."""

    def load(self, data: Any) -> int | float:
        value = Decimal(bytes(data).decode())
        return int(value) if value == value.to_integral_value() else float(value)


_MARK = re.compile(r"'(?:[^']|'')*'|\?|(?<!:):([A-Za-z_]\w*)|%")


@functools.lru_cache(maxsize=1024)
def _pg_sql(sql: str) -> str:
    """`sql` with SQLite's marks in psycopg's: `?` -> `%s`, `:name` -> `%(name)s`, `%` -> `%%`
    (quoted literals kept as they are)."""

    def swap(match: re.Match[str]) -> str:
        text = match.group(0)
        if text.startswith("'"):
            return text.replace("%", "%%")
        if text == "?":
            return "%s"
        if text == "%":
            return "%%"
        return f"%({match.group(1)})s"

    return _MARK.sub(swap, sql)


class PgConnection:
    """A PostgreSQL connection (psycopg 3, autocommit outside `transaction()`) with the face of
    a `sqlite3.Connection` that storage uses: `execute`, `executemany`, rows by name or position.

    One connection serves one thread at a time, as a SQLite connection does. A connection the
    server or the network dropped is opened again by the next statement (the statement that
    found it dropped fails, and with it its transaction, like any database error)."""

    def __init__(self, target: str, timeout: float) -> None:
        self.target = target
        self.timeout = timeout
        self.raw = self._open()

    def _open(self) -> psycopg.Connection[Any]:
        raw = psycopg.connect(
            self.target.replace("postgresql+psycopg://", "postgresql://", 1),
            autocommit=True,
            connect_timeout=CONNECT_TIMEOUT,
            application_name="outage-monitor",
            options=f"-c lock_timeout={int(self.timeout * 1000)} -c TimeZone=UTC -c synchronous_commit=off",
        )
        raw.adapters.register_dumper(bool, _BoolAsInteger)
        raw.adapters.register_loader("numeric", _NumberLoader)
        return raw

    def _cursor(self) -> psycopg.Cursor[Any]:
        if self.raw.broken:
            self.raw = self._open()
        return self.raw.cursor(row_factory=_rows)

    def execute(self, sql: str, parameters: Any = (), /) -> psycopg.Cursor[Any]:
        cursor = self._cursor()
        cursor.execute(_pg_sql(sql), parameters or ())
        return cursor

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> psycopg.Cursor[Any]:
        cursor = self._cursor()
        cursor.executemany(_pg_sql(sql), parameters)
        return cursor

    def close(self) -> None:
        self.raw.close()


def connect_postgres(url: str, *, timeout: float | None = None) -> PgConnection:
    """Connect to the PostgreSQL database at `url`; a write waits up to `timeout` (default
    `BUSY_TIMEOUT`) for another's lock, as a SQLite write does."""
    return PgConnection(url, BUSY_TIMEOUT if timeout is None else timeout)


def checkpoint(conn: Connection) -> None:
    """Copy SQLite's write-ahead log into the database and shrink it (the WAL otherwise keeps the
    size of the largest burst, which may fill a small disk). Readers in the way make it a partial
    checkpoint, tried again next time; never raises. PostgreSQL checkpoints by itself."""
    if postgres(conn):
        return
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except sqlite3.Error as exc:
        log.warning("checkpoint do WAL adiado: %s", exc)


@contextmanager
def transaction(conn: C) -> Iterator[C]:
    """Run the block in one transaction: commit on success, roll back on any exception.

    The write lock is taken up front (SQLite's `BEGIN IMMEDIATE`, PostgreSQL's `WRITE_LOCK`),
    so two processes never interleave a read-then-write (the compare-and-set claims of the
    outbox and the poller lease rely on it).
    """
    if postgres(conn):
        conn.execute("BEGIN")
        try:
            conn.execute("SELECT pg_advisory_xact_lock(?)", (WRITE_LOCK,))
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    else:
        conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


IN_CHUNK = 500  # values per `IN (...)` list: well under SQLite's limit on bound parameters


def in_chunks(values: Iterable[T]) -> Iterator[tuple[list[T], str]]:
    """`values` in slices for `... IN ({marks})` queries: (slice, its `?,?,...` placeholders)."""
    items = list(values)
    for start in range(0, len(items), IN_CHUNK):
        chunk = items[start : start + IN_CHUNK]
        yield chunk, ",".join("?" * len(chunk))


def rows_in(conn: Connection, query: str, values: Iterable[Any], after: Sequence[Any] = ()) -> Iterator[Any]:
    """The rows of `query` for all of `values`, read in chunks (`in_chunks`): `{marks}` in the
    query is where the `IN (...)` list goes (once or more), `after` the parameters after it."""
    for chunk, marks in in_chunks(values):
        params = chunk * query.count("{marks}")
        yield from conn.execute(query.format(marks=marks), [*params, *after])


def execute_in(conn: Connection, statement: str, values: Iterable[Any]) -> None:
    """Run `statement` for all of `values` in chunks (`in_chunks`): `{marks}` in it is where
    the `IN (...)` list goes. One statement per chunk, not per value: a mass drop deletes
    200,000 rows in 400 statements (a round trip each on PostgreSQL)."""
    for chunk, marks in in_chunks(values):
        conn.execute(statement.format(marks=marks), chunk)


WAL_LIMIT = 8 * 1024 * 1024  # bytes the write-ahead log keeps after a checkpoint
MAX_INTEGER = 2**63 - 1  # the largest integer a database column holds


def migrate(conn: Connection) -> None:
    """Bring the schema up to date (see `outage.migrations`). A PostgreSQL database is checked
    once per process (the first connection to it migrates; the later ones find it done)."""
    if isinstance(conn, PgConnection):
        _migrate_postgres(conn.target)
    elif isinstance(conn, sqlite3.Connection):
        migrations.upgrade_sqlite(conn)


_migrated: set[str] = set()
_migrating = threading.Lock()


def _migrate_postgres(url: str) -> None:
    with _migrating:
        if url in _migrated:
            return
        engine = migrations.engine(url)
        try:
            migrations.upgrade(engine)
        finally:
            engine.dispose()
        _migrated.add(url)


def open_database(target: str) -> Connection:
    """Connect to the database at `target` (a SQLite path or a PostgreSQL URL) and bring its
    schema up to date."""
    conn = connect(target)
    try:
        migrate(conn)
    except BaseException:
        conn.close()
        raise
    return conn


def describe_failure(exc: BaseException, path: str = "") -> str:
    """Why a database operation failed, in Portuguese, for logs, `/healthz` and API errors.

    SQLite reports a full disk as "disk I/O error" when the write-ahead log cannot grow:
    with the database's `path`, such an error on a disk without room says so."""
    text = str(exc).lower()
    if isinstance(exc, psycopg.OperationalError) and ("connect" in text or "server" in text):
        return "não foi possível conectar ao PostgreSQL: confira DATABASE_URL e se o servidor está no ar"
    if "lock timeout" in text:
        return "banco de dados bloqueado para escrita por outra operação (tempo de espera esgotado)"
    if isinstance(exc, psycopg.Error):
        return "falha no banco de dados PostgreSQL"
    if "locked" in text or "busy" in text:
        return "banco de dados bloqueado para escrita por outra operação (tempo de espera esgotado)"
    if "full" in text or ("i/o" in text and path and disk_is_full(path)):
        return "disco cheio: o banco de dados não consegue gravar"
    if "readonly" in text or "read-only" in text:
        return "banco de dados somente leitura: confira as permissões do arquivo e da pasta"
    if "i/o" in text:
        return "erro de leitura/gravação no disco do banco de dados"
    if "unable to open" in text:
        return "não foi possível abrir o arquivo do banco de dados"
    return "falha no banco de dados"


def free_bytes(path: str) -> int | None:
    """Free bytes on the disk of the database at `path` (None when the system cannot tell)."""
    try:
        stats = os.statvfs(Path(path).resolve().parent)
    except OSError:
        return None
    return stats.f_bavail * stats.f_frsize


def disk_is_full(path: str) -> bool:
    free = free_bytes(path)
    return free is not None and free < LOW_DISK_BYTES


def storage_problems(path: str) -> list[str]:
    """What keeps the database at `path` from taking writes right now (empty: nothing seen).

    Checks the free space of its disk and whether the write lock can be taken within
    `PROBE_TIMEOUT` (the probe holds it for no time: `BEGIN IMMEDIATE` then `ROLLBACK`).
    A PostgreSQL database (a URL): whether the server answers within `PROBE_TIMEOUT`.
    """
    if is_url(path):
        failure = _probe_server(path)
        return [] if failure is None else [describe_failure(failure)]
    problems = []
    free = free_bytes(path)
    if free is not None and free < LOW_DISK_BYTES:  # no path: anyone may read the health verdict
        problems.append(f"disco cheio: {free:,} bytes livres no disco do banco de dados".replace(",", "."))
    try:
        probe = sqlite3.connect(path, timeout=PROBE_TIMEOUT, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
        finally:
            probe.close()
    except sqlite3.Error as exc:
        problems.append(describe_failure(exc, path))
    return problems


def write_access_problem(path: str) -> str | None:
    """Why this process cannot write the database at `path` and its folder (None: it can).

    Checked at start-up, before anything opens the database, so a data folder owned by
    another user or mounted read-only stops the process with this sentence instead of a
    traceback. The probe creates and removes one empty file in the folder and opens the
    existing database files for writing without changing them. A PostgreSQL database (a URL):
    whether its server answers.
    """
    if is_url(path):
        return _server_problem(path)
    if path == ":memory:":
        return None
    folder = Path(path).resolve().parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".gravavel-"):
            pass
        for name in (path, f"{path}-wal", f"{path}-shm"):
            if os.path.exists(name):
                with open(name, "r+b"):
                    pass
    except OSError as exc:
        return _write_refusal(folder, path, exc)
    return None


def _probe_server(url: str) -> psycopg.Error | None:
    """What the PostgreSQL server at `url` answered to a connection and `SELECT 1` within
    `PROBE_TIMEOUT` (None: it answered)."""
    try:
        server = connect_postgres(url, timeout=PROBE_TIMEOUT)
        try:
            server.execute("SELECT 1")
        finally:
            server.close()
    except psycopg.Error as exc:
        return exc
    return None


def _server_problem(url: str) -> str | None:
    """Why the PostgreSQL server at `url` cannot be used right now (None: it answered)."""
    failure = _probe_server(url)
    if failure is None:
        return None
    address = urlsplit(url)
    where = f"{address.hostname}:{address.port or 5432}{address.path}"
    first_line = str(failure).strip().splitlines()[0] if str(failure).strip() else type(failure).__name__
    return f"O banco de dados PostgreSQL em {where} (DATABASE_URL) não pode ser usado: {first_line}"


def _write_refusal(folder: Path, path: str, exc: OSError) -> str:
    head = f"O banco de dados {path} não pode ser gravado"
    if exc.errno == errno.EROFS:
        return (
            f"{head}: a pasta {folder} está num sistema de arquivos somente leitura (no Docker, um volume "
            "montado com :ro). Monte a pasta com permissão de escrita."
        )
    if exc.errno in (errno.EACCES, errno.EPERM):
        uid, gid = os.getuid(), os.getgid()
        return (
            f"{head}: o usuário de uid {uid} não tem permissão de escrita em {folder}. Dê a posse da pasta a "
            f"esse usuário: sudo chown -R {uid}:{gid} {folder} (no Docker, o entrypoint da imagem faz isso "
            "sozinho quando o contêiner começa como root)."
        )
    return f"{head}: erro ao gravar em {folder} (errno {exc.errno}: {exc.strerror or exc})."
