"""Through the WhatsApp Cloud API, Meta's statuses settle what a crash left uncertain before
an operator is offered a resend.

Real servers on 127.0.0.1: the OLT system fake (the incident), the Cloud API fake (accepts
messages as Meta does and posts their signed statuses to `/webhooks/whatsapp`, retrying
until answered) and the app itself. Time for the wait is a hand-moved clock.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask

from outage.alerts.sender import Sender
from outage.config import Settings
from outage.core.kinds import CUSTOMER_TEMPLATE
from outage.core.notices import notice_reference
from outage.db import Record, connect, json_field
from outage.hsm.dispatch import CONFIRMATION_WAIT
from outage.web.app import create_app
from simulator.httpserver import FakeHTTPServer
from simulator.olt_system import OltSystemFake
from simulator.ports import free_port
from simulator.whatsapp import CLOUD_TOKEN, FakeWhatsAppCloud
from tests.clocks import HandClock
from tests.test_hsm_dispatch import los_alert

pytestmark = pytest.mark.both_databases

SECRET = "segredo-do-app-meta"
NUMBER_ID = "123456789012345"
AUTH = {"Authorization": "Bearer x"}
PHONES = [f"119876500{n:02d}" for n in range(1, 5)]
EVERYONE = {f"55{p}" for p in PHONES}


@pytest.fixture
def olt() -> Iterator[OltSystemFake]:
    with OltSystemFake() as server:
        yield server


@pytest.fixture
def meta() -> Iterator[FakeWhatsAppCloud]:
    with FakeWhatsAppCloud(app_secret=SECRET, phone_number_id=NUMBER_ID) as server:
        yield server


@pytest.fixture
def hand() -> HandClock:
    return HandClock()


@pytest.fixture
def settings(make_settings: Callable[..., Settings], olt: OltSystemFake, meta: FakeWhatsAppCloud) -> Settings:
    return make_settings(
        MONITOR_API_TOKEN="x",
        IXCSOFT_SERVICE_URL="http://127.0.0.1:9",
        API_BASE_URL=olt.url,
        API_AUTH_URL=olt.auth_url,
        API_USER=olt.username,
        API_PASS=olt.password,
        WHATSAPP_TOKEN=CLOUD_TOKEN,
        WHATSAPP_PHONE_NUMBER_ID=NUMBER_ID,
        WHATSAPP_API_URL=meta.api_url,
        WHATSAPP_APP_SECRET=SECRET,
        WHATSAPP_WEBHOOK_VERIFY_TOKEN="token-de-verificacao",
    )


@pytest.fixture
def app(settings: Settings, hand: HandClock) -> Flask:
    return create_app(settings, clock=hand.clock())


def wait_for(condition: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError("condição não atingida a tempo")


def notices(settings: Settings) -> dict[str, Record]:
    """Each customer notice by phone: status, Meta's id, last error."""
    conn = connect(settings.database)
    rows = conn.execute(
        f"SELECT id, {json_field(conn, 'payload', 'to')} AS phone, status, provider_message_id, last_error"  # noqa: S608
        " FROM outbox WHERE kind = ?",
        (CUSTOMER_TEMPLATE,),
    ).fetchall()
    conn.close()
    return {str(r["phone"]): r for r in rows}


def crash_mid_send(settings: Settings) -> None:
    """As if the process died with every notice claimed and no outcome stored: whether Meta
    had it is known only to Meta."""
    conn = connect(settings.database)
    conn.execute(
        "UPDATE outbox SET status = 'enviando', claimed_by = 'morto', claimed_at = 0, provider_message_id = NULL,"
        " sent_at = NULL WHERE kind = ?",
        (CUSTOMER_TEMPLATE,),
    )
    conn.close()


def restart(settings: Settings, hand: HandClock) -> None:
    """The restarted process's delivery finds the dead claims: they become uncertain."""
    engine = Sender(settings.database, settings, clock=hand.wall)
    try:
        engine.deliver_due()
    finally:
        engine.close()


def test_after_a_crash_meta_s_statuses_settle_what_it_had_and_only_what_it_never_had_is_offered_after_the_wait(
    app: Flask, settings: Settings, olt: OltSystemFake, meta: FakeWhatsAppCloud, hand: HandClock
) -> None:
    port = free_port()
    meta.webhook_url = f"http://127.0.0.1:{port}/webhooks/whatsapp"  # nothing listens there yet
    meta.fail_next("500")  # one notice never reaches Meta
    client = app.test_client()
    assert (
        client.post(
            "/api/acao", json={"id": los_alert(olt, PHONES), "acao": "aprovar"}, headers=AUTH
        ).status_code
        == 200
    )
    assert len(meta.messages) == 3 and all(
        m["biz_opaque_callback_data"].startswith("aviso:") for m in meta.messages
    )
    (never,) = EVERYONE - {m["to"] for m in meta.messages}
    crash_mid_send(settings)
    restart(settings, hand)
    assert {r["status"] for r in notices(settings).values()} == {"incerto"}
    listed = client.get("/api/painel/incidentes", headers=AUTH).get_json()["incertos"]
    assert (listed["total"], listed["aguardando_confirmacao"]) == (4, 4)  # Meta had no way to tell yet

    with FakeHTTPServer(app, port=port):  # the server answers again: Meta's retries get through
        wait_for(lambda: len(meta.notified) == 6)  # sent and delivered, for each of the three
        found = notices(settings)
        listed = client.get("/api/painel/incidentes", headers=AUTH).get_json()["incertos"]
        answer = client.post("/api/painel/incertos/reenviar", json={}, headers=AUTH).get_json()

    assert {p for p, r in found.items() if r["status"] == "enviado"} == EVERYONE - {never}
    assert all(r["provider_message_id"].startswith("wamid.FAKE") for p, r in found.items() if p != never)
    assert found[never]["status"] == "incerto"
    assert (listed["total"], listed["aguardando_confirmacao"]) == (1, 1)
    assert answer["reenviados"] == 0 and answer["aguardando_confirmacao"] == 1
    assert answer["msg"].startswith("Nenhum aviso para reenviar agora: 1 aguarda a confirmação do WhatsApp")
    assert len(meta.messages) == 3

    hand.advance(CONFIRMATION_WAIT + 1)  # no status for it all that time: Meta never had it
    listed = client.get("/api/painel/incidentes", headers=AUTH).get_json()["incertos"]
    assert (listed["total"], listed["aguardando_confirmacao"]) == (1, 0)
    answer = client.post("/api/painel/incertos/reenviar", json={}, headers=AUTH).get_json()
    assert (answer["reenviados"], answer["aceitos"]) == (1, 1)
    assert "1 pode chegar repetido" in answer["msg"]
    assert Counter(m["to"] for m in meta.messages) == dict.fromkeys(EVERYONE, 1)  # each customer once


def test_a_notice_meta_accepted_and_then_could_not_deliver_is_recorded_as_failed_with_its_reason(
    app: Flask, settings: Settings, olt: OltSystemFake, meta: FakeWhatsAppCloud
) -> None:
    with FakeHTTPServer(app) as served:
        meta.webhook_url = f"{served.url}/webhooks/whatsapp"
        meta.undeliverable.add(f"55{PHONES[0]}")
        client = app.test_client()
        client.post("/api/acao", json={"id": los_alert(olt, PHONES), "acao": "aprovar"}, headers=AUTH)
        wait_for(lambda: len(meta.notified) == 7)  # failed once, sent and delivered three times
    found = notices(settings)
    failed = found[f"55{PHONES[0]}"]
    assert failed["status"] == "falhou" and "131026 Message undeliverable" in failed["last_error"]
    assert failed["provider_message_id"].startswith("wamid.FAKE")  # the id stored at the send found it
    assert {r["status"] for p, r in found.items() if p != f"55{PHONES[0]}"} == {"enviado"}


def sign(body: bytes) -> str:
    return "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


def notification(*statuses: dict[str, Any]) -> bytes:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"phone_number_id": NUMBER_ID},
        "statuses": list(statuses),
    }
    return json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}],
        }
    ).encode()


def status(wamid: str, phone: str, state: str, reference: str | None, **extra: Any) -> dict[str, Any]:
    item = {"id": wamid, "status": state, "timestamp": str(int(time.time())), "recipient_id": phone, **extra}
    return item if reference is None else {**item, "biz_opaque_callback_data": reference}


def test_a_status_settles_only_the_notice_its_reference_names_and_unknown_references_are_ignored(
    app: Flask, settings: Settings, olt: OltSystemFake, meta: FakeWhatsAppCloud, hand: HandClock
) -> None:
    client = app.test_client()
    client.post("/api/acao", json={"id": los_alert(olt, PHONES), "acao": "aprovar"}, headers=AUTH)
    crash_mid_send(settings)
    restart(settings, hand)
    rows = {p: int(r["id"]) for p, r in notices(settings).items()}
    first, second, third, fourth = (f"55{p}" for p in PHONES)
    body = notification(
        status("wamid.A", first, "delivered", notice_reference(rows[first])),
        status(
            "wamid.B",
            third,
            "failed",
            notice_reference(rows[third]),
            errors=[{"code": 131047, "title": "Re-engagement message"}],
        ),
        status("wamid.C", second, "read", notice_reference(rows[fourth])),  # names another phone's notice
        status("wamid.D", fourth, "delivered", notice_reference(999_999)),  # no such notice
        status("wamid.E", fourth, "delivered", "outro-sistema:7"),  # another system's message to that phone
        status("wamid.F", second, "sent", "aviso:" + "9" * 40),
    )
    answer = client.post("/webhooks/whatsapp", data=body, headers={"X-Hub-Signature-256": sign(body)})
    assert answer.status_code == 200
    assert answer.get_json() == {"recebidos": 6, "resolvidos": 2, "nao_entregues": 0}
    found = notices(settings)
    assert (found[first]["status"], found[first]["provider_message_id"]) == ("enviado", "wamid.A")
    assert found[third]["status"] == "falhou" and "131047" in found[third]["last_error"]
    assert (found[second]["status"], found[fourth]["status"]) == ("incerto", "incerto")
    listed = client.get("/api/painel/incidentes", headers=AUTH).get_json()["incertos"]
    assert (listed["total"], listed["aguardando_confirmacao"]) == (2, 2)


def test_without_the_webhook_an_uncertain_cloud_api_notice_is_offered_at_once(
    make_settings: Callable[..., Settings], olt: OltSystemFake, meta: FakeWhatsAppCloud, hand: HandClock
) -> None:
    settings = make_settings(
        MONITOR_API_TOKEN="x",
        IXCSOFT_SERVICE_URL="http://127.0.0.1:9",
        API_BASE_URL=olt.url,
        API_AUTH_URL=olt.auth_url,
        API_USER=olt.username,
        API_PASS=olt.password,
        WHATSAPP_TOKEN=CLOUD_TOKEN,
        WHATSAPP_PHONE_NUMBER_ID=NUMBER_ID,
        WHATSAPP_API_URL=meta.api_url,
    )
    client = create_app(settings, clock=hand.clock()).test_client()
    client.post("/api/acao", json={"id": los_alert(olt, PHONES[:1]), "acao": "aprovar"}, headers=AUTH)
    crash_mid_send(settings)
    restart(settings, hand)
    listed = client.get("/api/painel/incidentes", headers=AUTH).get_json()["incertos"]
    assert (listed["total"], listed["aguardando_confirmacao"]) == (1, 0)
    answer = client.post("/api/painel/incertos/reenviar", json={}, headers=AUTH).get_json()
    assert answer["reenviados"] == 1 and answer["aguardando_confirmacao"] == 0
