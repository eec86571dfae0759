"""The simulator speaks the real systems' formats: one test per external system, over the
real servers of the demo wiring (a fiber cut on a Huawei PON and one on a ZTE PON)."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from netmiko import ConnectHandler

from outage.adapters.cause.parsers import screen_text
from simulator.demo import OLT_PASSWORD, OLT_USER, DemoSimulator
from simulator.network import INSTANT, Customer

REFERENCE_RADUSUARIOS = [
    "id",
    "ativo",
    "online",
    "login",
    "id_cliente",
    "id_contrato",
    "conexao",
    "concentrador",
    "id_transmissor",
    "interface_transmissao",
    "id_caixa_ftth",
    "ftth_porta",
    "onu_mac",
    "modelo_tranmissor",
    "ultima_conexao_inicial",
    "ultima_conexao_final",
    "motivo_desconexao",
    "count_desconexao",
    "latitude",
    "longitude",
    "ultima_atualizacao",
]
REFERENCE_CLIENTE = [
    "razao",
    "fantasia",
    "fone",
    "telefone_celular",
    "telefone_comercial",
    "whatsapp",
    "contato",
    "email",
    "ativo",
]
LOCAL_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})$")


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoSimulator]:
    formats = tmp_path_factory.mktemp("formats")
    with DemoSimulator(formats, customers=400, seed=5, scenario=False, churn=False, timing=INSTANT) as demo:
        for vendor in ("huawei", "zte"):
            olt = next(o for o in demo.network.olts if o.vendor == vendor)
            port = next(port for (olt_id, port) in demo.network.pons() if olt_id == olt.id)
            demo.incidents.cut_pon(olt.id, port)
        yield demo


def _cut_customer(sim: DemoSimulator, vendor: str) -> Customer:
    incident = next(
        i for i in sim.incidents.active.values() if sim.network.affected(i.id)[0].vendor == vendor
    )
    return sim.network.affected(incident.id)[0]


def _ssh(sim: DemoSimulator, customer: Customer, device_type: str) -> Any:
    emulator = sim.olts[customer.olt.id]
    return ConnectHandler(
        device_type=device_type,
        host="127.0.0.1",
        port=emulator.port,
        username=OLT_USER,
        password=OLT_PASSWORD,
    )


def test_ixc_lists_radusuarios_and_cliente_as_strings_with_basic_auth(sim: DemoSimulator) -> None:
    auth = base64.b64encode(f"{sim.ixc.user}:{sim.ixc.token}".encode()).decode()
    headers = {"Authorization": f"Basic {auth}", "ixcsoft": "listar"}
    grid = [
        {"TB": "radusuarios.ativo", "OP": "=", "P": "S"},
        {"TB": "radusuarios.online", "OP": "=", "P": "N"},
    ]
    body = {"qtype": "radusuarios.id", "query": "0", "oper": ">", "page": "1", "rp": "50"}
    body |= {"sortname": "radusuarios.id", "sortorder": "asc", "grid_param": json.dumps(grid)}
    answer = requests.post(
        f"{sim.ixc.url}/webservice/v1/radusuarios", json=body, headers=headers, timeout=10
    ).json()
    assert isinstance(answer["page"], str) and isinstance(answer["total"], str)
    assert int(answer["total"]) >= len(answer["registros"]) > 0
    for record in answer["registros"]:
        assert set(REFERENCE_RADUSUARIOS) <= set(record)
        assert all(isinstance(value, str) for value in record.values())
        assert (record["ativo"], record["online"]) == ("S", "N")
        assert LOCAL_TIME.match(record["ultima_conexao_final"])
    clients = requests.post(
        f"{sim.ixc.url}/webservice/v1/cliente", json={"page": "1", "rp": "5"}, headers=headers, timeout=10
    ).json()
    assert all(
        set(REFERENCE_CLIENTE) <= set(c) and all(isinstance(v, str) for v in c.values())
        for c in clients["registros"]
    )
    refused = requests.post(
        f"{sim.ixc.url}/webservice/v1/radusuarios", json=body, headers={"ixcsoft": "listar"}, timeout=10
    )
    assert refused.status_code in (200, 401) and (
        refused.status_code == 401 or refused.json().get("type") == "error"
    )


def test_the_original_services_answer_their_shapes(sim: DemoSimulator) -> None:
    offline = requests.get(f"{sim.middlewares['ixc'].url}/clientes/offline", timeout=10).json()["clientes"]
    assert offline and set(offline[0]) >= {"login", "conexao", "id_transmissor", "ultima_conexao_final"}
    cut = _cut_customer(sim, "huawei")
    logins = [c.login for c in sim.network.affected(next(iter(sim.incidents.active)))][:3]
    consulta = requests.post(
        f"{sim.middlewares['olt'].url}/consulta/olt",
        json={"logins": logins, "id_transmissor": cut.olt.id},
        timeout=10,
    ).json()
    assert consulta["motivo_final"] == "loss" and isinstance(consulta["detalhes"], list)
    sent = requests.post(
        f"{sim.middlewares['alerta'].url}/alerta/whatsapp",
        json={"total_clientes": 3, "conexao": cut.conexao, "motivo": "loss"},
        timeout=10,
    )
    assert sent.status_code == 200


def test_huawei_cli_shows_the_ont_table_and_the_los_detail(sim: DemoSimulator) -> None:
    customer = _cut_customer(sim, "huawei")
    conn = _ssh(sim, customer, "huawei_smartax")
    try:
        conn.enable()
        conn.config_mode()
        listing = conn.send_command(f"display ont info by-desc {customer.login}")
        frame, slot, port = customer.port.split("/")
        detail = conn.send_command(f"display ont info {frame} {slot} {port} {customer.ont_id}")
    finally:
        conn.disconnect()
    assert "F/S/P" in listing and customer.onu_mac in listing and "the total of ONTs are" in listing
    assert re.search(
        r"\d+/\s*\d+/\d+\s+" + str(customer.ont_id) + r"\s+" + customer.onu_mac + r"\s+\w+\s+offline", listing
    )
    assert re.search(r"Run state\s+: offline", detail)
    assert re.search(r"Last down cause\s+: LOS", detail)
    assert re.search(r"Last down time\s+: \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}-03:00", detail)


def _paged(conn: Any, command: str) -> str:
    """The answer as a terminal shows it, pressing space at each `--More--` (a C600 pages regardless)."""
    conn.write_channel(conn.normalize_cmd(command))
    raw = ""
    while not re.search(r"#\s*$", raw):
        raw += conn.read_until_pattern(r"--More--\s*$|#\s*$", read_timeout=10)
        if raw.rstrip().endswith("--More--"):
            conn.write_channel(" ")
    return screen_text(raw, ("--More--",))


def test_zte_cli_shows_onu_states_and_the_detail_history(sim: DemoSimulator) -> None:
    customer = _cut_customer(sim, "zte")
    conn = _ssh(sim, customer, "zte_zxros")
    try:
        titan = customer.olt.model in {"C600", "C620", "C650"}
        olt, onu = ("gpon_olt-", "gpon_onu-") if titan else ("gpon-olt_", "gpon-onu_")
        states = _paged(conn, f"show gpon onu state {olt}{customer.port}")
        detail = _paged(conn, f"show gpon onu detail-info {onu}{customer.port}:{customer.ont_id}")
    finally:
        conn.disconnect()
    assert re.search(r"OnuIndex\s+Admin State\s+OMCC State\s+Phase [Ss]tate", states)
    assert re.search(r"ONU Number: \d+/\d+", states)
    assert re.search(rf"(^|\s|-){customer.port}:{customer.ont_id}\s+\S+\s+\S+\s+LOS", states)
    assert "Serial number" in detail and "OfflineTime" in detail and "LOS" in detail


def test_olt_system_logs_in_lists_open_alerts_and_details_their_devices(sim: DemoSimulator) -> None:
    base = sim.olt_system.url
    refused = requests.post(sim.olt_system.auth_url, json={"username": "x", "password": "y"}, timeout=10)
    assert refused.status_code == 401
    login = {"username": sim.olt_system.username, "password": sim.olt_system.password}
    token = requests.post(sim.olt_system.auth_url, json=login, timeout=10).json()["access"]
    headers = {"Authorization": f"Bearer {token}"}
    assert requests.get(f"{base}/api/v2/ftth/alert/list", timeout=10).status_code == 401
    listing = requests.get(
        f"{base}/api/v2/ftth/alert/list?end_date__isnull=true", headers=headers, timeout=10
    ).json()
    assert set(listing) >= {"count", "next", "results"} and listing["count"] == 2
    alert = listing["results"][0]
    assert alert["alert_type"] == "pon_loss" and alert["end_date"] is None
    assert set(alert) >= {
        "id",
        "olt_id",
        "olt_name",
        "slot_pon",
        "pon",
        "initial_date",
        "total_devices_count",
    }
    detail = requests.get(f"{base}/api/v2/ftth/alert/{alert['id']}", headers=headers, timeout=10).json()[
        "alert"
    ]
    device = detail["affected_devices"][0]
    assert set(device["onu_device"]) >= {"client_id", "sn_onu", "client_name", "status"}
    client = requests.get(f"{base}/api/v2/client/{device['client_id']}", headers=headers, timeout=10).json()
    assert set(client["clients"][0]) >= {"name", "contact"}


def test_telegram_accepts_html_and_refuses_broken_entities(sim: DemoSimulator) -> None:
    url = f"{sim.telegram.url}/bot{sim.telegram.token}/sendMessage"
    ok = requests.post(
        url, json={"chat_id": "-100", "text": "<b>Queda</b> &amp; mais", "parse_mode": "HTML"}, timeout=10
    )
    assert ok.json()["ok"] is True and "message_id" in ok.json()["result"]
    bad = requests.post(
        url, json={"chat_id": "-100", "text": "<img src=x>", "parse_mode": "HTML"}, timeout=10
    )
    assert bad.status_code == 400
    assert bad.json()["ok"] is False and bad.json()["error_code"] == 400 and "description" in bad.json()


def test_whatsapp_cloud_accepts_templates_and_answers_meta_errors(sim: DemoSimulator) -> None:
    url = f"{sim.whatsapp.api_url}/123/messages"
    message = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "5511987654321",
        "type": "template",
        "template": {
            "name": "queda_massiva_los",
            "language": {"code": "pt_BR"},
            "components": [{"type": "body", "parameters": [{"type": "text", "text": "Maria"}]}],
        },
    }
    ok = requests.post(
        url, json=message, headers={"Authorization": f"Bearer {sim.whatsapp.token}"}, timeout=10
    )
    assert ok.json()["messages"][0]["id"].startswith("wamid.")
    assert ok.json()["contacts"][0]["wa_id"] == "5511987654321"
    expired = requests.post(url, json=message, headers={"Authorization": "Bearer errado"}, timeout=10)
    assert expired.status_code == 401
    assert set(expired.json()["error"]) >= {"message", "type", "code", "error_data", "fbtrace_id"}
    assert expired.json()["error"]["code"] == 190


def test_hsm_provider_takes_disparo_hsm_body_with_a_bare_token(sim: DemoSimulator) -> None:
    body = {
        "cod_conta": 1,
        "hsm": 114,
        "tipo_envio": 2,
        "contato": {"nome": "Maria", "telefone": "5511987654321"},
    }
    ok = requests.post(sim.hsm.send_url, json=body, headers={"Authorization": sim.hsm.token}, timeout=10)
    assert ok.status_code in (200, 201)
    refused = requests.post(sim.hsm.send_url, json=body, headers={"Authorization": "errado"}, timeout=10)
    assert refused.status_code == 401
    assert sim.hsm.messages[-1]["contato"]["telefone"] == "5511987654321"
