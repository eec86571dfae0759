"""The dashboard in a real Chromium: login, incidents, details, approve, deny, history, roles.

The tests share one world (module scope) and run in file order: the approval and the
denial of the first two incidents happen in their own tests, the history test decides two
other incidents itself.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from typing import Any

import requests
from playwright.sync_api import Page, expect

from tests.browser.conftest import PHONE, XSS_NAME, World, axe_violations, login, shot


def incident_row(page: Page, incident_id: str) -> Any:
    return page.locator(f'#incidentes tbody tr[data-id="{incident_id}"]')


def open_details(page: Page, world: World, name: str) -> Any:
    incident_row(page, world.incidents[name]).get_by_role("button", name="Detalhes").click()
    dialog = page.locator("#detalhes")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#det-clientes tbody tr").first).to_be_visible()
    return dialog


def decide_in_details(page: Page, world: World, name: str, action: str, comment: str = "") -> None:
    dialog = open_details(page, world, name)
    dialog.get_by_role("button", name="Aprovar e Disparar" if action == "aprovar" else "Negar").click()
    confirm = page.locator("#confirmar")
    expect(confirm).to_be_visible()
    if comment:
        confirm.get_by_label("Comentário (opcional)").fill(comment)
    confirm.locator("#conf-ok").click()
    expect(incident_row(page, world.incidents[name])).to_have_count(0)


def test_the_login_page_refuses_a_wrong_password_and_lets_the_user_in(page_for: Any) -> None:
    page = page_for()
    page.goto("/painel/")
    expect(page).to_have_url(re.compile(r"/entrar\?proximo="))
    shot(page, "01-entrar")
    page.get_by_label("Usuário").fill("maria")
    page.get_by_label("Senha").fill("senha-errada")
    page.get_by_role("button", name="Entrar").click()
    expect(page.locator("#login-erro")).to_have_text("Usuário ou senha incorretos.")
    login(page, "maria")
    expect(page.get_by_role("heading", name="Monitoramento")).to_be_visible()


def test_the_monitor_lists_incidents_with_the_right_badges(page_for: Any, world: World) -> None:
    page = page_for("maria")
    los = incident_row(page, world.incidents["aprovar"])
    expect(los.locator(".badge")).to_have_text("LOS")
    expect(los.locator(".badge")).to_have_class(re.compile("badge-los"))
    expect(los.locator(".c-lugar")).to_have_text("CTO-100 · OLT-SUL PON 0/1/1")
    expect(los.locator(".c-afetados")).to_have_text("4")
    power = incident_row(page, world.incidents["negar"])
    expect(power.locator(".badge")).to_have_text("ENERGIA")
    expect(power.locator(".badge")).to_have_class(re.compile("badge-power"))
    expect(page.locator('#incidentes tbody tr[data-tipo="INDETERMINADO"] .badge')).to_have_text(
        "INDETERMINADO"
    )
    expect(page.locator("#grafico svg")).to_be_visible()


def test_details_show_customers_and_render_a_hostile_name_as_text(page_for: Any, world: World) -> None:
    page = page_for("maria")
    dialog = open_details(page, world, "aprovar")
    names = dialog.locator("#det-clientes .c-nome")
    expect(names.filter(has_text=XSS_NAME)).to_have_count(1)
    assert page.locator("#detalhes img").count() == 0
    expect(dialog).to_contain_text("sem telefone")
    shot(page, "03-detalhes")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert page.dialogs == []  # type: ignore[attr-defined]


def test_approving_sends_the_messages_and_removes_the_incident(page_for: Any, world: World) -> None:
    page = page_for("maria")
    dialog = open_details(page, world, "aprovar")
    dialog.get_by_role("button", name="Aprovar e Disparar").click()
    confirm = page.locator("#confirmar")
    expect(confirm).to_contain_text(
        "Enviar o modelo de rompimento (114) a 2 telefones distintos dos 4 clientes afetados."
    )
    expect(confirm).to_contain_text("2 clientes não têm telefone")
    shot(page, "04-confirmar-disparo")
    confirm.locator("#conf-ok").click()
    expect(incident_row(page, world.incidents["aprovar"])).to_have_count(0)
    expect(page.locator(".toast")).to_have_count(1)
    expect(page.locator(".toast").first).to_contain_text("Disparo aprovado: 2 avisos enviados ao provedor.")
    expect(page.locator(".toast").first).to_contain_text("2 clientes sem telefone.")
    focused = page.evaluate(
        "() => [document.activeElement.tagName, document.activeElement.closest('tr')?.dataset.id || '',"
        " document.activeElement.className]"
    )
    assert focused[0] != "BODY" and (focused[1] or "toast" in focused[2]), focused
    world.deliver()
    phones = sorted(m["contato"]["telefone"] for m in world.hsm.messages)
    assert phones == ["5511987650001", "5511987650002"]
    assert {str(m["hsm"]) for m in world.hsm.messages} == {"114"}
    assert page.dialogs == []  # type: ignore[attr-defined]


def test_denying_records_the_decision_and_sends_nothing(page_for: Any, world: World) -> None:
    page = page_for("maria")
    before = len(world.hsm.messages)
    decide_in_details(page, world, "negar", "negar", "energia já voltou")
    world.deliver()
    assert len(world.hsm.messages) == before


def test_history_shows_both_decisions_with_the_user(page_for: Any, world: World) -> None:
    page = page_for("maria")
    decide_in_details(page, world, "hist_aprovar", "aprovar", "aprovado no teste")
    decide_in_details(page, world, "hist_negar", "negar")
    page.get_by_role("link", name="Histórico").click()
    rows = page.locator("#historico tbody tr")
    approved = page.locator(f'#historico tbody tr[data-id="{world.incidents["hist_aprovar"]}"]')
    denied = page.locator(f'#historico tbody tr[data-id="{world.incidents["hist_negar"]}"]')
    expect(approved).to_contain_text("APROVADO")
    expect(approved.locator(".c-usuario")).to_have_text("maria")
    expect(approved).to_contain_text("OLT-LESTE / 0/3/1")
    expect(approved).to_contain_text("AINDA ATIVO")
    expect(denied).to_contain_text("NEGADO")
    expect(denied.locator(".c-usuario")).to_have_text("maria")
    expect(approved.locator(".c-comentario")).to_have_text("“aprovado no teste”")
    expect(rows).to_have_count(4)
    shot(page, "05-historico")


def test_the_csv_exports_open_in_a_brazilian_spreadsheet(page_for: Any, world: World) -> None:
    page = page_for("maria")
    page.get_by_role("link", name="Histórico").click()
    expect(page.locator("#historico tbody tr").first).to_be_visible()
    decisions = _download(page, "Exportar decisões (CSV)")
    header, *lines = decisions
    assert header[:3] == ["Data", "Quem", "Decisão"] and len(lines) == 4
    assert all(re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d", line[0]) for line in lines)
    approved = next(line for line in lines if line[3] == world.incidents["aprovar"])
    assert approved[1:3] == ["maria", "APROVADO"] and approved[header.index("OLT")] == "OLT-SUL"
    assert re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d", approved[header.index("Próximo disparo permitido")])
    assert {line[header.index("Tipo")] for line in lines} <= {"LOS", "ENERGIA", "INDETERMINADO"}
    assert {line[header.index("Decisão")] for line in lines} == {"APROVADO", "NEGADO"}
    recipients = _download(page, "Exportar destinatários (CSV)")
    column = recipients[0].index
    by_name = {line[column("Nome")]: line for line in recipients[1:]}
    assert by_name[XSS_NAME][column("Telefone")] == "(11) 98765-0001"
    assert by_name["Maria da Silva"][column("Telefone")] == "(11) 98765-0002"
    assert by_name["Maria da Silva"][column("Envio")] in {"ENVIADO", "NA FILA", "ENVIANDO"}
    assert by_name["João Souza"][column("Resultado")] == "sem telefone válido"


def _download(page: Page, link: str) -> list[list[str]]:
    """The file behind `link`, read as a pt-BR spreadsheet reads it: UTF-8 with BOM, `;`."""
    with page.expect_download() as info:
        page.get_by_role("link", name=link).click()
    raw = open(info.value.path(), "rb").read()  # noqa: SIM115
    assert raw.startswith(b"\xef\xbb\xbf"), raw[:20]
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))


def test_a_reader_sees_no_decision_buttons_and_the_api_refuses_them(page_for: Any, world: World) -> None:
    page = page_for("leitor")
    expect(page.locator("#incidentes tbody tr").first).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("^Aprovar"))).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("^Negar"))).to_have_count(0)
    answer = page.evaluate(
        """async () => {
            const csrf = document.querySelector('meta[name="csrf-token"]').content;
            const r = await fetch('/api/acao', {method: 'POST', credentials: 'same-origin',
              headers: {'Content-Type': 'application/json', 'X-CSRF-Token': csrf},
              body: JSON.stringify({id: 'ev-x', acao: 'aprovar'})});
            return [r.status, await r.json()];
        }"""
    )
    assert answer[0] == 403 and "operador" in answer[1]["erro"]
    anonymous = requests.post(f"{world.url}/api/acao", json={"id": "1", "acao": "aprovar"}, timeout=5)
    assert anonymous.status_code == 401


def test_events_health_and_phone_screens_render(page_for: Any, world: World) -> None:
    page = page_for("admin")
    page.get_by_role("link", name="Eventos").click()
    rows = page.locator("#eventos tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("OLT-CENTRO")
    expect(rows.first).to_contain_text("ATIVO")
    page.get_by_label("Status").select_option("resolvido")
    page.get_by_role("button", name="Filtrar").click()
    expect(rows).to_have_count(1)
    rows.first.click()
    event = page.locator("#evento")
    expect(event).to_contain_text("CTO-12, Rua das Flores")
    expect(event.locator("#evd-logins tbody tr")).to_have_count(12)
    page.keyboard.press("Escape")
    page.get_by_label("Status").select_option("")
    page.get_by_role("button", name="Filtrar").click()
    expect(rows).to_have_count(2)
    shot(page, "07-eventos")
    page.get_by_role("link", name="Saúde").click()
    expect(page.locator("#componentes li")).to_have_count(6)
    expect(page.locator("#componentes")).to_contain_text("Alarmes da rede")
    expect(page.locator("#componentes")).to_contain_text("Avisos aos clientes")
    expect(page.locator("#componentes")).to_contain_text("provedor HSM, modelos 114 (LOS) e 116 (energia)")
    expect(page.locator("#s-duracao")).to_have_text("2,5 s")
    expect(page.locator("#s-instancia")).to_contain_text("Esta instância (")
    assert page.evaluate(
        "() => [...document.querySelectorAll('.table-wrap')].every((w) => w.scrollWidth <= w.clientWidth)"
    )
    shot(page, "08-saude")
    phone = page_for("maria", viewport=PHONE)
    expect(phone.locator("#incidentes tbody tr").first).to_be_visible()
    assert page.dialogs == [] and phone.dialogs == []  # type: ignore[attr-defined]


def test_an_event_whose_alert_was_held_says_why(page_for: Any, world: World) -> None:
    page = page_for("leitor")
    page.get_by_role("link", name="Eventos").click()
    held = page.locator("#eventos tbody tr", has_text="OLT-CENTRO")
    expect(held).to_contain_text("alerta retido")
    held.click()
    event = page.locator("#evento")
    expect(event.locator("#evd-retidos li")).to_contain_text(
        "Alerta retido: recorrência: 3ª queda no mesmo local em 1 h; o aviso de recorrência já saiu às 03:10"
    )
    expect(event.locator("#evd-alertas tbody")).to_have_text(
        "Nenhum alerta enviado: veja acima por que foi retido."
    )
    expect(event.locator("#evd-fatos")).to_contain_text("3ª queda no local")
    evidence = event.locator("#evd-evidencias tbody tr").first
    expect(evidence).to_contain_text("0/5/1:3")
    expect(evidence).to_contain_text("Perda de sinal (LOS)")
    expect(evidence).to_contain_text("23/11/2026 03:07")  # another day: with the year
    expect(event).not_to_contain_text("classificacao")


def test_the_phone_header_is_short_and_shows_every_section(page_for: Any, world: World) -> None:
    page = page_for("maria", viewport=PHONE)
    page.get_by_role("link", name="Histórico").click()
    header = page.locator(".sidebar").bounding_box()
    assert header is not None and header["height"] <= 110, header
    for link in page.locator(".nav a").all():
        box = link.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (
            link.inner_text()
        )
    page.get_by_role("link", name="Eventos").click()
    expect(page.locator("#filtros")).to_be_hidden()
    first = page.locator("#eventos tbody tr").first
    expect(first).to_be_visible()
    box = first.bounding_box()
    assert box is not None and box["y"] < PHONE["height"], box
    page.get_by_text("Filtros", exact=True).click()
    expect(page.get_by_label("Status")).to_be_visible()


def test_the_chart_axis_spans_the_history_with_round_ticks(page_for: Any, world: World) -> None:
    page = page_for("maria")
    labels = page.locator("#grafico text.axis")
    expect(labels.first).to_be_visible()
    texts = labels.evaluate_all("nodes => nodes.map((n) => n.textContent)")
    values = [int(t.replace(".", "")) for t in texts if ":" not in t]
    times = [t for t in texts if ":" in t]
    step = values[1] - values[0]
    assert values[0] == 0 and all(b - a == step for a, b in itertools.pairwise(values))
    assert str(step)[0] in "125" and set(str(step)[1:]) <= {"0"}, values
    assert len(times) == len(set(times)) >= 3, times


def test_the_modal_traps_focus_and_closes_on_the_backdrop(page_for: Any, world: World) -> None:
    page = page_for("maria")
    dialog = page.locator("#detalhes")
    page.locator("#incidentes tbody tr").first.get_by_role("button", name="Detalhes").click()
    expect(dialog).to_be_visible()
    for _ in range(8):
        page.keyboard.press("Tab")
        assert page.evaluate("document.getElementById('detalhes').contains(document.activeElement)")
    page.mouse.click(5, 5)
    expect(dialog).to_be_hidden()


def test_logout_ends_the_session(page_for: Any) -> None:
    page = page_for("maria")
    page.get_by_role("button", name="Sair").click()
    expect(page).to_have_url(re.compile(r"/entrar$"))
    page.goto("/painel/historico")
    expect(page).to_have_url(re.compile(r"/entrar\?proximo="))


def test_an_operator_closes_an_event_stuck_open_and_a_reader_cannot(page_for: Any, world: World) -> None:
    reader = page_for("leitor")
    reader.get_by_role("link", name="Eventos").click()
    reader.locator("#eventos tbody tr").first.click()
    expect(reader.locator("#evento")).to_be_visible()
    expect(reader.locator("#evd-encerrar")).to_be_hidden()
    page = page_for("maria")
    page.get_by_role("link", name="Eventos").click()
    rows = page.locator("#eventos tbody tr")
    expect(rows.first).to_contain_text("OLT-CENTRO")
    rows.first.click()
    expect(page.locator("#evd-acoes-texto")).to_contain_text("Sem mudança há 2 h")
    close = page.locator("#evd-encerrar")
    close.click()
    confirm = page.locator("#encerrar")
    expect(confirm).to_contain_text("6 logins ainda offline saem do evento")
    assert axe_violations(page) == []
    confirm.get_by_role("button", name="Cancelar").click()
    expect(confirm).to_be_hidden()
    expect(page.locator("#evd-sub")).to_contain_text("ATIVO")
    close.click()
    confirm.get_by_role("button", name="Encerrar evento").click()
    expect(page.locator("#evd-sub")).to_contain_text("RESOLVIDO")
    expect(page.locator("#evd-acoes")).to_be_hidden()
    assert page.dialogs == []  # type: ignore[attr-defined]
