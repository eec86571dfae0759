"""gunicorn settings: `gunicorn -c gunicorn.conf.py monitor_service:app`.

Every worker starts the background service after it boots; a lease in the database lets
exactly one of them poll and send alerts at a time (another takes over if it dies).
"""

from __future__ import annotations

import os
from typing import Any

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '5010')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread"
timeout = 60
graceful_timeout = 20
accesslog = None
errorlog = "-"
preload_app = False  # each worker builds its own app (and SQLite connections) after the fork


def post_worker_init(worker: Any) -> None:
    import monitor_service

    monitor_service.start_background(worker.wsgi)


def worker_exit(server: Any, worker: Any) -> None:
    import monitor_service

    monitor_service.stop_background()
