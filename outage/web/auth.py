"""Accounts and protection for the dashboard and the API.

- Users live in SQLite (`users`, stored by `outage.storage.users`), passwords hashed with `werkzeug.security`; roles
  `leitura` < `operador` < `admin`. The first admin comes from `ADMIN_USERNAME` /
  `ADMIN_PASSWORD` at start-up; `flask --app monitor_service usuarios ...` manages the rest.
- Browser sessions live on the server (`sessions`): the signed cookie (HttpOnly,
  SameSite=Lax, Secure per `SESSION_COOKIE_SECURE`: `auto` = production outside the demo)
  carries only a random token. Over plain HTTP a Secure cookie never comes back (except on
  localhost): the login page says so and what to do, never "session expired". Logout, a
  password change or removing the user deletes the row, so the old cookie stops working at
  once; a session idle for `SESSION_IDLE_MINUTES` ends too. Each session has its CSRF token: every POST/PUT/PATCH/DELETE from a logged-in
  browser (and the login form itself, with a token kept in the cookie before login) must
  carry it in `X-CSRF-Token` or the form field `csrf_token`.
- API clients send `Authorization: Bearer <token>` (admin-equivalent, no CSRF).
- Everything that shows a customer needs one of the two, always; only `monitor_service`'s
  read-only lists stay open while no API token is configured (`outage.web.api.requires`).
- Failed logins are throttled per user and address with growing delays
  (`outage.web.login_throttle`), never locking a user out of an address they logged in from;
  behind a reverse proxy the address is the client's when the proxy is in `TRUSTED_PROXIES`
  (`outage.web.proxies`).
- `init_auth(app)` installs all of it and sets `app.config["AUTH_CHECK"]`, the function
  `outage.web.api.requires(role)` calls.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import re
import secrets
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

from outage.clock import Clock
from outage.config import Settings
from outage.db import Connection, open_database
from outage.storage import users
from outage.storage.users import User
from outage.web import login_throttle
from outage.web.api import bearer_ok, clock, error, get_db, same_secret, settings
from outage.web.proxies import browser_scheme

log = logging.getLogger(__name__)

ROLES = ("leitura", "operador", "admin")
MIN_PASSWORD = 8
SESSION_TOUCH_EVERY = 60.0  # seconds between writes of a session's last activity
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


def role_rank(role: str) -> int:
    """0 for `leitura`, 1 `operador`, 2 `admin`; -1 for anything else."""
    return ROLES.index(role) if role in ROLES else -1


# --- users ---------------------------------------------------------------------------


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"senha muito curta: use ao menos {MIN_PASSWORD} caracteres")


def create_user(conn: Connection, username: str, password: str, role: str, now: float) -> User:
    """Add a user; `UserError` for a bad name, short password, unknown role or duplicate."""
    if not _USERNAME.match(username):
        raise UserError("nome de usuário inválido: use 2 a 64 letras, números, ponto, _, - ou @")
    if role not in ROLES:
        raise UserError(f"papel inválido: use {', '.join(ROLES)}")
    _check_password(password)
    if not users.add_user(conn, username, generate_password_hash(password), role, now):
        raise UserError(f"usuário {username} já existe")
    user = users.find_user(conn, username)
    assert user is not None
    return user


def set_password(conn: Connection, username: str, password: str) -> None:
    """Change the password and end every session of the user."""
    _check_password(password)
    if not users.replace_password(conn, username, generate_password_hash(password)):
        raise UserError(f"usuário {username} não existe")


def remove_user(conn: Connection, username: str) -> None:
    """Remove the user (its sessions and known addresses go with it)."""
    if not users.delete_user(conn, username):
        raise UserError(f"usuário {username} não existe")


def authenticate(conn: Connection, username: str, password: str) -> User | None:
    """The user when the password matches (constant work either way), else None."""
    user = users.find_user(conn, username)
    if user is None:
        check_password_hash(_DUMMY_HASH, password)  # same cost as a real check: no user enumeration
        return None
    return user if check_password_hash(user.password_hash, password) else None


_DUMMY_HASH = generate_password_hash("senha-que-ninguem-usa")


def ensure_first_admin(conn: Connection, s: Settings, now: float) -> bool:
    """Create the `ADMIN_USERNAME` admin when set and missing; True when created."""
    if not s.admin_username or not s.admin_password or users.find_user(conn, s.admin_username) is not None:
        return False
    create_user(conn, s.admin_username, s.admin_password, "admin", now)
    log.info("administrador inicial %s criado a partir de ADMIN_USERNAME", s.admin_username)
    return True


# --- server-side sessions -------------------------------------------------------------


@dataclass(frozen=True)
class Session:
    user: User
    csrf: str


def _session_id(token: str) -> str:
    """The row id of a cookie token (a database copy never holds a usable cookie)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


COOKIE_SLACK = 12 * 3600.0  # a wall clock that jumps ahead must not expire the cookie of a live session


def open_session(conn: Connection, username: str, address: str, now: float, idle: float) -> str:
    """Start a session for `username`; returns the token for the cookie. Sessions idle
    longer than `idle` seconds are swept on the way."""
    token = secrets.token_urlsafe(32)
    users.add_session(conn, _session_id(token), username, secrets.token_urlsafe(32), address, now, idle)
    return token


def find_session(
    conn: Connection, token: str, now: float, idle: float, watch: Clock | None = None
) -> Session | None:
    """The live session of `token`: None when unknown, ended, or idle longer than `idle`
    seconds (then it is deleted). Its activity is recorded at most every
    `SESSION_TOUCH_EVERY` seconds. With `watch`, idle time is measured on the monotonic clock
    of the boot the session was last seen in (a wall clock jump neither ends nor extends it);
    across a reboot, on the wall clock."""
    stored = users.find_session(conn, _session_id(token))
    if stored is None:
        return None
    mono = watch.monotonic() if watch is not None else None
    same_boot = watch is not None and stored.seen_mono is not None and watch.same_boot(stored.boot)
    idle_for = (mono or 0.0) - (stored.seen_mono or 0.0) if same_boot else now - stored.last_seen_at
    if idle_for > idle:
        end_session(conn, token)
        return None
    if idle_for > SESSION_TOUCH_EVERY or idle_for < 0 or (watch is not None and not same_boot):
        users.touch_session(conn, _session_id(token), now, mono, watch.boot_id if watch is not None else "")
    return Session(stored.user, stored.csrf)


def end_session(conn: Connection, token: str) -> None:
    users.delete_session(conn, _session_id(token))


def _idle_seconds() -> float:
    return settings().session_idle_minutes * 60.0


def current_session() -> Session | None:
    """This request's live session (looked up once per request)."""
    if "session_row" not in g:
        token = session.get("sid")
        found = None
        if isinstance(token, str) and token:
            found = find_session(get_db(), token, clock().wall(), _idle_seconds(), clock())
        g.session_row = found
    return cast("Session | None", g.session_row)


def session_user() -> User | None:
    """The logged-in user of this request, or None."""
    live = current_session()
    return live.user if live is not None else None


def csrf_token() -> str:
    """The CSRF token of this session; before login, one kept in the cookie for the form."""
    live = current_session()
    if live is not None:
        return live.csrf
    token = session.get("csrf")
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def _csrf_ok() -> bool:
    sent = request.headers.get(CSRF_HEADER) or request.form.get("csrf_token", "")
    live = current_session()
    expected = live.csrf if live is not None else session.get("csrf", "")
    return bool(sent) and isinstance(expected, str) and bool(expected) and same_secret(sent, expected)


def _has_bearer() -> bool:
    return request.headers.get("Authorization", "").lower().startswith("bearer ")


def check(role: str, *, open_without_token: bool = False) -> Response | tuple[Response, int] | None:
    """What `outage.web.api.requires(role)` asks: None to let the request in, else the refusal.

    A Bearer token → `g.user = "api"`, any role (a wrong one → 401). A live session with at
    least `role` → `g.user = <name>`; below it → 403. Nobody → 401, except on the routes
    marked `open_without_token` while no API token is configured (`monitor_service`'s lists).
    """
    if _has_bearer():
        if bearer_ok():
            g.user = "api"
            return None
        return error("token inválido: confira o token enviado em Authorization: Bearer", 401)
    user = session_user()
    if user is not None:
        if role_rank(user.role) < role_rank(role):
            return error(f"acesso negado: requer o papel {role} (você é {user.role})", 403)
        g.user = user.username
        return None
    if open_without_token and role == "leitura" and not settings().api_token:
        return None
    return error("autenticação necessária: entre no painel ou envie Authorization: Bearer <token>", 401)


def _protect_csrf() -> Response | tuple[Response, int] | tuple[str, int] | None:
    """Refuse a state-changing browser request without the session's CSRF token."""
    if request.method not in UNSAFE_METHODS or (_has_bearer() and bearer_ok()):
        return None
    if session_user() is None and request.endpoint != "auth.login":
        return None  # no live session to abuse: the route's own check answers 401
    if _csrf_ok():
        return None
    if request.endpoint == "auth.login":
        if _over_plain_http() and not session.get("csrf"):
            log.warning("login por HTTP recusado (%s): o cookie de sessão só volta por HTTPS", request.host)
            return _login_page(LOGIN_OVER_HTTP, 400)
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


HTTPS_NEEDED = (
    "Este endereço é HTTP, sem criptografia, e o painel em produção só mantém a sessão por HTTPS: o navegador "
    "não devolve o cookie seguro por HTTP. Acesse o painel pelo endereço https:// do proxy reverso (veja "
    "“Produção” no README) ou, só para um teste na rede local, defina APP_ENV=development no .env e reinicie."
)
LOGIN_OVER_HTTP = "Login recusado: " + HTTPS_NEEDED[0].lower() + HTTPS_NEEDED[1:]


def _over_plain_http() -> bool:
    """The browser is on plain HTTP while the session cookie is HTTPS-only."""
    return settings().https_only and browser_scheme(request.environ, request.scheme) != "https"


def _secure_cookie_kept() -> bool:
    """Browsers keep an HTTPS-only cookie on plain HTTP only for localhost."""
    host = urlparse(f"//{request.host}").hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# --- routes ---------------------------------------------------------------------------


def _safe_next(target: str | None) -> str:
    """Only same-site paths of printable characters: never redirect a login to another host,
    nor put a line break or a control character into a header."""
    printable = bool(target) and all(" " < ch != "\x7f" for ch in target or "") and "\\" not in (target or "")
    if (
        target
        and printable
        and target.startswith("/")
        and not target.startswith("//")
        and not urlparse(target).netloc
    ):
        return target
    return url_for("dashboard.index")


def _login_page(message: str = "", status: int = 200) -> tuple[str, int]:
    no_users = not users.any_user(get_db())
    html = render_template(
        "login.html",
        erro=message,
        sem_usuarios=no_users,
        proximo=_safe_next(request.values.get("proximo")),
        username=request.form.get("usuario", ""),
        aviso_http=HTTPS_NEEDED if not message and _over_plain_http() and not _secure_cookie_kept() else "",
    )
    return html, status


@bp.route("/entrar", methods=["GET", "POST"])
def login() -> Any:
    if request.method == "GET":
        if session_user() is not None:
            return redirect(_safe_next(request.args.get("proximo")))
        return _login_page()
    username = request.form.get("usuario", "").strip()[: login_throttle.MAX_NAME]
    password = request.form.get("senha", "")
    address = request.remote_addr or "?"
    conn, now, limit = get_db(), clock().wall(), settings().login_max_failures
    attempt = login_throttle.reserve(conn, username, address, now, limit)
    if attempt.wait > 0:
        log.warning(
            "login de %r a partir de %s adiado por %d s (tentativas demais)", username, address, attempt.wait
        )
        return _too_many_attempts(attempt.wait)
    user = authenticate(conn, username, password)
    if user is None:
        log.info("falha de login para %r de %s", username, address)
        return _login_page("Usuário ou senha incorretos.", 401)
    login_throttle.succeeded(conn, attempt, user.username, address, now, limit)
    users.record_login(conn, user.username, now)
    token = open_session(conn, user.username, address, now, _idle_seconds())
    session.clear()
    session.permanent = True
    session["sid"] = token
    log.info("usuário %s entrou (%s) de %s", user.username, user.role, address)
    return redirect(_safe_next(request.form.get("proximo")))


def _too_many_attempts(wait: float) -> tuple[str, int, dict[str, str]]:
    seconds = max(1, int(wait + 0.999))
    when = f"{seconds} s" if seconds < 120 else f"{(seconds + 59) // 60} min"
    html, status = _login_page(f"Muitas tentativas: aguarde {when} e tente de novo.", 429)
    return html, status, {"Retry-After": str(seconds)}


@bp.post("/sair")
def logout() -> Any:
    """End the session on the server too: the old cookie stops working at once."""
    live = current_session()
    token = session.get("sid")
    if isinstance(token, str) and token:
        end_session(get_db(), token)
    session.clear()
    if live is not None:
        log.info("usuário %s saiu", live.user.username)
    return redirect(url_for("auth.login"))


# --- CLI ------------------------------------------------------------------------------

users_cli = AppGroup("usuarios", help="Gerencia os usuários do painel.")


def _cli_db() -> Connection:
    return open_database(settings().database)


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
    found = users.all_users(_cli_db())
    if not found:
        click.echo("Nenhum usuário cadastrado.")
    for user in found:
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
        SESSION_COOKIE_SECURE=s.https_only,
        # the server-side session decides idleness (on the monotonic clock); the cookie's own
        # age, checked on the wall clock, only bounds how long a stolen cookie could be tried
        PERMANENT_SESSION_LIFETIME=int(s.session_idle_minutes * 60 + COOKIE_SLACK),
        AUTH_CHECK=check,
    )
    conn = open_database(s.database)  # the users tables come with migration 0004
    try:
        ensure_first_admin(conn, s, time.time())
    finally:
        conn.close()
    app.register_blueprint(bp)
    app.before_request(_protect_csrf)
    app.after_request(_security_headers)
    app.context_processor(lambda: {"csrf_token": csrf_token, "usuario_atual": session_user()})
    app.cli.add_command(users_cli)
