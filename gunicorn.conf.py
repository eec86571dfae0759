"""gunicorn settings: `gunicorn -c gunicorn.conf.py monitor_service:app`.

Read from `.env` and the environment exactly as `python monitor_service.py` reads them
(`HOST`, `PORT`, `WEB_CONCURRENCY`, `GUNICORN_THREADS`, `LOG_LEVEL`): the master checks the
whole configuration before it binds, so a bad one ends here listing every problem.

Every worker starts the background service after it boots; a lease in the database lets
exactly one of them poll and send alerts at a time (another takes over if it dies).

Forwarded headers are the app's business (`TRUSTED_PROXIES`): gunicorn's own handling of
`X-Forwarded-Proto` is off, so one list decides.
"""

from __future__ import annotations

from typing import Any

from outage import process

_settings = process.settings_or_exit()

bind = process.bind_address(_settings.host, _settings.port)
workers = _settings.web_concurrency
threads = _settings.gunicorn_threads
loglevel = _settings.log_level.lower()
worker_class = "gthread"
timeout = 60
graceful_timeout = 20
accesslog = None
errorlog = "-"
secure_scheme_headers: dict[str, str] = {}
preload_app = False  # each worker builds its own app (and SQLite connections) after the fork


def post_worker_init(worker: Any) -> None:
    process.start_background(worker.wsgi)


def worker_exit(server: Any, worker: Any) -> None:
    process.stop_background()
