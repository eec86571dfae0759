"""A real Chromium against the app served on 127.0.0.1, wired to the fake external systems.

One world per module (fakes, a database, the app on a free port) and one browser; each
test opens its own browser context (fresh cookies). `outage_world` is an outage as the
simulator makes it: a whole OLT of 500 clients without power, a fiber cut, a CTO, a power
cut of a few PONs and a PON that flaps, seen by real monitor cycles through the ERP fake and
the OLTs' SSH. Screenshots go to `test-artifacts/`, or to `PAINEL_SCREENSHOTS` when set
(`PAINEL_SCREENSHOTS=docs/screenshots` refreshes the README's). `axe_violations(page)` runs
axe-core (`AXE_CORE_JS`, default `.ci/axe/node_modules/axe-core/axe.min.js`, installed by
`.ci/run`). Chromium is the one on `PATH` or Debian's (`/usr/bin/chromium`); without it
every test here is reported skipped, one by one, with the reason (in CI they fail instead).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from outage.adapters.channels.registry import CHANNELS
from outage.adapters.erp import ERPS
from outage.config import Settings, load_settings
from outage.core.model import Subscriber, pack_members
from outage.db import connect
from outage.web.app import create_app
from simulator.day import SimClock
from simulator.httpserver import FakeHTTPServer
from simulator.ixc import FakeIXC
from simulator.network import Network
from simulator.olt_cli import OltEmulator
from simulator.olt_system import OltSystemFake
from simulator.scenario import Incidents
from simulator.telegram import FakeTelegram
from simulator.whatsapp import FakeHSMProvider

DEBIAN_CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("PAINEL_SCREENSHOTS") or ROOT / "test-artifacts")
AXE_JS = Path(os.environ.get("AXE_CORE_JS") or ROOT / ".ci/axe/node_modules/axe-core/axe.min.js")
XSS_NAME = "<img src=x onerror=alert(1)>"
PASSWORDS = {"admin": "senha-admin-123", "maria": "senha-maria-123", "leitor": "senha-leitor-123"}
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}

BROWSER_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


def find_chromium() -> Path | None:
    """Chromium on `PATH` (`chromium`, `chromium-browser`), else Debian's; None when neither."""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return Path(found)
    return DEBIAN_CHROMIUM if DEBIAN_CHROMIUM.exists() else None


CHROMIUM = find_chromium()
NO_CHROMIUM = "Chromium ausente (nem no PATH nem em /usr/bin/chromium): instale o pacote chromium do Debian"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without Chromium, each browser test is skipped on its own, with the reason (not in CI)."""
    if CHROMIUM is not None or os.environ.get("CI"):
        return
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.skip(reason=NO_CHROMIUM))


def launch_chromium(pw: Playwright, *extra_args: str) -> Browser:
    """Chromium started headless with the tests' flags (and `extra_args`); fails when absent."""
    if CHROMIUM is None:
        raise AssertionError(NO_CHROMIUM)
    return pw.chromium.launch(executable_path=str(CHROMIUM), args=[*BROWSER_ARGS, *extra_args])


@dataclass
class World:
    url: str
    settings: Settings
    olt: OltSystemFake
    hsm: FakeHSMProvider
    incidents: dict[str, str]  # name -> incident id

    def deliver(self) -> None:
        from outage.alerts.sender import Sender

        Sender(self.settings.database, self.settings).deliver_due(max_wait=5)


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
    """Monitor events (one active, indeterminate, stuck: nothing changed in its last 2 h; one
    resolved) and 24 h of cycles for the chart."""
    conn: sqlite3.Connection = connect(db_path)
    now = time.time()
    active = [_subscriber(n, "OLT-CENTRO") for n in range(1, 7)]
    resolved = [_subscriber(n, "OLT-PRAIA") for n in range(20, 32)]
    rows = [
        (str(uuid.uuid4()), "OLT-CENTRO", now - 10800, "ativo", active, "indeterminado", None, ""),
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
                json.dumps([_evidence(s.login, conexao) for s in subs[:3]]),
                end,
                end or start + 3600,  # the last change
                pack_members((s, start) for s in subs),
            ),
        )
    held = "recorrência: 3ª queda no mesmo local em 1 h; o aviso de recorrência já saiu às 03:10"
    conn.execute(
        "INSERT INTO held_alerts (event_id, kind, motivo, created_at) VALUES (?, 'abertura', ?, ?)",
        (rows[0][0], held, now - 900),
    )
    conn.execute("UPDATE events SET aviso = '', recorrencia = 3 WHERE id = ?", (rows[0][0],))
    for k in range(96):
        start = now - (96 - k) * 900 + 840
        offline = 40 + (k % 7) * 3 + (180 if 60 <= k < 70 else 0)
        conn.execute(
            "INSERT INTO cycles (started_at, finished_at, ok, offline, duracao) VALUES (?, ?, ?, ?, ?)",
            (start, start + 2.5, 0 if k == 80 else 1, offline, 2.5),
        )
    conn.close()


def _evidence(login: str, olt: str) -> dict[str, Any]:
    """One ONU as the Huawei cause source records it."""
    return {
        "login": login,
        "olt": olt,
        "id_transmissor": "5",
        "pon": "0/5/1",
        "fsp": "0/5/1",
        "ont_id": 3,
        "causa_bruta": "LOS",
        "caiu_em": "2026-11-23 03:07:41",
        "estado": "offline",
        "classificacao": "loss",
        "fonte": "display ont info summary",
    }


def _settings(tmp: Path, olt: OltSystemFake, hsm: FakeHSMProvider, ixc: FakeIXC, **extra: str) -> Settings:
    """The dashboard's settings over the fakes; `extra` adds or overrides variables."""
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
        **extra,
    }
    settings, problems = load_settings(env, channels=CHANNELS, erps=ERPS)
    assert problems == [], problems
    return settings


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    from outage.web import auth

    tmp = tmp_path_factory.mktemp("painel")
    with OltSystemFake() as olt, FakeHSMProvider() as hsm, FakeIXC() as ixc:
        settings = _settings(tmp, olt, hsm, ixc)
        app = create_app(settings)
        conn = connect(settings.database)
        auth.create_user(conn, "maria", PASSWORDS["maria"], "operador", time.time())
        auth.create_user(conn, "leitor", PASSWORDS["leitor"], "leitura", time.time())
        conn.close()
        _add_history(settings.database)
        incidents = _add_incidents(olt)
        with FakeHTTPServer(app) as server:
            yield World(server.url, settings, olt, hsm, incidents)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as pw:
        instance = launch_chromium(pw)
        yield instance
        instance.close()


@pytest.fixture
def page_for(browser: Browser, world: World) -> Iterator[Any]:
    """`page_for(user, viewport=DESKTOP)`: a logged-in page in a fresh context; JS dialogs recorded.

    Contexts bypass the CSP only so that axe-core can be injected; the app's header is unchanged.
    """
    yield from pages_on(browser, world.url)


@pytest.fixture
def outage_page_for(browser: Browser, outage_world: OutageWorld) -> Iterator[Any]:
    """`outage_page_for(user, viewport=DESKTOP)` on the simulated outage's console."""
    yield from pages_on(browser, outage_world.url)


def pages_on(browser: Browser, url: str) -> Iterator[Any]:
    """Yields `open_page(user, viewport)` for the app at `url`; closes its contexts afterwards."""
    contexts = []

    def open_page(user: str | None = None, viewport: dict[str, int] = DESKTOP) -> Page:
        context = browser.new_context(
            viewport=viewport, base_url=url, locale="pt-BR", timezone_id="America/Sao_Paulo", bypass_csp=True
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
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def axe_violations(page: Page) -> list[str]:
    """axe-core's violations on the page as it is now (open modals included), one line each."""
    if not AXE_JS.exists():
        if os.environ.get("CI"):
            raise AssertionError(f"axe-core ausente em {AXE_JS}: .ci/run deveria tê-lo instalado")
        pytest.skip(f"axe-core ausente ({AXE_JS}): npm install --prefix .ci/axe axe-core@{AXE_VERSION}")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_JS))
    found = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
            .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).slice(0, 5).join(', ')}`)"""
    )
    return [str(line) for line in found]


# --- an outage as the simulator makes it ---------------------------------------------

AXE_VERSION = "4.10.2"
CYCLE = 60.0
OUTAGE_MINUTES = 54


@dataclass
class OutageWorld:
    url: str
    settings: Settings
    network: Network
    whole_olt: str  # the name of the OLT that lost power
    whole_olt_customers: int


def _olt_emulators(network: Network) -> dict[str, OltEmulator]:
    def feed(olt_id: str) -> Any:
        members = [c for c in network.customers if c.olt.id == olt_id]
        return lambda: [network.onu_view(c) for c in members]

    return {
        olt.id: OltEmulator(olt.vendor, feed(olt.id), username="noc", password="noc-teste", hostname=olt.name)
        for olt in network.olts
    }


def _outage_settings(
    tmp: Path, network: Network, emulators: dict[str, OltEmulator], **fakes: Any
) -> Settings:
    inventory = tmp / "olts.json"
    inventory.write_text(
        json.dumps(
            [
                {
                    "id_transmissor": olt.id,
                    "name": olt.name,
                    "vendor": olt.vendor,
                    "host": "127.0.0.1",
                    "port": emulators[olt.id].port,
                    "username": "noc",
                    "password": "noc-teste",
                }
                for olt in network.olts
            ]
        ),
        encoding="utf-8",
    )
    telegram = fakes["telegram"]
    return _settings(
        tmp,
        fakes["olt"],
        fakes["hsm"],
        fakes["ixc"],
        OLT_INVENTORY=str(inventory),
        THRESHOLD_OFFLINE_CLIENTS="4",
        TELEGRAM_BOT_TOKEN=telegram.token,
        TELEGRAM_CHAT_ID="-1001",
        TELEGRAM_API_URL=telegram.url,
        TELEGRAM_PER_CHAT_PER_MINUTE="60",
    )


def _live_outage(network: Network, incidents: Incidents, clock: SimClock, cycle: Any) -> str:
    """Drive the network minute by minute, a monitor cycle each: a PON flaps three times in an
    hour (the third drop's alert is held back), then a whole OLT loses power while a fiber cut, a CTO
    and a power cut of a few PONs happen elsewhere (each with its OLT-system alert), and the
    concentrator of another OLT fails on top. Returns the dark OLT's name."""
    dark, calm = network.olts[0], network.olts[-1]
    flap_pon = next(
        key for key, members in network.pons().items() if key[0] == calm.id and len(members) >= 16
    )
    flapping: list[str] = []

    def at_minute(minute: int) -> None:
        if minute in (2, 19, 38):
            flapping.append(incidents.cut_pon(*flap_pon, kind="flap").id)
        if minute in (7, 23, 44):
            incidents.recover(flapping[-1], stragglers=False)
        if minute == 46:
            network.power_outage([key for key in network.pons() if key[0] == dark.id], share=1.0)
            for kind in ("fiber_cut", "cto_failure", "power_outage"):
                incidents.start(kind)
        if minute == 48:  # a concentrator fails on top (its ONUs stay up: no OLT-system alert)
            network.concentrator_failure(calm.conexao)

    for minute in range(1, OUTAGE_MINUTES + 1):
        clock.now += CYCLE
        network.advance(clock.now)
        at_minute(minute)
        cycle()
    return dark.name


@pytest.fixture(scope="module")
def outage_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OutageWorld]:
    from outage.alerts.sender import Sender
    from outage.process import run_once
    from outage.web import auth

    tmp = tmp_path_factory.mktemp("apagao")
    clock = SimClock(time.time() - (OUTAGE_MINUTES + 2) * CYCLE)
    network = Network(2000, seed=7, clock=clock)
    emulators = _olt_emulators(network)
    for emulator in emulators.values():
        emulator.start()
    try:
        with (
            OltSystemFake() as olt,
            FakeHSMProvider() as hsm,
            FakeIXC(network) as ixc,
            FakeTelegram() as telegram,
        ):
            settings = _outage_settings(tmp, network, emulators, olt=olt, hsm=hsm, ixc=ixc, telegram=telegram)
            incidents = Incidents(network, olt, seed=7, threshold=4)
            sender = Sender(settings.database, settings)

            def cycle() -> None:
                assert run_once(settings, clock=clock) == 0
                sender.deliver_due(max_wait=5)

            dark = _live_outage(network, incidents, clock, cycle)
            app = create_app(settings)
            conn = connect(settings.database)
            auth.create_user(conn, "maria", PASSWORDS["maria"], "operador", time.time())
            conn.close()
            size = sum(1 for c in network.customers if c.olt.name == dark)
            with FakeHTTPServer(app) as server:
                yield OutageWorld(server.url, settings, network, dark, size)
    finally:
        for emulator in emulators.values():
            emulator.stop()
