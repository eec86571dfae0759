"""The original monitor's alert service (`ALERT_SERVICE_URL`), for users migrating from it.

It gets exactly what the original monitor sent:

- `telegram` -> `POST /alerta/telegram` `{"clientes": [{"login", "ultima_conexao_final"}, ...],
  "status": "offline" | "online", "conexao", "mensagem_personalizada"}`. The service writes
  Telegram Markdown: our text first (escaped), then two lines per client, and sends nothing
  for an empty list -- so the list is never empty, and is cut to what fits in one message
  (the text then says how many are listed).
- `whatsapp` -> `POST /alerta/whatsapp` `{"total_clientes", "conexao", "motivo"}` (a Gupshup
  template to each of the service's numbers).

The service answers HTTP 200 even when Telegram or Gupshup refused, with the error in the
body (`[{"error": ...}, 500]`, `[{"destination", "error"}]`); that is a failure here.
Telegram's 4xx (other than 429) is permanent. A WhatsApp answer where some numbers failed
and others got the message is permanent too: sending again would repeat it to the others.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import requests

from outage.adapters.channels import telegram
from outage.adapters.channels.base import (
    ChannelKind,
    HealthLine,
    Receipt,
    own_settings,
    short_text,
    unsupported,
)
from outage.adapters.channels.messages import (
    TIMEZONE,
    br_number,
    escape_markdown,
    render_text,
    telegram_length,
)
from outage.config import Reader, Settings
from outage.core.kinds import CUSTOMER_TEMPLATE
from outage.http import TransportError, call

ROUTES = ("telegram", "whatsapp")
SERVICE_MAX_CLIENTS = 50  # the service lists at most 50 clients (then "... e mais N")
TELEGRAM_LIMIT = 4096
NOTHING_SENT = "Nenhum cliente para alertar"
_CLIENT_ERROR = re.compile(r"^\s*4\d\d\b")
_LIST_FIELD = {"abertura": "logins", "crescimento": "logins_novos", "normalizacao": "logins"}
_WHATSAPP_REASON = {"crescimento": "Atualização de evento", "normalizacao": "normalizado", "resumo": "varias"}


@dataclass(frozen=True)
class AlertServiceSettings:
    """The service's address, as the original monitor's `.env` has it."""

    url: str = ""


def read(r: Reader) -> AlertServiceSettings:
    """The service's settings from the environment; problems appended to `r.problems`."""
    return AlertServiceSettings(url=r.url("ALERT_SERVICE_URL"))


def settings_of(settings: Settings) -> AlertServiceSettings:
    """The service's settings in `settings`."""
    return own_settings(settings, KIND.name, AlertServiceSettings)


class AlertServiceChannel:
    provider = "alert_service"
    provider_interval = 0.0
    target_interval = 0.0

    def __init__(
        self,
        url: str,
        *,
        max_clients: int = SERVICE_MAX_CLIENTS,
        session: requests.Session | None = None,
        timeout: float = 10.0,
    ) -> None:
        self._url = url.rstrip("/")
        self._max_clients = min(max_clients, SERVICE_MAX_CLIENTS)
        self._session = session
        self._timeout = timeout

    def send(self, target: str, kind: str, payload: Mapping[str, Any]) -> Receipt:
        """Forward the alert to the service's route `target` (`telegram` or `whatsapp`)."""
        if kind == CUSTOMER_TEMPLATE or target not in ROUTES:
            raise unsupported(f"{self.provider}:{target}", kind)
        if target == "telegram":
            body = telegram_body(kind, payload, self._max_clients)
        else:
            body = whatsapp_body(kind, payload)
        response = call(
            "POST",
            f"{self._url}/alerta/{target}",
            session=self._session,
            timeout=self._timeout,
            retries=0,
            json=body,
        )
        if not 200 <= response.status_code < 300:
            message = f"Serviço de alertas recusou (HTTP {response.status_code}): {short_text(response)}"
            raise TransportError(message, permanent=response.status_code != 429, status=response.status_code)
        answer = _json(response)
        if target == "telegram":
            _check_telegram_answer(answer)
        else:
            _check_whatsapp_answer(answer)
        return Receipt()


def telegram_body(
    kind: str, payload: Mapping[str, Any], max_clients: int = SERVICE_MAX_CLIENTS
) -> dict[str, Any]:
    """The body the original monitor sent to `/alerta/telegram` for this alert."""
    text = escape_markdown(render_text(kind, payload))
    clients = [_client(item) for item in payload.get(_LIST_FIELD.get(kind, ""), None) or []]
    if not clients:  # the service sends nothing for an empty list: one line stands for them all
        clients = [{"login": f"{br_number(payload.get('total', payload.get('total_clientes', 0)))} clientes"}]
    shown = _fitting(text, clients, max_clients)
    if shown < len(clients):
        text += f"\nListando {br_number(shown)} de {br_number(len(clients))} clientes."
    return {
        "clientes": clients[:shown],
        "status": "online" if kind == "normalizacao" else "offline",
        "conexao": _connection(kind, payload),
        "mensagem_personalizada": text,
    }


def whatsapp_body(kind: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    """The body the original monitor sent to `/alerta/whatsapp` for this alert."""
    total = payload.get("total_clientes", payload.get("total", 0))
    motivo = _WHATSAPP_REASON.get(kind) or str(payload.get("motivo") or "indeterminado")
    return {"total_clientes": total, "conexao": _connection(kind, payload), "motivo": motivo}


def _client(item: Any) -> dict[str, str]:
    if not isinstance(item, Mapping):
        return {"login": str(item)}
    return {
        "login": str(item.get("login", "")),
        "ultima_conexao_final": _erp_time(item.get("ultima_conexao_final")),
    }


def _erp_time(value: Any) -> str:
    """As the ERP writes it (`YYYY-MM-DD HH:MM:SS`, São Paulo), whether given as text or epoch."""
    if isinstance(value, int | float):
        return datetime.fromtimestamp(float(value), TIMEZONE).strftime("%Y-%m-%d %H:%M:%S")
    return "" if value is None else str(value)


def _fitting(text: str, clients: list[dict[str, str]], max_clients: int) -> int:
    """How many client entries fit one Telegram message as the service writes it (entity
    markers counted, so the estimate errs on the safe side)."""
    used = telegram_length(text) + 60  # the "Listando N de M" line
    shown = 0
    for client in clients[:max_clients]:
        entry = f"- *Login:* `{client['login']}`\n  *Última conexão:* {client.get('ultima_conexao_final', 'N/A')}\n"
        used += telegram_length(entry)
        if used > TELEGRAM_LIMIT:
            break
        shown += 1
    return max(shown, 1)


def _connection(kind: str, payload: Mapping[str, Any]) -> str:
    if kind == "resumo":
        return f"{len(payload.get('eventos') or [])} conexões"
    return str(payload.get("conexao", ""))


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _check_telegram_answer(answer: Any) -> None:
    """Raise when the service's HTTP 200 says the message did not go out."""
    error = _error_of(answer)
    if error is not None:
        permanent = bool(_CLIENT_ERROR.match(error)) and not error.lstrip().startswith("429")
        raise TransportError(
            f"Serviço de alertas: o Telegram recusou: {error}", permanent=permanent, status=200
        )
    if isinstance(answer, dict) and answer.get("message") == NOTHING_SENT:
        raise TransportError(
            "Serviço de alertas não enviou nada: lista de clientes vazia", permanent=True, status=200
        )


def _check_whatsapp_answer(answer: Any) -> None:
    """Raise when some (or every) number of the service did not get the message."""
    if not isinstance(answer, list):
        error = _error_of(answer)
        if error is not None:
            raise TransportError(f"Serviço de alertas: WhatsApp falhou: {error}", status=200)
        return
    failed = [item for item in answer if isinstance(item, dict) and "error" in item]
    if not answer:
        raise TransportError(
            "Serviço de alertas: nenhum número de WhatsApp configurado nele (GUPSHUP_DESTINATION_NUMBERS)",
            permanent=True,
            status=200,
        )
    if failed:
        reasons = "; ".join(f"{item.get('destination', '?')}: {item.get('error')}" for item in failed)
        partial = len(failed) < len(answer)
        note = " (os demais receberam; não será repetido)" if partial else ""
        raise TransportError(
            f"Serviço de alertas: WhatsApp falhou para {reasons}{note}", permanent=partial, status=200
        )


def _error_of(answer: Any) -> str | None:
    """The error the service put in its answer, if any."""
    if isinstance(answer, dict) and answer.get("error") is not None:
        return str(answer["error"])
    if isinstance(answer, list):
        for item in answer:
            if isinstance(item, dict) and item.get("error") is not None:
                return str(item["error"])
    return None


def build(settings: Settings, session: requests.Session | None) -> AlertServiceChannel:
    return AlertServiceChannel(
        settings_of(settings).url, max_clients=settings.max_clients_in_message, session=session
    )


def destinations(settings: Settings) -> list[str]:
    """Both routes; not the Telegram one when the Bot API is configured (see `warnings`)."""
    if not settings_of(settings).url:
        return []
    bot_api = telegram.settings_of(settings).enabled
    return [route for route in ROUTES if not (route == "telegram" and bot_api)]


def health(settings: Settings) -> HealthLine | None:
    if not settings_of(settings).url:
        return None
    bot_api = telegram.settings_of(settings).enabled
    return HealthLine(True, "/alerta/whatsapp" if bot_api else "/alerta/telegram e /alerta/whatsapp")


def warnings(settings: Settings) -> list[str]:
    """With both `TELEGRAM_*` and `ALERT_SERVICE_URL` (the original monitor's shared `.env`) the
    Telegram group would get every alert twice; it gets them once, straight from the Bot API."""
    if settings_of(settings).url and telegram.settings_of(settings).enabled:
        return [
            "TELEGRAM_BOT_TOKEN/TELEGRAM_CHAT_ID e ALERT_SERVICE_URL definidos: os alertas do Telegram "
            "saem direto pela API de bots, uma vez por grupo; o serviço de alertas original fica só com "
            "o WhatsApp (/alerta/whatsapp)."
        ]
    return []


KIND = ChannelKind(
    name="alert_service",
    label="Serviço de alertas do sistema original",
    settings=("ALERT_SERVICE_URL",),
    read=read,
    setup="ALERT_SERVICE_URL",
    enabled=lambda settings: bool(settings_of(settings).url),
    build=build,
    destinations=destinations,
    health=health,
    warnings=warnings,
)
