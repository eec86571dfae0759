"""The application factory: builds the Flask app; starts nothing by itself."""

from __future__ import annotations

import secrets

from flask import Flask

from outage.adapters import erp
from outage.adapters.channels import registry as channels
from outage.clock import SYSTEM_CLOCK, Clock
from outage.config import Settings
from outage.db import open_database
from outage.http import register_secret
from outage.web import api, metrics, whatsapp_webhook
from outage.web.proxies import TrustedProxies


def create_app(settings: Settings, *, clock: Clock = SYSTEM_CLOCK) -> Flask:
    """Build the app for validated `settings`: migrate the database, register blueprints."""
    app = Flask(__name__, root_path=_project_root(), template_folder="templates", static_folder="static")
    app.json = api.LimitedJSONProvider(app)
    app.wsgi_app = TrustedProxies(app.wsgi_app, settings.trusted_proxies)  # type: ignore[method-assign]
    app.config.update(
        SETTINGS=settings,
        SECRET_KEY=settings.secret_key or secrets.token_hex(32),  # demo/development only: per process
        CLOCK=clock,
        STARTED_MONO=clock.monotonic(),
        MAX_CONTENT_LENGTH=api.MAX_BODY_BYTES,
    )
    for secret in (settings.api_token, settings.secret_key, settings.api_pass, settings.admin_password):
        register_secret(secret)
    for secret in (*erp.secrets(settings), *channels.secrets(settings)):
        register_secret(secret)
    open_database(settings.database).close()
    app.register_blueprint(api.bp)
    from outage.web.hsm_console import bp as hsm_bp

    app.register_blueprint(hsm_bp)
    app.register_blueprint(metrics.bp)
    app.register_blueprint(whatsapp_webhook.bp)
    _install_dashboard(app)
    if settings.demo:
        from outage.web import demo

        app.register_blueprint(demo.bp)
    app.teardown_appcontext(api.close_db)
    _install_outbox_health(app)
    api.install_error_handlers(app)
    return app


def _install_dashboard(app: Flask) -> None:
    """Login, roles, CSRF, security headers and the pages (`outage.web.auth`, `outage.web.dashboard`)."""
    from outage.web import dashboard
    from outage.web.auth import init_auth

    init_auth(app)
    app.register_blueprint(dashboard.bp)


def _project_root() -> str:
    from pathlib import Path

    return str(Path(__file__).resolve().parents[2])


def _install_outbox_health(app: Flask) -> None:
    try:
        from outage.alerts.health import outbox_health
    except ImportError:
        return
    app.config["OUTBOX_HEALTH"] = outbox_health
