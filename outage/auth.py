"""Accounts and protection for the dashboard and the API.

- Users live in SQLite (`users`), passwords hashed with `werkzeug.security`; roles
  `leitura` < `operador` < `admin`. The first admin comes from `ADMIN_USERNAME` /
  `ADMIN_PASSWORD` at start-up; `flask --app monitor_service usuarios ...` manages the rest.
- Browser: a signed session cookie (HttpOnly, SameSite=Lax, Secure per
  `SESSION_COOKIE_SECURE`: `auto` = production outside the demo) holds the user name, a
  stamp of the password hash (changing a password ends the other sessions) and a CSRF
  token. Every POST/PUT/PATCH/DELETE from a logged-in browser (and the login form itself)
  must carry that token in `X-CSRF-Token` or the form field `csrf_token`.
- API clients send `Authorization: Bearer <API_TOKEN>` (admin-equivalent, no CSRF).
- `init_auth(app)` installs all of it and sets `app.config["AUTH_CHECK"]`, the function
  `outage.api.requires(role)` calls.
- Failed logins are counted in SQLite per user name and per address: after
  `LOGIN_MAX_FAILURES` (5) in `LOGIN_WINDOW` seconds, login answers 429 until they age out.
"""

from __future__ import annotations

import hmac
import logging
import re
import secrets
import sqlite3
import sys
import time
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlparse

import click
from flask import (
    Blueprint,
    Flask,
    Response,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.cli import AppGroup
from werkzeug.security import check_password_hash, generate_password_hash

from outage.api import bearer_ok, error, get_db, settings
from outage.config import Settings
from outage.db import open_database, transaction

log = logging.getLogger(__name__)

ROLES = ("leitura", "operador", "admin")
MIN_PASSWORD = 8
LOGIN_WINDOW = 900.0
SESSION_LIFETIME = 12 * 3600
CSRF_HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_USERNAME = re.compile(r"^[a-zA-Z0-9_.@-]{2,64}$")

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)

bp = Blueprint("auth", __name__)


class UserError(ValueError):
    """A user operation refused, with the reason in Portuguese."""


@dataclass(frozen=True)
class User:
    username: str
    role: str
    password_hash: str
    created_at: float
    last_login_at: float | None

    @property
    def stamp(self) -> str:
        """Changes when the password changes: sessions made before it stop working."""
        return self.password_hash[-12:]


def role_rank(role: str) -> int:
    """0 for `leitura`, 1 `operador`, 2 `admin`; -1 for anything else."""
    return ROLES.index(role) if role in ROLES else -1


# --- users in SQLite ------------------------------------------------------------------


def get_user(conn: sqlite3.Connection, username: str) -> User | None:
    row = conn.execute(
        "SELECT username, role, password_hash, created_at, last_login_at FROM users WHERE username = ?",
        (username,),
    ).fetchone()
    return User(*row) if row is not None else None


def list_users(conn: sqlite3.Connection) -> list[User]:
    rows = conn.execute(
        "SELECT username, role, password_hash, created_at, last_login_at FROM users ORDER BY username"
    ).fetchall()
    return [User(*row) for row in rows]


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"senha muito curta: use ao menos {MIN_PASSWORD} caracteres")


def create_user(conn: sqlite3.Connection, username: str, password: str, role: str, now: float) -> User:
    """Add a user; `UserError` for a bad name, short password, unknown role or duplicate."""
    if not _USERNAME.match(username):
        raise UserError("nome de usuário inválido: use 2 a 64 letras, números, ponto, _, - ou @")
    if role not in ROLES:
        raise UserError(f"papel inválido: use {', '.join(ROLES)}")
    _check_password(password)
    try:
        with transaction(conn):
            conn.execute(
                "INSERT INTO users (username, password_hash, role, created_at) VALUES (?, ?, ?, ?)",
                (username, generate_password_hash(password), role, now),
            )
    except sqlite3.IntegrityError as exc:
        raise UserError(f"usuário {username} já existe") from exc
    user = get_user(conn, username)
    assert user is not None
    return user


def set_password(conn: sqlite3.Connection, username: str, password: str) -> None:
    _check_password(password)
    with transaction(conn):
        changed = conn.execute(
            "UPDATE users SET password_hash = ? WHERE username = ?",
            (generate_password_hash(password), username),
        ).rowcount
    if not changed:
        raise UserError(f"usuário {username} não existe")


def remove_user(conn: sqlite3.Connection, username: str) -> None:
    with transaction(conn):
        if not conn.execute("DELETE FROM users WHERE username = ?", (username,)).rowcount:
            raise UserError(f"usuário {username} não existe")


def authenticate(conn: sqlite3.Connection, username: str, password: str) -> User | None:
    """The user when the password matches (constant work either way), else None."""
    user = get_user(conn, username)
    if user is None:
        check_password_hash(_DUMMY_HASH, password)  # same cost as a real check: no user enumeration
        return None
    return user if check_password_hash(user.password_hash, password) else None


_DUMMY_HASH = generate_password_hash("senha-que-ninguem-usa")


def ensure_first_admin(conn: sqlite3.Connection, s: Settings, now: float) -> bool:
    """Create the `ADMIN_USERNAME` admin when set and missing; True when created."""
    if not s.admin_username or not s.admin_password or get_user(conn, s.admin_username) is not None:
        return False
    create_user(conn, s.admin_username, s.admin_password, "admin", now)
    log.info("administrador inicial %s criado a partir de ADMIN_USERNAME", s.admin_username)
    return True


# --- login rate limiting --------------------------------------------------------------


def _failure_keys(username: str, address: str) -> tuple[str, str]:
    return f"usuario:{username.lower()}", f"ip:{address}"


def login_blocked(conn: sqlite3.Connection, username: str, address: str, now: float, limit: int) -> bool:
    """True while the name or the address has `limit` failures in the last `LOGIN_WINDOW`."""
    for key in _failure_keys(username, address):
        count = conn.execute(
            "SELECT COUNT(*) FROM login_failures WHERE key = ? AND at > ?", (key, now - LOGIN_WINDOW)
        ).fetchone()[0]
        if count >= limit:
            return True
    return False


def record_failure(conn: sqlite3.Connection, username: str, address: str, now: float) -> None:
    with transaction(conn):
        conn.execute("DELETE FROM login_failures WHERE at <= ?", (now - LOGIN_WINDOW,))
        conn.executemany(
            "INSERT INTO login_failures (key, at) VALUES (?, ?)",
            [(key, now) for key in _failure_keys(username, address)],
        )


def clear_failures(conn: sqlite3.Connection, username: str) -> None:
    with transaction(conn):
        conn.execute("DELETE FROM login_failures WHERE key = ?", (_failure_keys(username, "")[0],))


# --- the session ----------------------------------------------------------------------


def session_user() -> User | None:
    """The logged-in user of this request (checked against the database once per request)."""
    if "session_user" in g:
        return cast("User | None", g.session_user)
    user = None
    name = session.get("user")
    if name:
        found = get_user(get_db(), str(name))
        if found is not None and hmac.compare_digest(found.stamp, str(session.get("stamp", ""))):
            user = found
    g.session_user = user
    return user


def csrf_token() -> str:
    """This session's CSRF token (created on first use)."""
    token = session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return str(token)


def _csrf_ok() -> bool:
    sent = request.headers.get(CSRF_HEADER) or request.form.get("csrf_token", "")
    expected = session.get("csrf", "")
    return bool(sent) and bool(expected) and hmac.compare_digest(str(sent), str(expected))


def _has_bearer() -> bool:
    return request.headers.get("Authorization", "").lower().startswith("bearer ")


def check(role: str) -> Response | tuple[Response, int] | None:
    """What `outage.api.requires(role)` asks: None to let the request in, else the refusal.

    Bearer `API_TOKEN` → `g.user = "api"`, any role. A logged-in session with at least
    `role` → `g.user = <name>`; below it → 403. Nobody: `leitura` routes stay open while
    `API_TOKEN` is empty (as in the seed); everything else → 401.
    """
    if _has_bearer():
        if bearer_ok():
            g.user = "api"
            return None
        return error("token inválido: confira o API_TOKEN enviado em Authorization: Bearer", 401)
    user = session_user()
    if user is not None:
        if role_rank(user.role) < role_rank(role):
            return error(f"acesso negado: requer o papel {role} (você é {user.role})", 403)
        g.user = user.username
        return None
    if role == "leitura" and not settings().api_token:
        return None
    return error("autenticação necessária: entre no painel ou envie Authorization: Bearer <API_TOKEN>", 401)


def _protect_csrf() -> Response | tuple[Response, int] | tuple[str, int] | None:
    """Refuse a state-changing browser request without the session's CSRF token."""
    if request.method not in UNSAFE_METHODS or (_has_bearer() and bearer_ok()):
        return None
    if not session.get("user") and request.endpoint != "auth.login":
        return None  # no session to abuse: the route's own check answers 401
    if _csrf_ok():
        return None
    if request.endpoint == "auth.login":
        return _login_page("Sessão expirada: tente entrar de novo.", 400)
    return error("token CSRF ausente ou inválido: recarregue a página", 403)


def _security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.endpoint not in (None, "static"):
        headers.setdefault("Cache-Control", "no-store")
    return response


def cookie_secure(s: Settings) -> bool:
    """`SESSION_COOKIE_SECURE`: true/false, or `auto` = production and not the demo."""
    value = s.session_cookie_secure
    if value in {"1", "true", "sim", "yes", "on"}:
        return True
    if value in {"0", "false", "nao", "não", "no", "off"}:
        return False
    return s.app_env == "production" and not s.demo


# --- routes ---------------------------------------------------------------------------


def _safe_next(target: str | None) -> str:
    """Only same-site paths: never redirect a login to another host."""
    if target and target.startswith("/") and not target.startswith("//") and not urlparse(target).netloc:
        return target
    return url_for("dashboard.index")


def _login_page(message: str = "", status: int = 200) -> tuple[str, int]:
    no_users = not get_db().execute("SELECT 1 FROM users LIMIT 1").fetchone()
    html = render_template(
        "login.html",
        erro=message,
        sem_usuarios=no_users,
        proximo=_safe_next(request.values.get("proximo")),
        username=request.form.get("usuario", ""),
    )
    return html, status


@bp.route("/entrar", methods=["GET", "POST"])
def login() -> Any:
    if request.method == "GET":
        if session_user() is not None:
            return redirect(_safe_next(request.args.get("proximo")))
        return _login_page()
    username = request.form.get("usuario", "").strip()
    password = request.form.get("senha", "")
    address = request.remote_addr or "?"
    conn, now = get_db(), time.time()
    if login_blocked(conn, username, address, now, settings().login_max_failures):
        log.warning("login bloqueado temporariamente para %s (endereço %s)", username, address)
        return _login_page("Muitas tentativas: aguarde alguns minutos e tente de novo.", 429)
    user = authenticate(conn, username, password)
    if user is None:
        record_failure(conn, username, address, now)
        log.info("falha de login para %r de %s", username, address)
        return _login_page("Usuário ou senha incorretos.", 401)
    clear_failures(conn, username)
    with transaction(conn):
        conn.execute("UPDATE users SET last_login_at = ? WHERE username = ?", (now, user.username))
    session.clear()
    session.permanent = True
    session.update(user=user.username, stamp=user.stamp, csrf=secrets.token_urlsafe(32))
    log.info("usuário %s entrou (%s)", user.username, user.role)
    return redirect(_safe_next(request.form.get("proximo")))


@bp.post("/sair")
def logout() -> Any:
    name = session.get("user")
    session.clear()
    if name:
        log.info("usuário %s saiu", name)
    return redirect(url_for("auth.login"))


# --- CLI ------------------------------------------------------------------------------

users_cli = AppGroup("usuarios", help="Gerencia os usuários do painel.")


def _cli_db() -> sqlite3.Connection:
    return open_database(settings().database_path)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(click.prompt("Senha", hide_input=True, confirmation_prompt="Repita a senha"))


def _run(action: Any) -> None:
    try:
        action()
    except UserError as exc:
        raise click.ClickException(str(exc)) from exc


@users_cli.command("criar")
@click.argument("usuario")
@click.option("--papel", type=click.Choice(ROLES), default="leitura", show_default=True)
@click.option("--senha-stdin", is_flag=True, help="lê a senha da entrada padrão (para scripts)")
def cli_create(usuario: str, papel: str, senha_stdin: bool) -> None:
    """Cria USUARIO com o papel dado (a senha é pedida sem eco)."""
    password = _read_password(senha_stdin)
    _run(lambda: create_user(_cli_db(), usuario, password, papel, time.time()))
    click.echo(f"Usuário {usuario} criado ({papel}).")


@users_cli.command("listar")
def cli_list() -> None:
    """Lista os usuários e seus papéis."""
    users = list_users(_cli_db())
    if not users:
        click.echo("Nenhum usuário cadastrado.")
    for user in users:
        last = (
            time.strftime("%Y-%m-%d %H:%M", time.localtime(user.last_login_at)) if user.last_login_at else "-"
        )
        click.echo(f"{user.username}\t{user.role}\túltimo acesso: {last}")


@users_cli.command("remover")
@click.argument("usuario")
def cli_remove(usuario: str) -> None:
    """Remove USUARIO (as sessões dele deixam de valer)."""
    _run(lambda: remove_user(_cli_db(), usuario))
    click.echo(f"Usuário {usuario} removido.")


@users_cli.command("senha")
@click.argument("usuario")
@click.option("--senha-stdin", is_flag=True, help="lê a senha da entrada padrão (para scripts)")
def cli_password(usuario: str, senha_stdin: bool) -> None:
    """Troca a senha de USUARIO (encerra as sessões abertas dele)."""
    password = _read_password(senha_stdin)
    _run(lambda: set_password(_cli_db(), usuario, password))
    click.echo(f"Senha de {usuario} alterada.")


# --- installation ---------------------------------------------------------------------


def init_auth(app: Flask) -> None:
    """Install sessions, CSRF, security headers, login routes, the CLI and the first admin."""
    s: Settings = app.config["SETTINGS"]
    app.config.update(
        SESSION_COOKIE_NAME="painel_sessao",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=cookie_secure(s),
        PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME,
        AUTH_CHECK=check,
    )
    conn = open_database(s.database_path)  # the users tables come with migration 0004
    try:
        ensure_first_admin(conn, s, time.time())
    finally:
        conn.close()
    app.register_blueprint(bp)
    app.before_request(_protect_csrf)
    app.after_request(_security_headers)
    app.context_processor(lambda: {"csrf_token": csrf_token, "usuario_atual": session_user()})
    app.cli.add_command(users_cli)
