"""The console during an outage the simulator made (see `outage_world`), at 1366×768 and on a
390×844 phone: every action within reach, the biggest outage named in words, the OLT's
evidence in Portuguese with names, and no axe-core violation on any screen or modal."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import DESKTOP, PHONE, OutageWorld, axe_violations, shot

SIZES = [pytest.param(DESKTOP, id="1366x768"), pytest.param(PHONE, id="390x844")]


def incident_rows(page: Page) -> Any:
    rows = page.locator("#incidentes tbody tr")
    expect(rows.first).to_be_visible()
    return rows


def biggest_row(page: Page) -> Any:
    """The row of the incident with the most clients (the dark OLT)."""
    rows = incident_rows(page)
    counts = [int(n.replace(".", "")) for n in rows.locator(".c-afetados").all_inner_texts()]
    return rows.nth(counts.index(max(counts))), max(counts)


def no_horizontal_overflow(page: Page) -> None:
    widths = page.evaluate(
        """() => [document.documentElement.scrollWidth, innerWidth,
            ...[...document.querySelectorAll('.table-wrap')].filter((w) => w.offsetParent)
               .map((w) => w.scrollWidth - w.clientWidth)]"""
    )
    page_width, viewport, *hidden = widths
    assert page_width <= viewport, f"a página rola de lado: {page_width} > {viewport}"
    assert all(extra <= 1 for extra in hidden), f"tabela mais larga que o cartão: {hidden}"


@pytest.mark.parametrize("size", SIZES)
def test_every_action_button_of_every_incident_is_on_screen(
    outage_page_for: Any, outage_world: OutageWorld, size: dict[str, int]
) -> None:
    page = outage_page_for("maria", viewport=size)
    rows = incident_rows(page)
    assert rows.count() >= 4
    _, biggest = biggest_row(page)
    assert biggest >= 0.8 * outage_world.whole_olt_customers
    no_horizontal_overflow(page)
    for row in rows.all():
        buttons = row.locator(".actions button")
        expect(buttons).to_have_count(3)
        for button in buttons.all():
            button.scroll_into_view_if_needed()
            box = button.bounding_box()
            assert box is not None
            assert box["x"] >= 0 and box["x"] + box["width"] <= size["width"], (row.inner_text(), box)
            assert box["y"] >= 0 and box["y"] + box["height"] <= size["height"], (row.inner_text(), box)
    no_horizontal_overflow(page)
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "02-monitoramento" if size == DESKTOP else "09-celular-monitoramento")


@pytest.mark.parametrize("size", SIZES)
def test_the_dark_olt_is_named_in_words_with_its_pons_on_demand(
    outage_page_for: Any, outage_world: OutageWorld, size: dict[str, int]
) -> None:
    page = outage_page_for("maria", viewport=size)
    row, _ = biggest_row(page)
    place = row.locator(".c-lugar")
    expect(place).to_contain_text(outage_world.whole_olt)
    expect(place).not_to_contain_text(",")
    box = place.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= size["width"]
    pons = row.locator(".pon-list")
    expect(pons.locator(".mono")).to_be_hidden()
    pons.locator("summary").click()
    expect(pons.locator(".mono")).to_be_visible()
    expect(pons.locator(".mono")).to_contain_text(",")


def test_the_event_of_the_dark_olt_shows_the_olts_evidence_in_portuguese_with_names(
    outage_page_for: Any, outage_world: OutageWorld
) -> None:
    page = outage_page_for("maria")
    page.get_by_role("link", name="Eventos").click()
    page.locator("#eventos tbody tr", has_text=outage_world.whole_olt).first.click()
    dialog = page.locator("#evento")
    expect(dialog.locator("#evd-acoes-texto")).to_contain_text("encerra este evento sozinho")
    expect(dialog.locator("#evd-encerrar")).to_be_hidden()  # a fresh outage normalizes by itself
    evidence = dialog.locator("#evd-evidencias")
    expect(evidence.locator("thead")).to_have_text("ONUClientePONCausaCaiu às")
    first = evidence.locator("tbody tr").first
    expect(first.locator("td").nth(3)).to_contain_text("Falta de energia")
    expect(first.locator("td").nth(4)).to_have_text(re.compile(r"^(hoje|\d\d/\d\d/\d{4}) \d\d:\d\d$"))
    expect(dialog.locator("#evd-fonte")).to_have_text("Consultado em: linha de comando da OLT (SSH)")
    expect(dialog).not_to_contain_text("classificacao")
    names = dialog.locator("#evd-logins .c-nome")
    expect(names.first).not_to_have_text(re.compile(r"^(cliente nº|–)"))
    expect(dialog.locator("#evd-alertas tbody tr").first).to_contain_text("ENVIADO")
    shot(page, "06-evento")


def counts_add_up(text: str) -> None:
    """Every affected client is in exactly one count: a phone of its own, a shared phone, none."""
    number = r"(\d[\d.]*)"
    total = re.search(rf"dos? {number} clientes? afetados?", text)
    assert total is not None, text
    clients = int(total.group(1).replace(".", ""))
    phones = re.search(rf"a {number} telefones?", text)
    shared = re.search(rf"{number} clientes? divid", text)
    without = re.search(rf"{number} clientes? não t", text)
    assert phones is not None, text
    parts = [int(m.group(1).replace(".", "")) for m in (phones, shared, without) if m]
    assert sum(parts) == clients, text


@pytest.mark.parametrize("size", SIZES)
def test_no_screen_or_modal_has_an_axe_violation(
    outage_page_for: Any, outage_world: OutageWorld, size: dict[str, int]
) -> None:
    page = outage_page_for("maria", viewport=size)
    found: dict[str, list[str]] = {}
    incident_rows(page)
    page.wait_for_selector("#grafico svg")
    found["monitoramento"] = axe_violations(page)
    biggest_row(page)[0].get_by_role("button", name="Detalhes").click()
    expect(page.locator("#det-clientes tbody tr").first).to_be_visible()
    found["detalhes"] = axe_violations(page)
    page.locator("#det-aprovar").click()
    if page.locator("#det-template-box").is_visible():
        page.locator("#det-template").select_option("POWER")
        page.locator("#det-aprovar").click()
    expect(page.locator("#confirmar")).to_be_visible()
    counts_add_up(page.locator("#conf-texto").inner_text())
    found["confirmar"] = axe_violations(page)
    page.locator("#confirmar").get_by_role("button", name="Cancelar").click()
    page.keyboard.press("Escape")
    page.goto("/painel/eventos")
    expect(page.locator("#eventos tbody tr").first).to_be_visible()
    found["eventos"] = axe_violations(page)
    page.locator("#eventos tbody tr").first.get_by_role("button").click()
    expect(page.locator("#evento")).to_be_visible()
    found["evento"] = axe_violations(page)
    page.goto("/painel/historico")
    expect(page.locator("#h-total")).not_to_have_text("–")
    found["historico"] = axe_violations(page)
    page.goto("/painel/saude")
    expect(page.locator("#canais tbody tr").first).to_be_visible()
    found["saude"] = axe_violations(page)
    page.context.clear_cookies()
    page.goto("/entrar")
    found["entrar"] = axe_violations(page)
    assert {screen: lines for screen, lines in found.items() if lines} == {}


def number(text: str) -> int:
    return int(re.sub(r"\D", "", text) or 0)


def test_every_pending_row_counts_what_its_detail_lists_and_its_approval_covers(
    outage_page_for: Any, outage_world: OutageWorld
) -> None:
    page = outage_page_for("maria", viewport=DESKTOP)
    rows = incident_rows(page)
    assert rows.count() >= 5
    details, confirm = page.locator("#detalhes"), page.locator("#confirmar")
    for index in range(rows.count()):
        row = rows.nth(index)
        counted = number(row.locator(".c-afetados").inner_text())
        place = row.locator(".c-lugar").inner_text()
        row.locator("[data-acao=aprovar]").click()
        expect(details).to_be_visible()
        expect(details.locator("#det-carregando")).to_be_hidden()
        listed = details.locator("#det-clientes tbody tr").count()
        assert number(details.locator("#det-afetados").inner_text()) == listed == counted, place
        if details.locator("#det-template-box").is_visible():
            details.locator("#det-template").select_option(index=1)
            details.locator("#det-aprovar").click()
        expect(confirm).to_be_visible()
        covered = re.search(r"dos ([\d.]+) clientes? afetados?", confirm.locator("#conf-texto").inner_text())
        assert covered is not None and number(covered.group(1)) == counted, place
        confirm.get_by_role("button", name="Cancelar").click()
        details.locator("[data-fechar]").first.click()
        expect(details).to_be_hidden()
    shown = [number(n) for n in rows.locator(".c-afetados").all_inner_texts()]
    total = number(page.locator("#st-afetados").inner_text())
    assert max(shown) <= total <= sum(shown)  # distinct customers: rows never add the same one twice
