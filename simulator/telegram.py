"""A fake Telegram Bot API (`/bot<token>/sendMessage`) as a real server on 127.0.0.1.

It counts every message it accepted (`messages`), checks the HTML the way Telegram does
(only `b i u s code pre a` tags, entities escaped, at most 4,096 characters after
parsing) and can be told to misbehave for the next calls:

    fake.fail_next("429:1", "500", "400:Bad Request: chat not found", "slow:2", "migrate:-100999")

Chats in `missing_chats` answer 400 "chat not found"; `latency` delays every answer.
"""

from __future__ import annotations

import html
import re
import threading
import time
from collections import deque
from typing import Any

from flask import Flask, jsonify, request
from flask.typing import ResponseReturnValue

from simulator.httpserver import FakeHTTPServer

TOKEN = "123456:TESTTOKEN"
_ALLOWED_TAG = re.compile(r"</?(b|i|u|s|code|pre|a)(\s[^<>]*)?>")
_ENTITY = re.compile(r"&(lt|gt|amp|quot|#\d+);")


class Script:
    """A thread-safe queue of replies for the next calls (shared by the fakes)."""

    def __init__(self) -> None:
        self._queue: deque[str] = deque()
        self._lock = threading.Lock()

    def push(self, *replies: str) -> None:
        with self._lock:
            self._queue.extend(replies)

    def pop(self) -> str | None:
        with self._lock:
            return self._queue.popleft() if self._queue else None


def parse_error(text: str) -> str | None:
    """Telegram's complaint about an HTML text, or None when it would be accepted."""
    stripped = _ALLOWED_TAG.sub("", text)
    if "<" in stripped or ">" in stripped:
        return "Bad Request: can't parse entities: unsupported start tag"
    if "&" in _ENTITY.sub("", stripped):
        return "Bad Request: can't parse entities: unexpected end of name token"
    if len(html.unescape(stripped).encode("utf-16-le")) // 2 > 4096:
        return "Bad Request: message is too long"
    if not stripped.strip():
        return "Bad Request: message text is empty"
    return None


class FakeTelegram(FakeHTTPServer):
    def __init__(self, token: str = TOKEN, *, latency: float = 0.0, port: int = 0) -> None:
        self.token = token
        self.latency = latency
        self.messages: list[dict[str, Any]] = []
        self.requests = 0
        self.missing_chats: set[str] = set()
        self.script = Script()
        self._lock = threading.Lock()
        app = Flask(__name__)
        app.add_url_rule("/bot<token>/sendMessage", "send", self._send_message, methods=["POST"])
        super().__init__(app, port=port)

    def fail_next(self, *replies: str) -> None:
        """Replies for the next calls: `429:<s>`, `500`, `400:<desc>`, `403:<desc>`, `slow:<s>`, `migrate:<id>`."""
        self.script.push(*replies)

    def texts(self, chat_id: str | None = None) -> list[str]:
        with self._lock:
            return [m["text"] for m in self.messages if chat_id is None or m["chat_id"] == chat_id]

    def _send_message(self, token: str) -> ResponseReturnValue:
        with self._lock:
            self.requests += 1
        if self.latency:
            time.sleep(self.latency)
        if token != self.token:
            return _error(401, "Unauthorized")
        data = request.get_json(silent=True) or request.form.to_dict()
        chat_id = str(data.get("chat_id", ""))
        scripted = self._scripted(self.script.pop())
        if scripted is not None:
            return scripted
        if chat_id in self.missing_chats:
            return _error(400, "Bad Request: chat not found")
        problem = parse_error(str(data.get("text", ""))) if data.get("parse_mode") == "HTML" else None
        if problem:
            return _error(400, problem)
        return self._accept(chat_id, data)

    def _scripted(self, reply: str | None) -> ResponseReturnValue | None:
        if reply is None:
            return None
        code, _, arg = reply.partition(":")
        if code == "slow":
            time.sleep(float(arg))
            return None
        if code == "429":
            return _error(429, f"Too Many Requests: retry after {arg}", {"retry_after": int(arg or 5)})
        if code == "migrate":
            return _error(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": int(arg)},
            )
        if code.startswith("5"):
            return jsonify(
                {"ok": False, "error_code": int(code), "description": "Internal Server Error"}
            ), int(code)
        return _error(int(code), arg or "Bad Request")

    def _accept(self, chat_id: str, data: dict[str, Any]) -> ResponseReturnValue:
        with self._lock:
            message_id = len(self.messages) + 1
            self.messages.append(
                {
                    "message_id": message_id,
                    "chat_id": chat_id,
                    "text": data.get("text", ""),
                    "message_thread_id": data.get("message_thread_id"),
                    "at": time.monotonic(),
                }
            )
        return jsonify({"ok": True, "result": {"message_id": message_id, "chat": {"id": chat_id}}})


def _error(status: int, description: str, parameters: dict[str, Any] | None = None) -> ResponseReturnValue:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return jsonify(body), status
