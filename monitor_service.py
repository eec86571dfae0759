"""Entry point of the mass-outage monitor.

    python monitor_service.py                 serve HTTP on HOST:PORT and poll in the background
    python monitor_service.py --once          run exactly one poll cycle and exit
    python monitor_service.py --check-config  list every configuration problem
    python monitor_service.py --demo          a simulated ISP and the app wired to it
    python monitor_service.py --copy-database postgresql://...
                                              copy the SQLite database into PostgreSQL and exit
    gunicorn -c gunicorn.conf.py monitor_service:app

The work is in `outage.process`. Nothing starts at import time: `app` is built on first
access (for gunicorn), and the background poller is started by `main()` or by gunicorn's
`post_worker_init` hook.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from outage import process


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Monitor de quedas em massa (PPPoE/IXCSoft)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--once", action="store_true", help="executa um único ciclo e sai")
    mode.add_argument("--check-config", action="store_true", help="valida a configuração e sai")
    mode.add_argument("--demo", action="store_true", help="demonstração com um ISP simulado (sem ERP/OLT)")
    mode.add_argument(
        "--copy-database",
        metavar="postgresql://...",
        help="copia o banco SQLite (DATABASE_PATH) para um banco PostgreSQL vazio e sai",
    )
    parser.add_argument("--port", type=int, default=None, help="porta HTTP da demonstração (padrão: livre)")
    parser.add_argument(
        "--sem-incidentes",
        action="store_true",
        help="demonstração só com o rompimento inicial e a rotatividade: incidentes só sob comando",
    )
    args = parser.parse_args(argv)
    if args.demo:
        from simulator.demo import run_demo

        return run_demo(process.serve, port=args.port, random_incidents=not args.sem_incidentes)
    if args.copy_database:
        return process.copy_database(args.copy_database)
    return process.run(once=args.once, check_only=args.check_config)


def __getattr__(name: str) -> Any:
    """Build `app` lazily, so importing this module starts nothing (PEP 562)."""
    if name == "app":
        application = process.build_app()
        globals()["app"] = application
        return application
    raise AttributeError(name)


if __name__ == "__main__":
    sys.exit(main())
