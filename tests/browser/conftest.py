"""A real Chromium against the app served on 127.0.0.1, wired to the fake external systems.

One world per module (fakes, a database, the app on a free port) and one browser; each
test opens its own browser context (fresh cookies). Screenshots go to `test-artifacts/`.
Skipped when Debian's Chromium (`/usr/bin/chromium`) is not installed.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from outage.app import create_app
from outage.config import Settings, load_settings
from outage.db import connect
from outage.model import Subscriber, pack_members
from simulator.httpserver import FakeHTTPServer
from simulator.ixc import FakeIXC
from simulator.olt_system import OltSystemFake
from simulator.whatsapp import FakeHSMProvider

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
XSS_NAME = "<img src=x onerror=alert(1)>"
PASSWORDS = {"admin": "senha-admin-123", "maria": "senha-maria-123", "leitor": "senha-leitor-123"}
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}

if not CHROMIUM.exists():
    pytest.skip(
        "Chromium do Debian ausente (/usr/bin/chromium): instale o pacote chromium", allow_module_level=True
    )

from playwright.sync_api import Browser, Page, sync_playwright  # noqa: E402


@dataclass
class World:
    url: str
    settings: Settings
    olt: OltSystemFake
    hsm: FakeHSMProvider
    incidents: dict[str, str]  # name -> incident id

    def deliver(self) -> None:
        from outage.alerts.sender import Sender

        Sender(self.settings.database_path, self.settings).deliver_due(max_wait=5)


def _devices(olt: OltSystemFake, first: int, people: list[tuple[str, str]]) -> list[dict[str, Any]]:
    result = []
    for n, (name, phone) in enumerate(people):
        client_id = str(first + n)
        olt.set_client(client_id, name, phone)
        result.append(
            {"client_id": client_id, "sn_onu": f"HWTC{first + n:08X}", "client_name": "", "status": "offline"}
        )
    return result


def _add_incidents(olt: OltSystemFake) -> dict[str, str]:
    def alert(kind: str, olt_name: str, pon: str, first: int, people: list[tuple[str, str]]) -> str:
        body = {"alert_type": kind, "olt_name": olt_name, "slot_pon": pon, "cto_name": f"CTO-{first}"}
        return str(olt.add_alert(body, _devices(olt, first, people)))

    return {
        "aprovar": alert(
            "pon_loss",
            "OLT-SUL",
            "0/1/1",
            100,
            [
                (XSS_NAME, "(11) 98765-0001"),
                ("Maria da Silva", "11987650002"),
                ("João Souza", ""),
                ("Ana Lima", "123"),
            ],
        ),
        "negar": alert("pon_no_power", "OLT-NORTE", "0/2/3", 200, [("Carlos Dias", "11987650003")]),
        "hist_aprovar": alert("cto_loss", "OLT-LESTE", "0/3/1", 300, [("Paula Reis", "11987650004")]),
        "hist_negar": alert("no_power", "OLT-OESTE", "0/4/2", 400, [("Rui Alves", "11987650005")]),
    }


def _subscriber(n: int, conexao: str) -> Subscriber:
    return Subscriber(
        login=f"cliente{n}",
        conexao=conexao,
        id=str(n),
        id_cliente=str(1000 + n),
        onu_mac=f"48575443{n:08X}",
        interface_transmissao="0/5/1",
    )


def _add_history(db_path: str) -> None:
    """Monitor events (one active, indeterminate; one resolved) and 24 h of cycles for the chart."""
    conn: sqlite3.Connection = connect(db_path)
    now = time.time()
    active = [_subscriber(n, "OLT-CENTRO") for n in range(1, 7)]
    resolved = [_subscriber(n, "OLT-PRAIA") for n in range(20, 32)]
    rows = [
        (str(uuid.uuid4()), "OLT-CENTRO", now - 900, "ativo", active, "indeterminado", None, ""),
        (
            str(uuid.uuid4()),
            "OLT-PRAIA",
            now - 7200,
            "resolvido",
            resolved,
            "loss",
            now - 3000,
            "CTO-12, Rua das Flores",
        ),
    ]
    for event_id, conexao, start, status, subs, motivo, end, place in rows:
        conn.execute(
            "INSERT INTO events (id, conexao, timestamp, status, logins, motivo, causa_status, local,"
            " evidencias, resolvido_em, atualizado_em, clientes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                event_id,
                conexao,
                start,
                status,
                json.dumps([s.login for s in subs]),
                motivo,
                "concluido",
                place,
                json.dumps(
                    [{"olt": conexao, "onu": "0/5/1:3", "estado": "LOS", "ultima_queda": "dying-gasp não"}]
                ),
                end,
                now,
                pack_members((s, start) for s in subs),
            ),
        )
    for k in range(96):
        start = now - (96 - k) * 900 + 840
        offline = 40 + (k % 7) * 3 + (180 if 60 <= k < 70 else 0)
        conn.execute(
            "INSERT INTO cycles (started_at, finished_at, ok, offline, duracao) VALUES (?, ?, ?, ?, ?)",
            (start, start + 2.5, 0 if k == 80 else 1, offline, 2.5),
        )
    conn.close()


def _settings(tmp: Path, olt: OltSystemFake, hsm: FakeHSMProvider, ixc: FakeIXC) -> Settings:
    env = {
        "DATABASE_PATH": str(tmp / "monitor.db"),
        "LOG_DIR": str(tmp / "logs"),
        "SECRET_KEY": "k" * 32,
        "OLT_INVENTORY": str(tmp / "olts.json"),
        "SESSION_COOKIE_SECURE": "false",
        "ADMIN_USERNAME": "admin",
        "ADMIN_PASSWORD": PASSWORDS["admin"],
        "API_BASE_URL": olt.url,
        "API_AUTH_URL": olt.auth_url,
        "API_USER": olt.username,
        "API_PASS": olt.password,
        "URL_HSM": hsm.send_url,
        "TOKEN_HSM": hsm.token,
        "IXC_URL": ixc.url,
        "IXC_USER": ixc.user,
        "IXC_TOKEN": ixc.token,
    }
    settings, problems = load_settings(env)
    assert problems == [], problems
    return settings


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    from outage import auth

    tmp = tmp_path_factory.mktemp("painel")
    with OltSystemFake() as olt, FakeHSMProvider() as hsm, FakeIXC() as ixc:
        settings = _settings(tmp, olt, hsm, ixc)
        app = create_app(settings)
        conn = connect(settings.database_path)
        auth.create_user(conn, "maria", PASSWORDS["maria"], "operador", time.time())
        auth.create_user(conn, "leitor", PASSWORDS["leitor"], "leitura", time.time())
        conn.close()
        _add_history(settings.database_path)
        incidents = _add_incidents(olt)
        with FakeHTTPServer(app) as server:
            yield World(server.url, settings, olt, hsm, incidents)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
    args += ["--disable-sync", "--no-first-run"]
    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=str(CHROMIUM), args=args)
        yield instance
        instance.close()


@pytest.fixture
def page_for(browser: Browser, world: World) -> Iterator[Any]:
    """`page_for(user, viewport=DESKTOP)`: a logged-in page in a fresh context; JS dialogs recorded."""
    contexts = []

    def open_page(user: str | None = None, viewport: dict[str, int] = DESKTOP) -> Page:
        context = browser.new_context(
            viewport=viewport, base_url=world.url, locale="pt-BR", timezone_id="America/Sao_Paulo"
        )
        contexts.append(context)
        page = context.new_page()
        page.dialogs = []  # type: ignore[attr-defined]
        page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))  # type: ignore[attr-defined]
        page.set_default_timeout(10_000)
        if user is not None:
            login(page, user)
        return page

    yield open_page
    for context in contexts:
        context.close()


def login(page: Page, user: str) -> None:
    page.goto("/entrar")
    page.get_by_label("Usuário").fill(user)
    page.get_by_label("Senha").fill(PASSWORDS[user])
    page.get_by_role("button", name="Entrar").click()
    page.wait_for_url("**/painel/")


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
