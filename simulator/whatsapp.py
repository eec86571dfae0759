"""Fakes of the WhatsApp senders as real servers on 127.0.0.1.

- `FakeWhatsAppCloud`: Meta Cloud API `POST /v21.0/<phone_number_id>/messages` (use
  `fake.api_url` as `WHATSAPP_API_URL`); answers `{"messages": [{"id": "wamid..."}]}` or
  Meta's error shape. `fail_next("130429", "131026", "190", "500", "slow:2")`. With
  `webhook_url` and `app_secret`, each accepted message's statuses (`sent`, then `delivered`;
  `failed` with 131026 for a number in `undeliverable`) are posted there as Meta's webhook
  does: signed in `X-Hub-Signature-256`, echoing the message's `biz_opaque_callback_data`,
  retried until answered 200 (for about half a minute; Meta keeps trying for days).
- `FakeHSMProvider`: the original console's HSM provider, `POST /send` with `Authorization: <token>`
  (and `Cookie: <cookie>` when it was given one); `fail_next("429", "500", "400", "slow:2",
  "accept_then_hang:30")` -- the last records the message, then answers only after 30 s
  (an acceptance whose answer a crashing client never sees).

Each counts what it accepted in `messages`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from typing import Any

import requests
from flask import Flask, jsonify, request
from flask.typing import ResponseReturnValue

from simulator.httpserver import FakeHTTPServer
from simulator.telegram import Script

CLOUD_TOKEN = "EAAGtesttoken"
HSM_TOKEN = "hsm-test-token"
_CLOUD_ERRORS = {
    130429: (400, "Rate limit hit"),
    131056: (400, "(Business Account, Consumer Account) pair rate limit hit"),
    80007: (400, "Rate limit issues"),
    131026: (400, "Message undeliverable"),
    131047: (400, "Re-engagement message"),
    132000: (400, "Number of parameters does not match the expected number of params"),
    132001: (404, "Template name does not exist in the translation"),
    132015: (400, "Template is paused"),
    190: (401, "Error validating access token: Session has expired"),
}


class _Recorder(FakeHTTPServer):
    def __init__(self, app: Flask, latency: float, port: int) -> None:
        self.latency = latency
        self.messages: list[dict[str, Any]] = []
        self.script = Script()
        self._lock = threading.Lock()
        super().__init__(app, port=port)

    def fail_next(self, *replies: str) -> None:
        self.script.push(*replies)

    def _next_reply(self) -> str | None:
        if self.latency:
            time.sleep(self.latency)
        reply = self.script.pop()
        if reply and reply.startswith("slow:"):
            time.sleep(float(reply.partition(":")[2]))
            return None
        return reply

    def _record(self, body: dict[str, Any]) -> int:
        with self._lock:
            self.messages.append(body)
            return len(self.messages)


class FakeWhatsAppCloud(_Recorder):
    def __init__(
        self,
        token: str = CLOUD_TOKEN,
        *,
        latency: float = 0.0,
        port: int = 0,
        webhook_url: str = "",
        app_secret: str = "",
        phone_number_id: str = "123456789012345",
    ) -> None:
        self.token = token
        self.webhook_url = webhook_url
        self.app_secret = app_secret
        self.phone_number_id = phone_number_id
        self.undeliverable: set[str] = set()
        self.notified: list[dict[str, Any]] = []  # statuses the webhook acknowledged
        app = Flask(__name__)
        app.add_url_rule("/v21.0/<phone_id>/messages", "messages", self._messages, methods=["POST"])
        super().__init__(app, latency, port)

    @property
    def api_url(self) -> str:
        return f"{self.url}/v21.0"

    def _messages(self, phone_id: str) -> ResponseReturnValue:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return _cloud_error(190)
        reply = self._next_reply()
        if reply and reply.startswith("5"):
            return jsonify({"error": {"message": "Service unavailable", "code": 2}}), int(reply)
        if reply:
            return _cloud_error(int(reply))
        body = request.get_json(silent=True) or {}
        for component in body.get("template", {}).get("components", []):
            for parameter in component.get("parameters", []):
                if "\n" in parameter.get("text", "") or "\t" in parameter.get("text", ""):
                    return _cloud_error(132018, 400, "Param text cannot have new-line/tab characters")
        number = self._record(body)
        to = body.get("to", "")
        if self.webhook_url:
            wamid = f"wamid.FAKE{number:06d}"
            reference = str(body.get("biz_opaque_callback_data") or "")
            threading.Thread(target=self._notify, args=(to, wamid, reference), daemon=True).start()
        return jsonify(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": to, "wa_id": to}],
                "messages": [{"id": f"wamid.FAKE{number:06d}"}],
            }
        )

    def _notify(self, to: str, wamid: str, reference: str) -> None:
        """Post the message's statuses to the webhook, one notification each, as Meta does
        (echoing the message's `biz_opaque_callback_data` when it had one)."""
        states = ["failed"] if to in self.undeliverable else ["sent", "delivered"]
        for state in states:
            status: dict[str, Any] = {
                "id": wamid,
                "status": state,
                "timestamp": str(int(time.time())),
                "recipient_id": to,
            }
            if reference:
                status["biz_opaque_callback_data"] = reference
            if state == "failed":
                status["errors"] = [{"code": 131026, "title": "Message undeliverable"}]
            value = {
                "messaging_product": "whatsapp",
                "metadata": {
                    "display_phone_number": "5511900000000",
                    "phone_number_id": self.phone_number_id,
                },
                "statuses": [status],
            }
            body = json.dumps(
                {
                    "object": "whatsapp_business_account",
                    "entry": [{"id": "102290129340398", "changes": [{"value": value, "field": "messages"}]}],
                }
            ).encode()
            signature = hmac.new(self.app_secret.encode(), body, hashlib.sha256).hexdigest()
            headers = {"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={signature}"}
            for attempt in range(20):  # Meta retries an unanswered notification
                try:
                    if (
                        requests.post(self.webhook_url, data=body, headers=headers, timeout=5).status_code
                        == 200
                    ):
                        with self._lock:
                            self.notified.append(status)
                        break
                except requests.RequestException:
                    pass
                time.sleep(min(0.1 * 2**attempt, 2.0))


def _cloud_error(code: int, status: int | None = None, message: str | None = None) -> ResponseReturnValue:
    known_status, known_message = _CLOUD_ERRORS.get(code, (400, "Error"))
    error = {
        "message": message or known_message,
        "type": "OAuthException",
        "code": code,
        "error_data": {"details": message or known_message},
        "fbtrace_id": "AbCdEfFake",
    }
    return jsonify({"error": error}), status or known_status


class FakeHSMProvider(_Recorder):
    def __init__(
        self, token: str = HSM_TOKEN, *, cookie: str = "", latency: float = 0.0, port: int = 0
    ) -> None:
        self.token = token
        self.cookie = cookie
        app = Flask(__name__)
        app.add_url_rule("/send", "send", self._send, methods=["POST"])
        super().__init__(app, latency, port)

    @property
    def send_url(self) -> str:
        return f"{self.url}/send"

    def _send(self) -> ResponseReturnValue:
        if request.headers.get("Authorization") != self.token:
            return jsonify({"erro": "token inválido"}), 401
        if self.cookie and request.headers.get("Cookie") != self.cookie:
            return jsonify({"erro": "sessão inválida"}), 401
        reply = self._next_reply()
        hang = float(reply.partition(":")[2]) if reply and reply.startswith("accept_then_hang:") else 0.0
        if reply and not hang:
            return jsonify({"erro": "falha simulada"}), int(reply)
        body = request.get_json(silent=True) or {}
        if body.get("tipo_envio") != 2 or not body.get("contato", {}).get("telefone"):
            return jsonify({"erro": "requisição inválida"}), 400
        number = self._record(body)
        time.sleep(hang)
        return jsonify({"id": f"hsm-{number}", "status": "enviado"}), 201
