"""The monitor's process, behind the entry files (`monitor_service.py`, `hsm_dispatch.py`).

The settings checked at start (every problem listed), the WSGI app for gunicorn, the HTTP
server, one poll cycle (`--once`), the copy of the SQLite database into PostgreSQL
(`--copy-database`), and the background service (poller and sender), started by the entry
point or by gunicorn's `post_worker_init` hook, never at import.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from types import FrameType
from typing import Any

from flask import Flask

from outage.adapters import erp
from outage.adapters.channels import registry
from outage.config import ConfigError, Settings, load_dotenv_file, load_settings
from outage.db import write_access_problem
from outage.logs import setup_logging
from outage.web.app import create_app

log = logging.getLogger("monitor_service")  # the name its log lines have always carried

ONCE_DELIVERY_WAIT = 30.0
_service: Any = None


def load_checked_settings(*, demo: bool = False) -> Settings:
    """Settings from `.env` and the environment; `ConfigError` listing every problem."""
    load_dotenv_file()
    settings, problems = load_settings(demo=demo, channels=registry.CHANNELS, erps=erp.ERPS)
    problems += _inventory_problems(settings)
    if problems:
        raise ConfigError(problems, settings.notes)
    return settings


def _inventory_problems(settings: Settings) -> list[str]:
    """Problems only the cause analysis can see: those of the OLT inventory file."""
    import os

    try:
        from outage.adapters.cause import validate_inventory
    except ImportError:
        return []
    return list(validate_inventory(settings, os.environ))


def print_problems(problems: Sequence[str], notes: Sequence[str] = ()) -> None:
    print("Configuração inválida — corrija e tente de novo:", file=sys.stderr)
    for problem in problems:
        print(f"  - {problem}", file=sys.stderr)
    if notes:
        print("Como a configuração foi lida:", file=sys.stderr)
        for note in notes:
            print(f"  - {note}", file=sys.stderr)


def build_app() -> Flask:
    """The WSGI app for gunicorn (`monitor_service:app`); refuses bad configuration."""
    settings = settings_or_exit()
    setup_logging(settings.log_dir, settings.log_level)
    _warn_about(settings)
    return create_app(settings)


def settings_or_exit() -> Settings:
    """The checked settings, or the process ends: exit 2 listing every configuration problem,
    exit 1 when the database cannot be written (gunicorn's master and each worker use it)."""
    try:
        settings = load_checked_settings()
    except ConfigError as exc:
        print_problems(exc.problems, exc.notes)
        raise SystemExit(2) from exc
    problem = write_access_problem(settings.database)
    if problem:
        print(f"Erro: {problem}", file=sys.stderr)
        raise SystemExit(1)
    return settings


def _warn_about(settings: Settings) -> None:
    log.info(
        "dados de clientes (/api/*, histórico e CSV, /metrics, /eventos/<id> e os detalhes de /healthz)"
        " exigem login no painel ou Authorization: Bearer <token>"
    )
    if not settings.api_token:
        log.warning(
            "MONITOR_API_TOKEN não definido: só GET /eventos/ativos e GET /eventos ficam abertos"
            " para leitura sem login, como no sistema original"
        )
    if settings.trusted_proxies:
        log.info("proxy reverso confiável (X-Forwarded-*): %s", ", ".join(settings.trusted_proxies))
    for note in (*settings.notes, *configuration_warnings(settings)):
        log.warning("%s", note)


def configuration_warnings(settings: Settings) -> list[str]:
    """What a valid configuration still leaves off or half done, each with its fix."""
    from outage import checks

    return checks.warnings(settings)


def check_config(settings: Settings) -> int:
    """`--check-config` on valid settings: the notes and warnings; 1 if the database cannot be written."""
    print("Configuração válida.")
    for note in settings.notes:
        print(f"  - {note}")
    warnings = configuration_warnings(settings)
    if warnings:
        print("Avisos (o monitor sobe assim, mas):")
        for warning in warnings:
            print(f"  - {warning}")
    problem = write_access_problem(settings.database)
    if problem:
        print(f"Erro: {problem}", file=sys.stderr)
        return 1
    return 0


def bind_address(host: str, port: int) -> str:
    """`HOST:PORT` as servers write it (an IPv6 address in brackets: `[::1]:5010`)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def start_background(app: Flask) -> Any:
    """Start this process's poller/sender threads (one per process; a DB lease picks the leader)."""
    global _service
    from outage.service import Service

    if _service is None:
        _service = Service(app.config["SETTINGS"])
        app.config["LEASE_HOLDER"] = _service.holder
        _service.start()
    return _service


def stop_background() -> None:
    global _service
    if _service is not None:
        _service.stop()
        _service = None


def run_once(settings: Settings, clock: Callable[[], float] = time.time) -> int:
    """One cycle at `clock()`, its alerts delivered (bounded wait); 0 on success, 1 if it failed."""
    from outage import lease
    from outage.db import open_database
    from outage.monitor import CycleFailed
    from outage.service import build_monitor, build_sender
    from outage.storage import cycles

    conn = open_database(settings.database)
    holder = lease.new_holder_id(settings.instance_name)
    if not cycles.take_lease(conn, holder, time.time(), ONCE_DELIVERY_WAIT + settings.erp_timeout * 4 + 60):
        held = cycles.read_lease(conn)
        who = held[0] if held is not None else "?"
        print(f"Erro: outro processo está monitorando agora ({who}); tente mais tarde.", file=sys.stderr)
        return 1
    try:
        monitor = build_monitor(settings, holder, fenced=True, clock=clock)
        try:
            result = monitor.run_cycle(conn)
        except CycleFailed as exc:
            print(f"Erro: o ciclo não pôde ser concluído: {exc}", file=sys.stderr)
            return 1
        stats = build_sender(settings, holder).deliver_due(max_wait=ONCE_DELIVERY_WAIT)
        print(
            f"{result.summary()}; alertas: {stats.sent} enviados, {stats.retried} a repetir,"
            f" {stats.failed} com falha"
        )
        return 0
    finally:
        cycles.release_lease(conn, holder)
        conn.close()


def copy_database(target_url: str, clock: Callable[[], float] = time.time) -> int:
    """`--copy-database`: copy the SQLite database at DATABASE_PATH into the empty PostgreSQL
    database at `target_url` (`outage.storage.copy`) and print what was copied; 0 when copied,
    1 when refused (the reason on stderr). Only DATABASE_PATH of the settings is used, so the
    rest of the configuration need not be valid yet."""
    from outage.adapters.channels.messages import br_number, plural
    from outage.storage import copy

    load_dotenv_file()
    settings, _ = load_settings(channels=registry.CHANNELS, erps=erp.ERPS)
    print(f"Copiando {settings.database_path} para {copy.masked(target_url)}...")
    try:
        result = copy.copy_database(settings.database_path, target_url, clock())
    except copy.CopyRefused as exc:
        print(f"Erro: {exc}", file=sys.stderr)
        return 1
    width = max(len(name) for name, _ in result.tables)
    for name, rows in result.tables:
        print(f"  {name:<{width}}  {plural(rows, 'linha', 'linhas')}")
    seconds = f"{result.seconds:.1f}".replace(".", ",")
    speed = br_number(result.rows / result.seconds) if result.seconds > 0 else "—"
    print(
        f"Cópia concluída: {plural(result.rows, 'linha', 'linhas')} em"
        f" {plural(len(result.tables), 'tabela', 'tabelas')}, {seconds} s ({speed} linhas/s);"
        " as contagens conferem e os ids novos continuam depois dos copiados."
    )
    return 0


def serve(settings: Settings) -> int:
    """Serve HTTP with werkzeug's threaded server and poll in the background until a signal."""
    from werkzeug.serving import make_server

    app = create_app(settings)
    server = make_server(settings.host, settings.port, app, threaded=True)
    start_background(app)

    def shutdown(signum: int, frame: FrameType | None) -> None:
        log.info("sinal %d recebido: encerrando", signum)
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    log.info("servindo em http://%s", bind_address(settings.host, settings.port))
    try:
        server.serve_forever()
    finally:
        stop_background()
        server.server_close()
    return 0


def run(*, once: bool = False, check_only: bool = False) -> int:
    """The exit status of `python monitor_service.py`: serve, one cycle (`once`), or only
    check the configuration (`check_only`)."""
    try:
        settings = load_checked_settings()
    except ConfigError as exc:
        print_problems(exc.problems, exc.notes)
        return 2
    if check_only:
        return check_config(settings)
    problem = write_access_problem(settings.database)
    if problem:
        print(f"Erro: {problem}", file=sys.stderr)
        return 1
    setup_logging(settings.log_dir, settings.log_level)
    _warn_about(settings)
    if once:
        return run_once(settings)
    return serve(settings)
