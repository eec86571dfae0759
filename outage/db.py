"""SQLite access: one connection per thread or request, WAL mode, the schema kept up to date.

The schema and its migrations live in `outage.migrations` (Alembic revisions that run on
SQLite and PostgreSQL alike); `migrate` applies them to an open connection.
"""

from __future__ import annotations

import errno
import logging
import os
import sqlite3
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from outage import migrations

log = logging.getLogger(__name__)

T = TypeVar("T")
BUSY_TIMEOUT = 30.0  # seconds a write waits for another one's lock before failing
LOW_DISK_BYTES = 1_000_000  # below this free space the database's disk counts as full
PROBE_TIMEOUT = 1.0


def connect(path: str, *, timeout: float | None = None) -> sqlite3.Connection:
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


def checkpoint(conn: sqlite3.Connection) -> None:
    """Copy the write-ahead log into the database and shrink it (the WAL otherwise keeps the
    size of the largest burst, which may fill a small disk). Readers in the way make it a partial
    checkpoint, tried again next time; never raises."""
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except sqlite3.Error as exc:
        log.warning("checkpoint do WAL adiado: %s", exc)


@contextmanager
def transaction(conn: sqlite3.Connection, *, immediate: bool = True) -> Iterator[sqlite3.Connection]:
    """Run the block in one transaction: commit on success, roll back on any exception.

    `BEGIN IMMEDIATE` takes the write lock up front, so two processes never interleave a
    read-then-write (the compare-and-set claims of the outbox and the poller lease rely on it).
    """
    conn.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
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


def rows_in(
    conn: sqlite3.Connection, query: str, values: Iterable[Any], after: Sequence[Any] = ()
) -> Iterator[sqlite3.Row]:
    """The rows of `query` for all of `values`, read in chunks (`in_chunks`): `{marks}` in the
    query is where the `IN (...)` list goes (once or more), `after` the parameters after it."""
    for chunk, marks in in_chunks(values):
        params = chunk * query.count("{marks}")
        yield from conn.execute(query.format(marks=marks), [*params, *after])


WAL_LIMIT = 8 * 1024 * 1024  # bytes the write-ahead log keeps after a checkpoint
MAX_INTEGER = 2**63 - 1  # the largest integer a database column holds


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the schema up to date (see `outage.migrations`); returns `PRAGMA user_version`,
    the last numbered migration the file holds."""
    return migrations.upgrade_sqlite(conn)


def open_database(path: str) -> sqlite3.Connection:
    """Connect and bring the schema up to date."""
    conn = connect(path)
    migrate(conn)
    return conn


def describe_failure(exc: BaseException, path: str = "") -> str:
    """Why a database operation failed, in Portuguese, for logs, `/healthz` and API errors.

    SQLite reports a full disk as "disk I/O error" when the write-ahead log cannot grow:
    with the database's `path`, such an error on a disk without room says so."""
    text = str(exc).lower()
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
    """
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
    existing database files for writing without changing them.
    """
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
