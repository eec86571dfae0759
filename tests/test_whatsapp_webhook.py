"""Meta's status webhook settles the WhatsApp Cloud API notices a crash left uncertain.

The app runs on a real port; the Cloud API fake accepts messages the way Meta does and posts
their signed statuses to the app's `/webhooks/whatsapp`, retrying until it answers 200.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from outage.adapters.channels.whatsapp_cloud import WhatsAppCloudChannel
from outage.config import Settings
from outage.core.kinds import CUSTOMER_TEMPLATE
from outage.core.notices import WhatsAppStatus
from outage.db import open_database
from outage.storage import outbox
from outage.web.app import create_app
from simulator.httpserver import FakeHTTPServer
from simulator.whatsapp import CLOUD_TOKEN, FakeWhatsAppCloud

pytestmark = pytest.mark.both_databases

SECRET = "segredo-do-app-meta"
VERIFY = "token-de-verificacao"
NUMBER_ID = "123456789012345"
PHONES = ["5511987650001", "5511987650002", "5511987650003", "5511987650004"]


@pytest.fixture
def served(make_settings: Callable[..., Settings]) -> Iterator[tuple[Settings, str]]:
    settings = make_settings(
        IXCSOFT_SERVICE_URL="http://127.0.0.1:9",
        WHATSAPP_TOKEN=CLOUD_TOKEN,
        WHATSAPP_PHONE_NUMBER_ID=NUMBER_ID,
        WHATSAPP_APP_SECRET=SECRET,
        WHATSAPP_WEBHOOK_VERIFY_TOKEN=VERIFY,
    )
    with FakeHTTPServer(create_app(settings)) as app:
        yield settings, f"{app.url}/webhooks/whatsapp"


def uncertain_notices(settings: Settings, phones: list[str]) -> list[int]:
    """Customer notices as a crash leaves them: claimed, maybe sent, answer never recorded."""
    conn = open_database(settings.database)
    now = time.time()
    ids = []
    for phone in phones:
        payload = {"to": phone, "nome": "Cliente", "template": "queda_massiva_los", "params": ["Centro"]}
        cursor = conn.execute(
            "INSERT INTO outbox (channel, kind, payload, status, attempts, next_attempt_at, created_at, last_error)"
            " VALUES ('whatsapp_cloud', ?, ?, 'incerto', 1, ?, ?, 'incerto: o processo parou') RETURNING id",
            (CUSTOMER_TEMPLATE, json.dumps(payload), now, now),
        )
        ids.append(int(cursor.fetchone()[0]))
    conn.close()
    return ids


def rows(settings: Settings, ids: list[int]) -> list[sqlite3.Row]:
    conn = open_database(settings.database)
    query = "SELECT id, status, provider_message_id, last_error FROM outbox WHERE id = ?"
    found = [conn.execute(query, (row_id,)).fetchone() for row_id in ids]
    conn.close()
    return found


def wait_for(condition: Callable[[], Any], timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError("condição não atingida a tempo")


def test_statuses_settle_the_notices_that_reached_meta_and_only_those(served) -> None:
    settings, webhook = served
    ids = uncertain_notices(settings, PHONES)
    with FakeWhatsAppCloud(webhook_url=webhook, app_secret=SECRET, phone_number_id=NUMBER_ID) as meta:
        meta.undeliverable.add(PHONES[2])
        channel = WhatsAppCloudChannel(CLOUD_TOKEN, NUMBER_ID, api_url=meta.api_url)
        for phone in PHONES[:3]:  # the crash hit after these three reached Meta; the 4th never left
            channel.send(
                phone, CUSTOMER_TEMPLATE, {"to": phone, "template": "queda_massiva_los", "params": ["Centro"]}
            )
        wait_for(lambda: len(meta.notified) == 5)  # sent + delivered twice, failed once
    sent, delivered, failed, never = rows(settings, ids)
    assert (sent["status"], delivered["status"]) == ("enviado", "enviado")
    assert {sent["provider_message_id"], delivered["provider_message_id"]} == {
        "wamid.FAKE000001",
        "wamid.FAKE000002",
    }
    assert "confirmado pela Meta" in sent["last_error"]
    assert failed["status"] == "falhou" and "131026" in failed["last_error"]
    assert never["status"] == "incerto"  # still offered for a resend: Meta never had it
    conn = open_database(settings.database)
    assert outbox.uncertain_ids(conn) == [never["id"]]
    conn.close()


def test_a_status_that_came_before_the_restart_settles_the_notice_as_the_claims_are_recovered(served) -> None:
    settings, _ = served
    conn = open_database(settings.database)
    now = time.time()
    conn.execute(
        "INSERT INTO outbox (channel, kind, payload, status, attempts, next_attempt_at, created_at, claimed_by,"
        " claimed_at) VALUES ('whatsapp_cloud', ?, ?, 'enviando', 1, ?, ?, 'morto:1', ?)",
        (CUSTOMER_TEMPLATE, json.dumps({"to": PHONES[0]}), now, now, now),
    )
    statuses = [WhatsAppStatus("wamid.ANTES", PHONES[0], "delivered", now + 1)]
    assert (
        outbox.record_whatsapp_statuses(conn, statuses, now + 2).settled == 0
    )  # still being sent: nothing to settle
    requeued, uncertain = outbox.recover_stale(conn, now + 5, 120.0, dead=lambda holder: holder == "morto:1")
    assert (requeued, uncertain) == (0, 0)
    status, wamid = conn.execute("SELECT status, provider_message_id FROM outbox").fetchone()
    assert (status, wamid) == ("enviado", "wamid.ANTES")
    conn.close()


def test_a_status_older_than_the_notice_or_for_another_number_settles_nothing(served) -> None:
    settings, _ = served
    (notice,) = uncertain_notices(settings, PHONES[:1])
    conn = open_database(settings.database)
    now = time.time()
    old = [WhatsAppStatus("wamid.VELHO", PHONES[0], "read", now - 86_400)]
    other = [WhatsAppStatus("wamid.OUTRO", PHONES[1], "delivered", now)]
    assert outbox.record_whatsapp_statuses(conn, old + other, now) == outbox.StatusOutcome()
    assert conn.execute("SELECT status FROM outbox WHERE id = ?", (notice,)).fetchone()[0] == "incerto"
    conn.close()


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_unsigned_badly_signed_or_malformed_notifications_are_refused_in_portuguese(served) -> None:
    _, webhook = served
    body = json.dumps({"object": "whatsapp_business_account", "entry": []}).encode()
    for headers in ({}, {"X-Hub-Signature-256": sign(body, "outro")}, {"X-Hub-Signature-256": "sha256=zz"}):
        answer = requests.post(webhook, data=body, headers=headers, timeout=5)
        assert answer.status_code == 403 and "assinatura" in answer.json()["erro"]
    for bad in (b"[[[[", b'{"object": "page"}', b"\xff\xfe"):
        answer = requests.post(webhook, data=bad, headers={"X-Hub-Signature-256": sign(bad)}, timeout=5)
        assert answer.status_code == 400 and "notificação inválida" in answer.json()["erro"]
    answer = requests.post(webhook, data=body, headers={"X-Hub-Signature-256": sign(body)}, timeout=5)
    assert answer.status_code == 200 and answer.json() == {
        "recebidos": 0,
        "resolvidos": 0,
        "nao_entregues": 0,
    }


def test_the_subscription_check_echoes_the_challenge_only_for_our_token(served) -> None:
    _, webhook = served
    ok = requests.get(
        webhook,
        params={"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "1158201444"},
        timeout=5,
    )
    assert (ok.status_code, ok.text) == (200, "1158201444")
    wrong = requests.get(
        webhook, params={"hub.mode": "subscribe", "hub.verify_token": "x", "hub.challenge": "1"}, timeout=5
    )
    assert wrong.status_code == 403 and "erro" in wrong.json()


def test_without_the_settings_the_route_is_not_there(make_settings) -> None:
    app = create_app(make_settings(IXCSOFT_SERVICE_URL="http://127.0.0.1:9"))
    assert app.test_client().post("/webhooks/whatsapp", data=b"{}").status_code == 404
    assert app.test_client().get("/webhooks/whatsapp").status_code == 404
