"""The HSM dispatch console over real fakes: OLT system, ERP `cliente`, HSM provider."""

from __future__ import annotations

import re
import sqlite3
import threading
import time
import uuid
from datetime import datetime

import pytest

import outage.db
from outage.alerts.sender import Sender
from outage.core.model import Subscriber, pack_members
from outage.db import connect, transaction
from outage.web.app import create_app
from simulator.ixc import FakeIXC
from simulator.olt_system import OltSystemFake
from simulator.whatsapp import FakeHSMProvider

pytestmark = pytest.mark.both_databases

AUTH = {"Authorization": "Bearer x"}


@pytest.fixture
def olt():
    with OltSystemFake() as server:
        yield server


@pytest.fixture
def ixc():
    with FakeIXC() as server:
        yield server


@pytest.fixture
def settings(make_settings, olt, hsm, ixc):
    return make_settings(
        MONITOR_API_TOKEN="x",
        API_BASE_URL=olt.url,
        API_AUTH_URL=olt.auth_url,
        API_USER=olt.username,
        API_PASS=olt.password,
        URL_HSM=hsm.send_url,
        TOKEN_HSM=hsm.token,
        IXC_URL=ixc.url,
        IXC_USER=ixc.user,
        IXC_TOKEN=ixc.token,
        HSM_TEMPLATE_NORMALIZED="120",
    )


@pytest.fixture
def client(settings):
    return create_app(settings).test_client()


def devices(prefix: int, phones: list[str], olt: OltSystemFake) -> list[dict]:
    """Devices of an alert, each a client of the OLT system with the given phone."""
    result = []
    for n, phone in enumerate(phones):
        client_id = str(prefix + n)
        olt.set_client(client_id, f"Cliente {client_id}", phone)
        result.append(
            {
                "client_id": client_id,
                "sn_onu": f"HWTC{prefix + n:08X}",
                "client_name": "",
                "status": "offline",
            }
        )
    return result


def los_alert(olt: OltSystemFake, phones: list[str], *, pon: str = "0/1/1", prefix: int = 100) -> str:
    alert = {"alert_type": "pon_loss", "olt_name": "OLT-SUL", "slot_pon": pon, "cto_name": "CTO-7"}
    return str(olt.add_alert(alert, devices(prefix, phones, olt)))


def approve(client, incident_id: str, **extra):
    return client.post("/api/acao", json={"id": incident_id, "acao": "aprovar", **extra}, headers=AUTH)


def sent_phones(hsm: FakeHSMProvider) -> list[str]:
    return [m["contato"]["telefone"] for m in hsm.messages]


PHONES = ["(11) 98765-0001", "11987650002", "(11) 98765-0001", "123", ""]


def test_it_lists_open_incidents_of_both_sources_with_their_type(client, olt, settings):
    los_alert(olt, PHONES)
    olt.add_alert({"alert_type": "pon_no_power", "olt_name": "OLT-NORTE", "slot_pon": "0/2/3"}, [])
    olt.add_alert({"alert_type": "onu_dying_gasp", "olt_name": "OLT-NORTE", "slot_pon": "0/2/4"}, [])
    event_id = add_event(settings.database, "energia", [sub(1, "1001")])
    body = client.get("/api/painel/incidentes", headers=AUTH).get_json()
    by_id = {i["incidente"]: i for i in body["incidentes"]}
    assert set(by_id) == {"1", "2", f"ev-{event_id}"}
    assert (by_id["1"]["id"], by_id["2"]["id"], by_id[f"ev-{event_id}"]["id"]) == (1, 2, -1)
    assert (by_id["1"]["tipo"], by_id["1"]["fonte"], by_id["1"]["afetados"]) == ("LOS", "olt", 5)
    assert "CTO" in by_id["1"]["causa_provavel"]
    assert by_id["2"]["tipo"] == "POWER"
    assert by_id[f"ev-{event_id}"]["fonte"] == "monitor"
    assert by_id[f"ev-{event_id}"]["tipo"] == "POWER"
    assert body["em_cooldown"] == []


def test_it_shows_details_after_the_token_expired_with_one_shared_login(client, olt):
    incident = los_alert(olt, [f"119876{n:05d}" for n in range(40)] + ["x"])
    client.get("/api/incidentes", headers=AUTH)
    logins = olt.logins
    olt.expire_tokens()
    body = client.get(f"/api/detalhes/{incident}", headers=AUTH).get_json()
    assert olt.logins == logins + 1
    assert (body["info"]["id"], body["info"]["incidente"]) == (int(incident), incident)
    clientes = body["clientes"]
    assert len(clientes) == 41
    assert clientes[0] == {
        "client_id": "100",
        "sn_onu": "HWTC00000064",
        "client_name": "Cliente 100",
        "status": "offline",
        "slot_pon": "0/1/1",
        "contact": "5511987600000",
        "ultimo_aviso": None,
        "erro": None,
        "login": "",
        "fonte": "olt",
    }
    assert clientes[-1]["contact"] is None


def test_approval_sends_one_message_per_valid_distinct_phone_with_the_los_template(client, olt, hsm):
    incident = los_alert(olt, PHONES)
    answer = approve(client, incident).get_json()
    assert answer["success"] is True
    assert (answer["enviados"], answer["falhas"], answer["sem_telefone"], answer["ignorados"]) == (2, 0, 2, 1)
    assert sorted(sent_phones(hsm)) == ["5511987650001", "5511987650002"]
    assert {m["hsm"] for m in hsm.messages} == {114}
    assert {(m["cod_conta"], m["tipo_envio"]) for m in hsm.messages} == {(1, 2)}
    assert client.get("/api/incidentes", headers=AUTH).get_json() == []


def test_approving_twice_sends_once(client, olt, hsm):
    incident = los_alert(olt, PHONES)
    approve(client, incident)
    again = approve(client, incident).get_json()
    assert again["success"] is True and again["repetido"] is True
    assert len(hsm.messages) == 2


def test_concurrent_approvals_of_one_incident_dispatch_once(settings, olt, hsm):
    incident = los_alert(olt, [f"119876{n:05d}" for n in range(30)])
    app = create_app(settings)
    answers: list[dict] = []
    barrier = threading.Barrier(6)

    def operator() -> None:
        with app.test_client() as c:
            barrier.wait()
            answers.append(approve(c, incident).get_json())

    threads = [threading.Thread(target=operator) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(hsm.messages) == 30
    assert len(set(sent_phones(hsm))) == 30
    assert sum(not a["repetido"] for a in answers) == 1


def test_denying_records_the_decision_and_sends_nothing(client, olt, hsm):
    incident = los_alert(olt, PHONES)
    answer = client.post(
        "/api/acao", json={"id": incident, "acao": "negar", "comentario": "falso alarme"}, headers=AUTH
    ).get_json()
    assert answer["success"] is True
    assert hsm.messages == []
    history = client.get("/api/historico", headers=AUTH).get_json()
    assert (history[0]["acao"], history[0]["usuario"], history[0]["comentario"]) == (
        "NEGADO",
        "api",
        "falso alarme",
    )
    assert client.get("/api/incidentes", headers=AUTH).get_json() == []


def test_a_new_incident_on_the_same_key_waits_out_the_cooldown(client, olt, hsm):
    first = los_alert(olt, ["11987650001"])
    approve(client, first)
    second = los_alert(olt, ["11987650009"], prefix=500)
    listed = client.get("/api/painel/incidentes", headers=AUTH).get_json()
    assert listed["incidentes"] == []
    assert [i["incidente"] for i in listed["em_cooldown"]] == [second]
    assert listed["em_cooldown"][0]["liberado_em"] > time.time() + 23 * 3600
    refused = approve(client, second)
    assert refused.status_code == 409 and refused.get_json()["success"] is False
    assert re.match(
        r"Bloqueado até \d\d/\d\d \d\d:\d\d: OLT-", refused.get_json()["msg"]
    )  # a time people read
    assert sent_phones(hsm) == ["5511987650001"]


def test_a_phone_gets_at_most_one_notice_per_24_hours_across_incidents(client, olt, hsm):
    approve(client, los_alert(olt, ["11987650001", "11987650002"]))
    other = los_alert(olt, ["11987650001", "11987650003"], pon="0/9/9", prefix=500)
    details = client.get(f"/api/detalhes/{other}", headers=AUTH).get_json()
    assert details["clientes"][0]["ultimo_aviso"] is not None
    answer = approve(client, other).get_json()
    assert (answer["enviados"], answer["ignorados"]) == (1, 1)
    assert sorted(sent_phones(hsm)) == ["5511987650001", "5511987650002", "5511987650003"]


def test_a_provider_failing_for_some_phones_counts_the_failures(client, olt, hsm, settings):
    incident = los_alert(olt, [f"119876{n:05d}" for n in range(6)])
    hsm.fail_next("400", "400")
    answer = approve(client, incident).get_json()
    assert (answer["enviados"], answer["falhas"]) == (4, 2)
    history = client.get("/api/historico", headers=AUTH).get_json()
    assert history[0]["contagens"]["falhas"] == 2


def test_a_transient_failure_is_resent_later_without_resending_what_was_accepted(client, olt, hsm, settings):
    incident = los_alert(olt, [f"119876{n:05d}" for n in range(5)])
    hsm.fail_next("500")
    answer = approve(client, incident).get_json()
    assert (answer["enviados"], answer["falhas"]) == (5, 0)
    assert len(hsm.messages) == 4
    later = Sender(settings.database, settings, clock=lambda: time.time() + 3600)
    later.deliver_due()
    later.close()
    assert sorted(sent_phones(hsm)) == sorted(f"55119876{n:05d}" for n in range(5))


def test_unknown_id_bad_body_and_missing_auth_answer_json_errors(client, olt):
    assert approve(client, "999").status_code == 404
    assert approve(client, "ev-nao-existe").status_code == 404
    assert client.get("/api/detalhes/999", headers=AUTH).status_code == 404
    bad = client.post("/api/acao", json={"id": "1", "acao": "enviar"}, headers=AUTH)
    assert bad.status_code == 400 and "acao" in bad.get_json()["erro"]
    assert client.post("/api/acao", data="x", headers=AUTH).status_code == 400
    assert client.post("/api/acao", json={"acao": "aprovar"}, headers=AUTH).status_code == 400
    for response in (
        client.get("/api/incidentes"),
        client.post("/api/acao", json={"id": "1", "acao": "negar"}),
    ):
        assert response.status_code == 401
        assert "erro" in response.get_json()


# --- the monitor's own events -----------------------------------------------------------


def sub(n: int, id_cliente: str) -> Subscriber:
    return Subscriber(
        login=f"cliente{n}",
        conexao="OLT-A",
        id=str(n),
        id_cliente=id_cliente,
        onu_mac=f"48575443{n:08X}",
        interface_transmissao="0/1/0",
    )


def add_event(db_path: str, motivo: str, subs: list[Subscriber]) -> str:
    event_id = str(uuid.uuid4())
    conn: sqlite3.Connection = connect(db_path)
    now = time.time()
    conn.execute(
        "INSERT INTO events (id, conexao, timestamp, status, logins, motivo, atualizado_em, clientes, local_detalhe)"
        " VALUES (?, 'OLT-A', ?, 'ativo', ?, ?, ?, ?, ?)",
        (
            event_id,
            now - 60,
            str([s.login for s in subs]).replace("'", '"'),
            motivo,
            now,
            pack_members((s, now - 60) for s in subs),
            '{"olt": "OLT-A", "pon": "0/1/0"}',
        ),
    )
    conn.close()
    return event_id


def cliente(client_id: str, **phones: str) -> dict[str, str]:
    base = {
        "id": client_id,
        "razao": f"Maria {client_id}",
        "fone": "",
        "telefone_celular": "",
        "whatsapp": "",
    }
    return {**base, **phones}


def test_monitor_events_take_phones_from_the_erp_and_the_operator_picks_the_template(
    client, ixc, hsm, settings
):
    ixc.set_records(
        "cliente",
        [
            cliente("1001", telefone_celular="(48) 99111-0001", fone="(48) 3333-0000"),
            cliente("1002", telefone_celular="", whatsapp="48991110002"),
            cliente("1003", fone="123"),
        ],
    )
    subs = [sub(1, "1001"), sub(2, "1002"), sub(3, "1003"), sub(4, "0"), sub(5, "1001")]
    incident = "ev-" + add_event(settings.database, "indeterminado", subs)
    details = client.get(f"/api/detalhes/{incident}", headers=AUTH).get_json()
    contacts = [c["contact"] for c in details["clientes"]]
    assert contacts == ["5548991110001", "5548991110002", None, None, "5548991110001"]
    assert details["clientes"][0]["client_name"] == "Maria 1001"
    assert details["info"]["tipo"] == "INDETERMINADO"
    assert sum(1 for r in ixc.requests if r.table == "cliente") == 1
    assert approve(client, incident).status_code == 400
    answer = approve(client, incident, template="POWER").get_json()
    assert (answer["enviados"], answer["sem_telefone"], answer["ignorados"]) == (2, 2, 1)
    assert {m["hsm"] for m in hsm.messages} == {116}


def test_in_middleware_mode_customers_have_no_contact_and_say_why(make_settings, hsm):
    settings = make_settings(
        API_TOKEN="x", IXCSOFT_SERVICE_URL="http://127.0.0.1:9", URL_HSM=hsm.send_url, TOKEN_HSM=hsm.token
    )
    app = create_app(settings)
    incident = "ev-" + add_event(settings.database, "loss", [sub(1, "1001")])
    body = app.test_client().get(f"/api/detalhes/{incident}", headers=AUTH).get_json()
    assert body["clientes"][0]["contact"] is None
    assert "intermediário" in body["clientes"][0]["erro"]


def test_history_exports_csv_and_a_resolved_incident_gets_the_normalization_notice(
    client, olt, hsm, settings
):
    incident = los_alert(olt, ["11987650001", "11987650002"])
    approve(client, incident)
    olt.resolve_alert(int(incident))
    client.get("/api/incidentes", headers=AUTH)
    entry = client.get("/api/historico", headers=AUTH).get_json()[0]
    assert (entry["status_atual"], entry["aviso_normalizacao"]) == ("NORMALIZADO", 2)
    assert entry["proximo_envio_permitido"] > time.time()
    Sender(settings.database, settings).deliver_due()
    assert sorted(m["hsm"] for m in hsm.messages) == [114, 114, 120, 120]
    csv = client.get("/api/historico?formato=csv", headers=AUTH)
    assert csv.mimetype == "text/csv"
    text = csv.get_data(as_text=True)
    assert text.startswith("\ufeff")  # Excel in pt-BR reads the accents
    lines = text[1:].splitlines()
    assert lines[0].startswith("Data;Quem;Decisão;Incidente;Fonte;Tipo;OLT;PON;")
    assert ";APROVADO;1;sistema de gerência de OLT;LOS;OLT-SUL;" in lines[1]
    assert ";provedor HSM;" in lines[1] and ";NORMALIZADO;" in lines[1]
    assert re.match(r"\d\d/\d\d/\d{4} \d\d:\d\d;", lines[1])


def test_the_poller_sends_the_normalization_notice_without_anyone_opening_the_console(
    client, olt, hsm, settings
):
    from outage.db import open_database
    from outage.hsm.dispatch import settle_after_cycle

    incident = los_alert(olt, ["11987650011"])
    approve(client, incident)
    olt.resolve_alert(int(incident))
    conn = open_database(settings.database)
    assert settle_after_cycle(conn, settings, time.time()) == 1
    assert settle_after_cycle(conn, settings, time.time()) == 0  # once
    conn.close()
    Sender(settings.database, settings).deliver_due()
    assert sorted(m["hsm"] for m in hsm.messages) == [114, 120]


def test_notices_not_sent_before_the_deadline_go_back_to_the_queue_untouched(make_settings, hsm):
    from outage.db import open_database
    from outage.hsm import dispatch
    from outage.hsm.delivery import deliver_rows
    from outage.hsm.enrich import Customer
    from outage.hsm.incidents import Incident

    hsm.latency = 0.3
    settings = make_settings(
        IXCSOFT_SERVICE_URL="http://127.0.0.1:9",
        URL_HSM=hsm.send_url,
        TOKEN_HSM=hsm.token,
        HSM_SEND_RATE="100",
    )
    conn = open_database(settings.database)
    incident = Incident("9", "olt", "LOS", "OLT-A", "0/1/1", 100, time.time(), "", "")
    customers = [
        Customer(str(n), "", f"Cliente {n}", "offline", "0/1/1", f"55119{n:08d}") for n in range(100)
    ]
    template = dispatch.choose_template(settings, incident, None)
    outcome = dispatch.approve(conn, settings, incident, customers, template, "ana", "", time.time())
    report = deliver_rows(settings.database, settings, outcome.row_ids, max_wait=0.2)
    assert 0 < report.sent < 100 and report.left == 100 - report.sent
    rows = conn.execute("SELECT status, attempts, COUNT(*) FROM outbox GROUP BY status, attempts").fetchall()
    assert sorted(tuple(r) for r in rows) == sorted(
        [("enviado", 1, report.sent), ("pendente", 0, report.left)]
    )
    conn.execute("UPDATE outbox SET next_attempt_at = 0 WHERE status = 'pendente'")  # the hold is over
    hsm.latency = 0.0
    Sender(settings.database, settings).deliver_due(max_wait=30)
    assert len(sent_phones(hsm)) == len(set(sent_phones(hsm))) == 100  # the rest later, none twice
    conn.close()


def twin_event(db_path: str, subs: list[Subscriber], *, olt: str = "OLT-SUL", pon: str = "0/1/1") -> str:
    """A monitor event on `olt`/`pon` (LOS), as the monitor writes it."""
    event_id = add_event(db_path, "loss", subs)
    conn = connect(db_path)
    conn.execute(
        "UPDATE events SET local = ?, local_detalhe = ? WHERE id = ?",
        (f"PON {pon} da {olt}", f'{{"olt": "{olt}", "pon": "{pon}"}}', event_id),
    )
    conn.close()
    return event_id


def test_an_outage_seen_by_the_olt_system_and_the_monitor_is_one_row_with_one_count(client, olt, settings):
    alert = los_alert(olt, ["11987650001", "11987650002", "11987650003"])
    twin = twin_event(settings.database, [sub(n, str(1000 + n)) for n in range(1, 6)])
    other_pon = twin_event(settings.database, [sub(n, str(1000 + n)) for n in range(6, 9)], pon="0/1/2")
    power = add_event(settings.database, "energia", [sub(9, "1009")])
    body = client.get("/api/painel/incidentes", headers=AUTH).get_json()
    by_id = {i["incidente"]: i for i in body["incidentes"]}
    assert set(by_id) == {alert, f"ev-{other_pon}", f"ev-{power}"}
    assert by_id[alert]["gemeos"] == [f"ev-{twin}"]
    details = client.get(f"/api/detalhes/{alert}", headers=AUTH).get_json()["clientes"]
    assert by_id[alert]["afetados"] == len(details) == 3 + 5  # the row counts what the detail lists
    assert body["clientes_afetados"] == 8 + 3 + 1  # every pending row's customers, each once
    assert by_id[alert]["local"] == "CTO-7"
    seed = client.get("/api/incidentes", headers=AUTH).get_json()
    assert len(seed) == 3


def test_approving_a_merged_outage_notifies_the_union_of_both_sources_once(client, olt, ixc, hsm, settings):
    ixc.set_records(
        "cliente", [cliente(str(1000 + n), telefone_celular=f"(11) 98765-{n:04d}") for n in range(1, 6)]
    )
    alert = los_alert(olt, ["11987650001", "11987650002", "21999990000"], prefix=100)
    subs = [sub(n, str(1000 + n)) for n in range(1, 6)]
    twin = twin_event(settings.database, subs)
    details = client.get(f"/api/detalhes/{alert}", headers=AUTH).get_json()
    assert len(details["clientes"]) == 3 + 5
    answer = approve(client, alert).get_json()
    assert answer["success"] and not answer.get("repetido")
    Sender(settings.database, settings).deliver_due(max_wait=30)
    phones = sent_phones(hsm)
    assert len(phones) == len(set(phones)) == 6  # 3 from the OLT system, 5 from the ERP, 2 shared
    again = approve(client, f"ev-{twin}").get_json()
    assert again["repetido"] is True
    olt.resolve_alert(int(alert))
    listed = client.get("/api/painel/incidentes", headers=AUTH).get_json()["incidentes"]
    assert f"ev-{twin}" not in {i["incidente"] for i in listed}  # decided with its twin alert
    assert len(sent_phones(hsm)) == 6


# --- the original console's routes, field by field as its page reads them ------------------

SEED_INCIDENT = {
    "id": int,
    "alert_type": str,
    "initial_date": str,
    "total_devices_count": int,
    "olt_name": str,
    "slot_pon": str,
}
SEED_INFO = {**SEED_INCIDENT, "causa_provavel": str}
SEED_CLIENT = {
    "client_id": str,
    "sn_onu": str,
    "client_name": str,
    "status": str,
    "slot_pon": str,
    "contact": (str, type(None)),
}


def assert_fields(item: dict, fields: dict) -> None:
    for name, kind in fields.items():
        assert name in item, name
        assert isinstance(item[name], kind) and not isinstance(item[name], bool), (name, item[name])


def test_the_original_incident_list_is_a_bare_array_with_numeric_ids_that_never_collide(
    client, olt, settings
):
    los_alert(olt, PHONES)
    event_id = add_event(settings.database, "energia", [sub(1, "1001")])
    listed = client.get("/api/incidentes", headers=AUTH).get_json()
    assert isinstance(listed, list) and len(listed) == 2
    for item in listed:
        assert_fields(item, SEED_INCIDENT)
        datetime.fromisoformat(item["initial_date"])
    by_source = {item["fonte"]: item for item in listed}
    assert by_source["olt"]["id"] == 1 and by_source["olt"]["alert_type"] == "pon_loss"
    assert by_source["monitor"]["id"] < 0 and by_source["monitor"]["alert_type"] == "pon_no_power"
    assert by_source["monitor"]["incidente"] == f"ev-{event_id}"
    again = client.get("/api/incidentes", headers=AUTH).get_json()
    assert [i["id"] for i in again] == [i["id"] for i in listed]  # the same numbers, the same order


def test_the_original_details_answer_info_and_clients_under_any_spelling_of_the_id(client, olt, settings):
    los_alert(olt, ["11987650001"])
    event_id = add_event(settings.database, "loss", [sub(1, "1001")])
    number = next(i["id"] for i in client.get("/api/incidentes", headers=AUTH).get_json() if i["id"] < 0)
    for incident in ("1", str(number), f"ev-{event_id}"):
        body = client.get(f"/api/detalhes/{incident}", headers=AUTH).get_json()
        assert set(body) >= {"info", "clientes"}
        assert_fields(body["info"], SEED_INFO)
    assert_fields(client.get("/api/detalhes/1", headers=AUTH).get_json()["clientes"][0], SEED_CLIENT)
    same = client.get(f"/api/detalhes/{number}", headers=AUTH).get_json()["info"]
    assert same["incidente"] == f"ev-{event_id}" and same["alert_type"] == "pon_loss"


def test_the_original_action_answers_success_and_msg_also_when_refused(client, olt, settings):
    event_id = add_event(settings.database, "energia", [sub(1, "1001")])
    number = client.get("/api/incidentes", headers=AUTH).get_json()[0]["id"]
    denied = client.post("/api/acao", json={"id": number, "acao": "negar"}, headers=AUTH)
    assert denied.status_code == 200
    assert isinstance(denied.get_json()["success"], bool) and isinstance(denied.get_json()["msg"], str)
    again = client.post("/api/acao", json={"id": f"ev-{event_id}", "acao": "negar"}, headers=AUTH).get_json()
    assert again["success"] is True and again["repetido"] is True
    for body, status in (({"id": 999, "acao": "negar"}, 404), ({"id": 1, "acao": "x"}, 400)):
        refused = client.post("/api/acao", json=body, headers=AUTH)
        assert refused.status_code == status
        assert refused.get_json()["success"] is False and isinstance(refused.get_json()["msg"], str)


def test_the_original_history_is_a_bare_array_in_the_original_spelling(client, olt, hsm):
    approve(client, los_alert(olt, ["11987650001"]))
    denied = los_alert(olt, ["11987650002"], pon="0/9/9", prefix=500)
    client.post("/api/acao", json={"id": denied, "acao": "negar"}, headers=AUTH)
    history = client.get("/api/historico", headers=AUTH).get_json()
    assert isinstance(history, list) and len(history) == 2
    fields = {
        "id": int,
        "data_acao": str,
        "acao": str,
        "status_envio": str,
        "status_atual": str,
        "liberacao": str,
    }
    for entry in history:
        assert_fields(entry, fields)
        assert_fields(entry["snapshot"], SEED_INFO)
        datetime.strptime(entry["data_acao"], "%d/%m/%Y %H:%M:%S")
        assert entry["status_atual"] in ("ATIVO", "NORMALIZADO")
    negado, aprovado = history
    assert (negado["acao"], negado["liberacao"], negado["id"]) == ("NEGADO", "Imediata", int(denied))
    assert (aprovado["acao"], aprovado["status_envio"]) == ("APROVADO", "Sucesso")
    assert re.fullmatch(r"\d\d/\d\d \d\d:\d\d", aprovado["liberacao"])


# --- notices a crash left uncertain -----------------------------------------------------


def crash_mid_send(db_path: str) -> None:
    """As if the process died after the provider accepted and before the outcome was stored."""
    conn = connect(db_path)
    conn.execute(
        "UPDATE outbox SET status = 'enviando', claimed_by = 'morto', claimed_at = 0 WHERE kind = 'hsm_cliente'"
    )
    conn.close()


def test_notices_a_crash_left_uncertain_are_shown_and_resent_only_when_an_operator_asks(
    client, olt, hsm, settings
):
    approve(client, los_alert(olt, [f"119876{n:05d}" for n in range(3)]))
    assert len(hsm.messages) == 3
    crash_mid_send(settings.database)
    restarted = Sender(settings.database, settings)
    restarted.deliver_due()
    restarted.close()
    assert len(hsm.messages) == 3
    uncertain = client.get("/api/painel/incidentes", headers=AUTH).get_json()["incertos"]
    assert uncertain["total"] == 3 and uncertain["decisoes"][0]["olt_name"] == "OLT-SUL"
    assert client.post("/api/painel/incertos/reenviar", json={}).status_code == 401
    assert (
        client.post("/api/painel/incertos/reenviar", json={"decisao_id": "1"}, headers=AUTH).status_code
        == 400
    )
    answer = client.post("/api/painel/incertos/reenviar", json={}, headers=AUTH).get_json()
    assert (answer["success"], answer["reenviados"], answer["aceitos"]) == (True, 3, 3)
    assert len(hsm.messages) == 6
    assert client.get("/api/painel/incidentes", headers=AUTH).get_json()["incertos"]["total"] == 0


def test_normalization_notices_a_crash_left_uncertain_are_resent_with_their_decision(
    client, olt, hsm, settings
):
    alert = los_alert(olt, [f"119876{n:05d}" for n in range(3)])
    approve(client, alert)
    olt.resolve_alert(int(alert))
    client.get("/api/painel/incidentes", headers=AUTH)  # the listing settles what normalized
    Sender(settings.database, settings).deliver_due(max_wait=30)
    assert [m["hsm"] for m in hsm.messages].count(120) == 3
    conn = connect(settings.database)
    conn.execute(
        "UPDATE outbox SET status = 'enviando', claimed_by = 'morto', claimed_at = 0"
        " WHERE event_id LIKE 'hsm-normalizado:%'"
    )
    conn.close()
    Sender(settings.database, settings).deliver_due()
    uncertain = client.get("/api/painel/incidentes", headers=AUTH).get_json()["incertos"]
    assert uncertain["total"] == 3
    (decision,) = uncertain["decisoes"]
    answer = client.post(
        "/api/painel/incertos/reenviar", json={"decisao_id": decision["decisao_id"]}, headers=AUTH
    ).get_json()
    assert (answer["success"], answer["reenviados"]) == (True, 3)
    assert [m["hsm"] for m in hsm.messages].count(120) == 6


def test_an_olt_alert_is_placed_at_its_cto_else_its_pon_in_either_spelling_else_nowhere(client, olt):
    olt.unplaced_every = 0
    olt.add_alert({"alert_type": "cto_loss", "olt_name": "OLT-SUL", "slot_pon": "0/1/1", "cto_name": "CTO-7"})
    olt.add_alert({"alert_type": "pon_no_power", "olt_name": "OLT-SUL", "slot_pon": "0/1/2"})
    olt.add_alert({"alert_type": "pon_no_power", "olt_name": "OLT-NORTE", "pon": "0/2/3"})
    olt.add_alert({"alert_type": "no_power", "olt_name": "OLT-NORTE"})
    listed = client.get("/api/incidentes", headers=AUTH).get_json()
    places = {i["incidente"]: (i["local"], i["slot_pon"]) for i in listed}
    assert places == {
        "1": ("CTO-7", "0/1/1"),
        "2": ("PON 0/1/2 da OLT-SUL", "0/1/2"),
        "3": ("PON 0/2/3 da OLT-NORTE", "0/2/3"),
        "4": ("", ""),
    }


def test_the_olt_system_fake_leaves_some_power_alerts_without_their_pon(olt):
    power = {"alert_type": "pon_no_power", "olt_name": "OLT-SUL", "slot_pon": "0/1/2", "pon": "0/1/2"}
    ids = [olt.add_alert(dict(power)) for _ in range(3)] + [
        olt.add_alert({**power, "alert_type": "pon_loss"})
    ]
    assert [olt.alerts[i]["slot_pon"] for i in ids] == ["0/1/2", "0/1/2", None, "0/1/2"]
    assert all(olt.alerts[i]["olt_name"] == "OLT-SUL" and "cto_name" in olt.alerts[i] for i in ids)


def test_an_approval_while_the_database_is_locked_answers_503_and_sends_nothing(
    client, olt, hsm, settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    incident = los_alert(olt, ["11987650001"])
    client.get("/api/incidentes", headers=AUTH)
    monkeypatch.setattr(outage.db, "BUSY_TIMEOUT", 0.3)
    locker = connect(settings.database)
    try:
        with transaction(locker):  # holds the write lock meanwhile
            response = approve(client, incident)
    finally:
        locker.close()
    assert response.status_code == 503
    assert "bloqueado" in response.get_json()["erro"] and response.headers["Retry-After"]
    assert hsm.messages == []
    assert approve(client, incident).status_code == 200
