"""The demo's Mensagens page in a real Chromium against a running `DemoSimulator`: an empty
state before anything was sent, then the newest message first, the customer's entry with the
text the customer reads and the phone as people write it, and no axe-core violation."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, expect

from outage.web.app import create_app
from simulator.demo import DemoSimulator, demo_settings
from simulator.httpserver import FakeHTTPServer
from simulator.ports import free_port
from tests.browser.conftest import DESKTOP, PHONE, axe_violations, pages_on, shot


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, DemoSimulator, dict[str, str]]]:
    from outage.db import open_database
    from outage.web import auth

    with DemoSimulator(Path(tmp_path_factory.mktemp("demo")), customers=200, scenario=False) as sim:
        port = free_port()
        settings, env = demo_settings(sim, port)
        conn = open_database(settings.database)
        auth.ensure_first_admin(conn, settings, 0.0)
        conn.close()
        with FakeHTTPServer(create_app(settings), port=port) as server:
            yield server.url, sim, env


@pytest.fixture
def demo_page(browser: Browser, demo: tuple[str, DemoSimulator, dict[str, str]]) -> Iterator[Any]:
    url, _, env = demo

    def logged_in(open_blank: Any, viewport: dict[str, int] = DESKTOP) -> Any:
        page = open_blank(None, viewport)
        page.goto("/entrar")
        page.get_by_label("Usuário").fill(env["ADMIN_USERNAME"])
        page.get_by_label("Senha").fill(env["ADMIN_PASSWORD"])
        page.get_by_role("button", name="Entrar").click()
        page.wait_for_url("**/painel/")
        page.get_by_role("link", name="Mensagens (demo)").click()
        return page

    for open_blank in pages_on(browser, url):
        yield functools.partial(logged_in, open_blank)


def test_the_messages_page_says_so_when_nothing_was_sent(demo_page: Any) -> None:
    page = demo_page()
    expect(page.locator("#m-clientes")).to_have_text(
        "Nenhum aviso a clientes ainda: aprove um disparo em Monitoramento para vê-lo aqui."
    )
    expect(page.locator("#m-noc")).to_contain_text("Nenhuma mensagem ao NOC ainda")
    assert axe_violations(page) == []


def test_customers_read_the_templates_text_and_the_newest_message_comes_first(
    demo_page: Any, demo: Any
) -> None:
    _, sim, _ = demo
    for name, phone, template in (("Ana Lima", "5551996473637", 114), ("Bruno Reis", "5511987650002", 116)):
        body = {
            "cod_conta": 1,
            "hsm": template,
            "tipo_envio": 2,
            "contato": {"nome": name, "telefone": phone},
        }
        answer = requests.post(
            sim.hsm.send_url, json=body, headers={"Authorization": sim.hsm.token}, timeout=5
        )
        assert answer.ok
    for text in ("<b>Queda</b> longa\n" + "linha\n" * 30, "<b>Normalizado</b> — OLT-SUL"):
        telegram = f"{sim.telegram.url}/bot{sim.telegram.token}/sendMessage"
        assert requests.post(
            telegram, json={"chat_id": "-1001", "text": text, "parse_mode": "HTML"}, timeout=5
        ).ok
    for size, name in ((DESKTOP, "10-mensagens"), (PHONE, "11-celular-mensagens")):
        page = demo_page(size)
        customers = page.locator("#m-clientes li")
        expect(customers).to_have_count(2)
        expect(customers.first).to_contain_text("Bruno Reis")
        expect(customers.first).to_contain_text("(11) 98765-0002")
        expect(customers.first).to_contain_text("Olá, Bruno! Uma falta de energia na sua região")
        expect(customers.nth(1)).to_contain_text("(51) 99647-3637")
        expect(customers.nth(1)).to_contain_text("Olá, Ana! Identificamos um rompimento de fibra")
        expect(page.locator("#m-noc li").first).to_contain_text("Normalizado — OLT-SUL")
        shot(page, name)
        assert axe_violations(page) == []
