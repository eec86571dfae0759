"""Telegram through the Bot API directly (`sendMessage`, HTML parse mode).

Each configured chat is its own outbox row (`telegram:<chat_id>`), so each chat gets
each alert exactly once even when another chat fails. Pacing per chat follows
`TELEGRAM_PER_CHAT_PER_MINUTE` (Telegram allows about 20 per minute in a group) and
about 30 per second overall.

When a group became a supergroup Telegram answers 400 with
`parameters.migrate_to_chat_id`: the message is resent to the new id at once, the new id
is remembered for this process, and a warning asks the operator to update
`TELEGRAM_CHAT_ID`.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import requests

from outage.adapters.channels.base import (
    ChannelKind,
    HealthLine,
    Receipt,
    json_body,
    own_settings,
    short_text,
    unsupported,
)
from outage.adapters.channels.messages import plural, render_telegram
from outage.config import Reader, Settings
from outage.core.kinds import CUSTOMER_TEMPLATE
from outage.http import TransportError, call, register_secret

log = logging.getLogger(__name__)

GLOBAL_PER_SECOND = 30.0
_THREAD_ID = re.compile(r"[1-9][0-9]{0,18}")


@dataclass(frozen=True)
class TelegramSettings:
    """The bot, the NOC's chats (and the group's topic), the Bot API and the pace per chat."""

    bot_token: str = field(default="", repr=False)
    chat_ids: tuple[str, ...] = ()
    thread_id: str = ""
    api_url: str = "https://api.telegram.org"
    per_chat_per_minute: int = 20

    @property
    def enabled(self) -> bool:
        """A bot and at least one chat: the NOC's alerts go out."""
        return bool(self.bot_token and self.chat_ids)


def _is_chat_id(value: str) -> bool:
    return value.lstrip("-").isdigit() or (value.startswith("@") and len(value) > 1)


def read(r: Reader) -> TelegramSettings:
    """Telegram's settings from the environment; problems appended to `r.problems`."""
    s = TelegramSettings(
        bot_token=r.text("TELEGRAM_BOT_TOKEN", ""),
        chat_ids=r.items(
            "TELEGRAM_CHAT_ID", _is_chat_id, "Use ids numéricos (ex.: -1001234567890) separados por vírgula."
        ),
        thread_id=r.text("TELEGRAM_THREAD_ID", ""),
        api_url=r.url("TELEGRAM_API_URL", "https://api.telegram.org"),
        per_chat_per_minute=r.number("TELEGRAM_PER_CHAT_PER_MINUTE", 20, minimum=1, maximum=60),
    )
    r.problems.extend(problems(s))
    return s


def problems(s: TelegramSettings) -> list[str]:
    """The bot without a chat or the reverse, and a topic Telegram would refuse on every message."""
    found = []
    if s.bot_token and not s.chat_ids:
        found.append("TELEGRAM_BOT_TOKEN definido sem TELEGRAM_CHAT_ID: informe o id do grupo do NOC.")
    if s.chat_ids and not s.bot_token:
        found.append("TELEGRAM_CHAT_ID definido sem TELEGRAM_BOT_TOKEN: crie um bot com o @BotFather.")
    if s.thread_id and not _THREAD_ID.fullmatch(s.thread_id):
        found.append(
            f"TELEGRAM_THREAD_ID={s.thread_id!r} inválido: use o número do tópico do grupo (ex.: 42),"
            " que aparece no link de uma mensagem do tópico, ou deixe vazio."
        )
    return found


def settings_of(settings: Settings) -> TelegramSettings:
    """Telegram's settings in `settings`."""
    return own_settings(settings, KIND.name, TelegramSettings)


class TelegramChannel:
    provider = "telegram"

    def __init__(
        self,
        token: str,
        *,
        api_url: str = "https://api.telegram.org",
        thread_id: str = "",
        max_clients: int = 50,
        per_chat_per_minute: int = 20,
        session: requests.Session | None = None,
        timeout: float = 10.0,
    ) -> None:
        register_secret(token)
        self._url = f"{api_url.rstrip('/')}/bot{token}/sendMessage"
        self._thread_id = thread_id
        self._max_clients = max_clients
        self._session = session
        self._timeout = timeout
        self._migrated: dict[str, str] = {}
        self._lock = threading.Lock()
        self.target_interval = 60.0 / per_chat_per_minute
        self.provider_interval = 1.0 / GLOBAL_PER_SECOND

    def send(self, target: str, kind: str, payload: Mapping[str, Any]) -> Receipt:
        """Send the rendered alert to chat `target` (or the chat it migrated to)."""
        if kind == CUSTOMER_TEMPLATE:
            raise unsupported(self.provider, kind)
        text = render_telegram(kind, payload, self._max_clients)
        chat = self._current_chat(target)
        body = self._post(chat, text)
        new_chat = str((body.get("parameters") or {}).get("migrate_to_chat_id") or "")
        if new_chat and not body.get("ok"):
            self._remember_migration(target, new_chat)
            body = self._post(new_chat, text)
            chat = new_chat
        return self._receipt(body, chat, target)

    def _current_chat(self, chat: str) -> str:
        with self._lock:
            return self._migrated.get(chat, chat)

    def _remember_migration(self, old: str, new: str) -> None:
        with self._lock:
            self._migrated[old] = new
        log.warning(
            "O grupo do Telegram %s virou supergrupo com o id %s: atualize TELEGRAM_CHAT_ID no .env.",
            old,
            new,
        )

    def _post(self, chat: str, text: str) -> dict[str, Any]:
        """One sendMessage call; returns the decoded answer or raises `TransportError`."""
        data: dict[str, Any] = {
            "chat_id": chat,
            "text": text,
            "parse_mode": "HTML",
            "disable_web_page_preview": True,
        }
        if self._thread_id:
            data["message_thread_id"] = int(self._thread_id)
        response = call("POST", self._url, session=self._session, timeout=self._timeout, retries=0, json=data)
        body = json_body(response)
        if response.status_code == 200 and body.get("ok"):
            return body
        return self._classify(response, body)

    def _classify(self, response: requests.Response, body: dict[str, Any]) -> dict[str, Any]:
        parameters = body.get("parameters") or {}
        description = str(body.get("description") or short_text(response))
        if parameters.get("migrate_to_chat_id"):
            return body
        if response.status_code == 429:
            retry_after = float(parameters.get("retry_after") or 5)
            raise TransportError(
                f"Telegram limitou o envio (429), tentar de novo em {retry_after:g} s",
                retry_after=retry_after,
                status=429,
            )
        raise TransportError(
            f"Telegram recusou a mensagem (HTTP {response.status_code}): {description}",
            permanent=True,
            status=response.status_code,
        )

    def _receipt(self, body: dict[str, Any], chat: str, target: str) -> Receipt:
        if not body.get("ok"):
            raise TransportError("Telegram: migração de grupo sem confirmação", permanent=True)
        message_id = (body.get("result") or {}).get("message_id")
        note = f"enviado ao novo id {chat}" if chat != target else ""
        return Receipt(provider_message_id=None if message_id is None else str(message_id), note=note)


def build(settings: Settings, session: requests.Session | None) -> TelegramChannel:
    s = settings_of(settings)
    return TelegramChannel(
        s.bot_token,
        api_url=s.api_url,
        thread_id=s.thread_id,
        max_clients=settings.max_clients_in_message,
        per_chat_per_minute=s.per_chat_per_minute,
        session=session,
    )


def destinations(settings: Settings) -> list[str]:
    """Every configured chat gets every NOC alert."""
    s = settings_of(settings)
    return list(s.chat_ids) if s.enabled else []


def health(settings: Settings) -> HealthLine:
    """Always shown, to say when no Telegram group is configured."""
    s = settings_of(settings)
    if not s.enabled:
        return HealthLine(False, "não configurado")
    return HealthLine(True, plural(len(s.chat_ids), "grupo do NOC", "grupos do NOC"))


def warnings(settings: Settings) -> list[str]:
    s = settings_of(settings)
    if s.thread_id and not s.enabled:
        return [
            "TELEGRAM_THREAD_ID definido sem TELEGRAM_BOT_TOKEN e TELEGRAM_CHAT_ID: configure o bot e o grupo."
        ]
    return []


KIND = ChannelKind(
    name="telegram",
    label="Telegram (NOC)",
    settings=(
        "TELEGRAM_BOT_TOKEN",
        "TELEGRAM_CHAT_ID",
        "TELEGRAM_THREAD_ID",
        "TELEGRAM_API_URL",
        "TELEGRAM_PER_CHAT_PER_MINUTE",
    ),
    read=read,
    setup="TELEGRAM_BOT_TOKEN e TELEGRAM_CHAT_ID",
    enabled=lambda settings: bool(settings_of(settings).bot_token),
    build=build,
    destinations=destinations,
    health=health,
    warnings=warnings,
    secrets=lambda settings: (settings_of(settings).bot_token,),
)
