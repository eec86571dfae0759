"""The seed's alert middleware (`ALERT_SERVICE_URL`), for users migrating from it.

Targets: `telegram` -> `POST /alerta/telegram` with `{"clientes": [...], "status":
"offline"|"online", "conexao", "mensagem_personalizada"}`; `whatsapp` -> `POST
/alerta/whatsapp` with `{"total_clientes", "conexao", "motivo"}`. Any 2xx is accepted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests

from outage.alerts.messages import render_text
from outage.channels.base import CUSTOMER_TEMPLATE, Receipt, short_text, unsupported
from outage.http import TransportError, call

ROUTES = ("telegram", "whatsapp")


class AlertServiceChannel:
    provider = "alert_service"
    provider_interval = 0.0
    target_interval = 0.0

    def __init__(self, url: str, *, session: requests.Session | None = None, timeout: float = 10.0) -> None:
        self._url = url.rstrip("/")
        self._session = session
        self._timeout = timeout

    def send(self, target: str, kind: str, payload: Mapping[str, Any]) -> Receipt:
        """Forward the alert to the middleware route `target` (`telegram` or `whatsapp`)."""
        if kind == CUSTOMER_TEMPLATE or target not in ROUTES:
            raise unsupported(f"{self.provider}:{target}", kind)
        body = telegram_body(kind, payload) if target == "telegram" else whatsapp_body(kind, payload)
        response = call(
            "POST",
            f"{self._url}/alerta/{target}",
            session=self._session,
            timeout=self._timeout,
            retries=0,
            json=body,
        )
        if 200 <= response.status_code < 300:
            return Receipt()
        message = f"Serviço de alertas recusou (HTTP {response.status_code}): {short_text(response)}"
        raise TransportError(message, permanent=response.status_code != 429, status=response.status_code)


def telegram_body(kind: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    logins = payload.get("logins") or payload.get("logins_novos") or []
    return {
        "clientes": [item.get("login", "") for item in logins],
        "status": "online" if kind == "normalizacao" else "offline",
        "conexao": _connection(kind, payload),
        "mensagem_personalizada": render_text(kind, payload),
    }


def whatsapp_body(kind: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    total = payload.get("total_clientes", payload.get("total", 0))
    motivo = {"normalizacao": "normalizado", "resumo": "varias"}.get(kind, payload.get("motivo", ""))
    return {
        "total_clientes": total,
        "conexao": _connection(kind, payload),
        "motivo": motivo or "indeterminado",
    }


def _connection(kind: str, payload: Mapping[str, Any]) -> str:
    if kind == "resumo":
        return f"{len(payload.get('eventos') or [])} conexões"
    return str(payload.get("conexao", ""))
