"""Reading PPPoE state through the seed's middleware (`IXCSOFT_SERVICE_URL`).

`GET /clientes/offline` and `GET /clientes/online` → `{"clientes": [...]}`. Both must
answer for the cycle to count; a login in neither list is unknown.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import requests

from outage.config import Settings
from outage.erp.base import ErpReadError, Observation, subscriber_from_record
from outage.http import TransportError, call, new_session
from outage.localtime import LOCAL_TZ, zone
from outage.model import Subscriber


class MiddlewareReader:
    def __init__(self, settings: Settings, session: requests.Session | None = None) -> None:
        self.base = settings.ixcsoft_service_url.rstrip("/")
        self.timeout = settings.ixc_timeout
        self.tz = zone(settings.ixc_timezone) or LOCAL_TZ
        self.session = session or new_session(2)

    def read(self, candidates: Mapping[str, str]) -> Observation:
        offline: dict[str, Subscriber] = {}
        for record in self._clients("offline"):
            sub = subscriber_from_record(record, self.tz)
            if sub.login:
                offline[sub.login] = sub
        online = {str(r.get("login", "")).strip() for r in self._clients("online")}
        confirmed = frozenset(login for login in candidates if login in online and login not in offline)
        return Observation(offline=offline, online=confirmed, pages=2)

    def _clients(self, which: str) -> list[dict[str, Any]]:
        url = f"{self.base}/clientes/{which}"
        try:
            response = call("GET", url, session=self.session, timeout=self.timeout, retries=1)
        except TransportError as exc:
            raise ErpReadError(f"serviço do IXCSoft inacessível (/clientes/{which}): {exc}") from exc
        if response.status_code != 200:
            raise ErpReadError(
                f"serviço do IXCSoft respondeu HTTP {response.status_code} em /clientes/{which}"
            )
        try:
            data = json.loads(response.text)
        except ValueError as exc:
            raise ErpReadError(f"serviço do IXCSoft devolveu JSON inválido em /clientes/{which}") from exc
        clients = data.get("clientes") if isinstance(data, dict) else None
        if not isinstance(clients, list) or not all(isinstance(c, dict) for c in clients):
            raise ErpReadError(
                f"serviço do IXCSoft devolveu uma resposta sem 'clientes' em /clientes/{which}"
            )
        return clients
