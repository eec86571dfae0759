"""Logging: stdout plus a rotating file, with secrets masked on every line."""

from __future__ import annotations

import logging
import sys
from logging.handlers import RotatingFileHandler
from pathlib import Path

from outage.http import redact

LOG_FILE = "monitor_service.log"
_FORMAT = "%(asctime)s %(levelname)s [%(threadName)s] %(name)s: %(message)s"


class RedactingFilter(logging.Filter):
    """Rewrites each record's message with `redact()` so no token or password is written."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def setup_logging(log_dir: str, level: str = "INFO") -> None:
    """Configure the root logger once (idempotent: handlers are replaced, not added)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_outage", False):
            root.removeHandler(handler)
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stdout)]
    try:
        Path(log_dir).mkdir(parents=True, exist_ok=True)
        handlers.append(RotatingFileHandler(Path(log_dir) / LOG_FILE, maxBytes=10_000_000, backupCount=5))
    except OSError as exc:
        print(
            f"aviso: o log não pode ser gravado em {log_dir} ({exc.strerror or exc}); seguindo só com a saída"
            " padrão. Dê a posse da pasta ao usuário que roda o serviço (no Docker, o entrypoint faz isso).",
            file=sys.stderr,
        )
    formatter = logging.Formatter(_FORMAT)
    for handler in handlers:
        handler.setFormatter(formatter)
        handler.addFilter(RedactingFilter())
        handler._outage = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("werkzeug", "urllib3", "paramiko", "netmiko", "alembic"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
