"""The application factory: builds the Flask app; starts nothing by itself."""

from __future__ import annotations

import logging
import secrets
import time
from typing import Any

from flask import Flask, request
from werkzeug.exceptions import HTTPException

from outage import api, metrics
from outage.config import Settings
from outage.db import open_database
from outage.http import register_secret

log = logging.getLogger(__name__)

API_PREFIXES = ("/eventos", "/api/", "/healthz", "/metrics")


def create_app(settings: Settings) -> Flask:
    """Build the app for validated `settings`: migrate the database, register blueprints."""
    app = Flask(__name__, root_path=_project_root(), template_folder="templates", static_folder="static")
    app.config.update(
        SETTINGS=settings,
        SECRET_KEY=settings.secret_key or secrets.token_hex(32),  # demo/development only: per process
        STARTED_AT=time.time(),
        JSON_SORT_KEYS=False,
        MAX_CONTENT_LENGTH=1_000_000,
    )
    for secret in (settings.api_token, settings.secret_key, settings.ixc_token, settings.telegram_bot_token):
        register_secret(secret)
    for secret in (settings.whatsapp_token, settings.token_hsm, settings.api_pass, settings.admin_password):
        register_secret(secret)
    open_database(settings.database_path).close()
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.register_blueprint(api.bp)
    from hsm_dispatch import bp as hsm_bp

    app.register_blueprint(hsm_bp)
    app.register_blueprint(metrics.bp)
    _install_dashboard(app)
    if settings.demo:
        from outage import demo

        app.register_blueprint(demo.bp)
    app.teardown_appcontext(api.close_db)
    _install_outbox_health(app)
    app.register_error_handler(HTTPException, _error_page)
    app.register_error_handler(Exception, _unexpected)
    return app


def _install_dashboard(app: Flask) -> None:
    """Login, roles, CSRF, security headers and the pages (`outage.auth`, `outage.dashboard`)."""
    from outage import dashboard
    from outage.auth import init_auth

    init_auth(app)
    app.register_blueprint(dashboard.bp)


def _project_root() -> str:
    from pathlib import Path

    return str(Path(__file__).resolve().parent.parent)


def _install_outbox_health(app: Flask) -> None:
    try:
        from outage.alerts.health import outbox_health
    except ImportError:
        return
    app.config["OUTBOX_HEALTH"] = outbox_health


def _wants_json() -> bool:
    return request.path.startswith(API_PREFIXES) or request.accept_mimetypes.best == "application/json"


def _error_page(exc: HTTPException) -> Any:
    if _wants_json():
        return api.json_error_handler(exc)
    return exc


def _unexpected(exc: Exception) -> Any:
    log.exception("erro inesperado em %s %s", request.method, request.path)
    if _wants_json():
        return api.error("erro interno: o incidente foi registrado no log", 500)
    return "Erro interno", 500
