"""A throwaway PostgreSQL server for tests and benchmarks: `initdb` in a temporary folder, a free port on
127.0.0.1, no fsync; stopped and removed at the end.

The server binaries are Debian's (`apt-get install postgresql`: `/usr/lib/postgresql/<n>/bin`,
the newest version found), else the `pg_ctl` on PATH. PostgreSQL refuses to run as root: as
root the server runs as the `postgres` system user the Debian package creates (`nobody`
without it), through `runuser`.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg

from simulator.ports import free_port

SERVER_USERS = ("postgres", "nobody")  # who runs the server when the tests run as root
SUPERUSER = "postgres"  # the database role initdb creates
START_TIMEOUT = 60  # seconds pg_ctl waits for the server to accept connections


class ClusterUnavailable(RuntimeError):
    """PostgreSQL did not start; the message says why, in the server's own words."""


def find_binaries() -> Path | None:
    """The folder holding initdb and pg_ctl, or None when PostgreSQL is not installed."""
    debian = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    if debian:
        return debian[-1].parent
    on_path = shutil.which("pg_ctl")
    return Path(on_path).resolve().parent if on_path else None


class Cluster:
    """One PostgreSQL server in its own folder: `start()`, then `url()`, then `stop()`.

    `durable`: the server's own defaults (every commit flushed to disk), as an installation
    runs it, for benchmarks; otherwise nothing is flushed (tests throw the data away)."""

    def __init__(self, bindir: Path, *, durable: bool = False) -> None:
        self.bindir = bindir
        self.durable = durable
        self.root = Path(tempfile.mkdtemp(prefix="outage-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self._as_user: list[str] = []

    def start(self) -> None:
        """initdb, then start the server; raises ClusterUnavailable with the server's words."""
        self._prepare_owner()
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            SUPERUSER,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
        if not self.durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        log = self.root / "server.log"
        try:
            self._run(
                "pg_ctl",
                "-D",
                str(self.data),
                "-o",
                options,
                "-l",
                str(log),
                "-w",
                "-t",
                str(START_TIMEOUT),
                "start",
            )
        except ClusterUnavailable as exc:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise ClusterUnavailable(f"{exc}\n{tail}") from None

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """Create an empty database with a fresh name; returns its URL."""
        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url(), autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def drop_database(self, url: str) -> None:
        """Drop the database at `url` (made by `new_database`), closing its connections."""
        name = url.rsplit("/", 1)[1]
        with psycopg.connect(self.url(), autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def stop(self) -> None:
        """Stop at once (no checkpoint: the data is thrown away) and remove the folder."""
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(ClusterUnavailable):
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def _prepare_owner(self) -> None:
        self.root.chmod(0o755)
        if os.geteuid() != 0:
            return
        for name in SERVER_USERS:
            with contextlib.suppress(KeyError):
                user = pwd.getpwnam(name)
                os.chown(self.root, user.pw_uid, user.pw_gid)
                self._as_user = ["runuser", "-u", name, "--"]
                return
        raise ClusterUnavailable(f"rodando como root sem nenhum dos usuários {SERVER_USERS} para o servidor")

    def _run(self, program: str, *args: str) -> None:
        command = [*self._as_user, str(self.bindir / program), *args]
        done = subprocess.run(
            command, capture_output=True, text=True, cwd=self.root, timeout=START_TIMEOUT + 30
        )
        if done.returncode != 0:
            raise ClusterUnavailable(
                f"{program} falhou ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}"
            )


NOT_INSTALLED = "PostgreSQL não instalado (initdb/pg_ctl ausentes; apt-get install postgresql)"


@contextlib.contextmanager
def throwaway_cluster(*, durable: bool = False) -> Iterator[Cluster]:
    """A running throwaway server for the block (stopped and removed after it); raises
    ClusterUnavailable, saying why, when PostgreSQL is not installed or does not start."""
    bindir = find_binaries()
    if bindir is None:
        raise ClusterUnavailable(NOT_INSTALLED)
    cluster = start_cluster(bindir, durable=durable)
    try:
        yield cluster
    finally:
        cluster.stop()


def start_cluster(bindir: Path, *, durable: bool = False) -> Cluster:
    """A running throwaway server from the binaries in `bindir`; raises ClusterUnavailable."""
    cluster = Cluster(bindir, durable=durable)
    try:
        cluster.start()
    except BaseException:
        cluster.stop()
        raise
    return cluster
