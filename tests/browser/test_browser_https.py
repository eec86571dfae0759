"""A production install as the README builds it: real gunicorn reading its `.env`, the
shipped `Caddyfile` in front with TLS (Caddy's internal CA; free ports, its admin API off),
and Chromium logging in by host name resolved to 127.0.0.1.

The browser reaches Caddy over IPv4 (127.0.0.1) and Caddy reaches gunicorn over IPv6 (::1,
the only address in `TRUSTED_PROXIES`), so the address the login throttle counts tells
the client's from the proxy's. The same login straight to gunicorn over plain HTTP shows
why it cannot work and what to do. Skipped, with the reason, without the `caddy` binary
(`.ci/run` installs it from Debian).
"""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Browser, Page, expect, sync_playwright

from simulator.ixc import FakeIXC
from simulator.ports import free_port
from tests.browser.conftest import launch_chromium

ROOT = Path(__file__).resolve().parents[2]
CADDY = shutil.which("caddy")
SITE = "painel.provedor.test"  # Caddy's site; the browser resolves it to 127.0.0.1
DIRECT = "painel-direto.provedor.test"  # gunicorn itself, over plain HTTP on [::1]
PASSWORD = "senha-admin-123"

pytestmark = pytest.mark.skipif(
    CADDY is None, reason="caddy ausente: instale o pacote caddy do Debian (apt-get install caddy)"
)


@dataclass
class Install:
    https_url: str
    http_url: str  # Caddy's plain HTTP port (redirects to HTTPS)
    direct_url: str  # gunicorn without the proxy
    database: Path


def free_port_v6() -> int:
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
        sock.bind(("::1", 0))
        return int(sock.getsockname()[1])


def _dotenv(tmp: Path, ixc: FakeIXC, port: int) -> str:
    """The `.env` of the install: production, the proxy on ::1 trusted, everything else default."""
    values = {
        "APP_ENV": "production",
        "HOST": "::1",
        "PORT": str(port),
        "WEB_CONCURRENCY": "1",
        "TRUSTED_PROXIES": "::1",
        "SECRET_KEY": "s" * 40,
        "ADMIN_USERNAME": "admin",
        "ADMIN_PASSWORD": PASSWORD,
        "IXC_URL": ixc.url,
        "IXC_TOKEN": f"{ixc.user}:{ixc.token}",
        "DATABASE_PATH": str(tmp / "data" / "monitor.db"),
        "LOG_DIR": str(tmp / "logs"),
        "OLT_INVENTORY": str(tmp / "olts.json"),
    }
    return "".join(f"{name}={value}\n" for name, value in values.items())


def _wait_for_tls(port: int, deadline: float) -> None:
    """Until Caddy completes a TLS handshake for the site (its internal certificate is ready)."""
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    while True:
        try:
            with (
                socket.create_connection(("127.0.0.1", port), timeout=2) as raw,
                context.wrap_socket(raw, server_hostname=SITE),
            ):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _wait_for_port(host: str, port: int, deadline: float, log: Path) -> None:
    """Until `host:port` accepts a connection; the process's `log` in the failure otherwise."""
    while True:
        try:
            with socket.create_connection((host, port), timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise AssertionError(f"{host}:{port} não respondeu: {log.read_text()}") from None
            time.sleep(0.2)


@pytest.fixture(scope="module")
def install(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Install]:
    tmp = tmp_path_factory.mktemp("producao")
    app_port, http_port, https_port = free_port_v6(), free_port(), free_port()
    with FakeIXC() as ixc:
        (tmp / ".env").write_text(_dotenv(tmp, ixc, app_port), encoding="utf-8")
        base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp), "PYTHONPATH": str(ROOT)}
        app_log = (tmp / "gunicorn.log").open("w")
        app = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "monitor_service:app"],
            cwd=tmp,
            env=base,
            stdout=app_log,
            stderr=subprocess.STDOUT,
        )
        proxy_env = {
            **base,
            "SITE_ADDRESS": SITE,
            "TLS_MODE": "internal",
            "PORT": str(app_port),
            "APP_HOST": "[::1]",
            "HTTP_PORT": str(http_port),
            "HTTPS_PORT": str(https_port),
            "CADDY_ADMIN": "off",
            "XDG_DATA_HOME": str(tmp),
            "XDG_CONFIG_HOME": str(tmp),
        }
        caddy_log = (tmp / "caddy.log").open("w")
        proxy = subprocess.Popen(
            [str(CADDY), "run", "--adapter", "caddyfile", "--config", str(ROOT / "Caddyfile")],
            cwd=tmp,
            env=proxy_env,
            stdout=subprocess.DEVNULL,
            stderr=caddy_log,
        )
        try:
            deadline = time.monotonic() + 30
            _wait_for_port("::1", app_port, deadline, tmp / "gunicorn.log")
            _wait_for_tls(https_port, deadline)
            _wait_for_port("127.0.0.1", http_port, deadline, tmp / "caddy.log")
            yield Install(
                f"https://{SITE}:{https_port}",
                f"http://127.0.0.1:{http_port}",
                f"http://{DIRECT}:{app_port}",
                tmp / "data" / "monitor.db",
            )
        finally:
            for proc in (proxy, app):
                proc.terminate()
            for proc in (proxy, app):
                proc.wait(timeout=30)
            caddy_log.close()
            app_log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    rules = f"MAP {SITE} 127.0.0.1, MAP {DIRECT} [::1]"
    with sync_playwright() as pw:
        instance = launch_chromium(pw, f"--host-resolver-rules={rules}")
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(ignore_https_errors=True, locale="pt-BR")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def _rows(database: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(database)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def _submit(page: Page, user: str, password: str) -> None:
    page.get_by_label("Usuário").fill(user)
    page.get_by_label("Senha").fill(password)
    page.get_by_role("button", name="Entrar").click()


def test_a_login_over_https_through_the_proxy_counts_the_browsers_address_not_the_proxys(
    install: Install, page: Page
) -> None:
    page.goto(f"{install.https_url}/entrar")
    expect(page.locator("#login-aviso-http")).to_have_count(0)
    _submit(page, "admin", "senha-errada-1")
    expect(page.locator("#login-erro")).to_have_text("Usuário ou senha incorretos.")
    throttled = [row[0] for row in _rows(install.database, "SELECT key FROM login_throttle")]
    assert "par:admin|127.0.0.1" in throttled and not any("::1" in key for key in throttled), throttled

    _submit(page, "admin", PASSWORD)
    page.wait_for_url("**/painel/")
    expect(page.get_by_role("heading", name="Monitoramento")).to_be_visible()
    cookie = next(c for c in page.context.cookies() if c["name"] == "painel_sessao")
    assert cookie["secure"] and cookie["httpOnly"]
    assert _rows(install.database, "SELECT username, address FROM login_known_addresses") == [
        ("admin", "127.0.0.1")
    ]
    assert _rows(install.database, "SELECT address FROM sessions") == [("127.0.0.1",)]


def test_the_proxys_plain_http_port_sends_the_browser_to_https(install: Install) -> None:
    answer = requests.get(
        f"{install.http_url}/entrar", headers={"Host": SITE}, allow_redirects=False, timeout=5
    )
    assert answer.status_code == 308
    assert answer.headers["Location"].startswith(f"https://{SITE}"), answer.headers


def test_a_production_login_over_plain_http_says_https_is_needed_and_what_to_do(
    install: Install, page: Page
) -> None:
    page.goto(f"{install.direct_url}/entrar")
    expect(page.locator("#login-aviso-http")).to_contain_text("só mantém a sessão por HTTPS")
    _submit(page, "admin", PASSWORD)
    error = page.locator("#login-erro")
    expect(error).to_contain_text("Login recusado")
    expect(error).to_contain_text("https://")
    expect(error).to_contain_text("APP_ENV=development")
    expect(page.get_by_text("Sessão expirada")).to_have_count(0)
    assert "/painel/" not in page.url
