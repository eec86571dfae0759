"""The OLT management system API: open alerts matched to the event's ONUs.

`OltSystemClient` logs in (`POST API_AUTH_URL` → `{"access": jwt}`), sends
`Authorization: Bearer`, logs in again once on a 401, follows `next` pages of the alert
list (the HSM dispatch console reads its incidents through it too). `OltSystemBackend`
matches `pon_loss` / `cto_loss` (loss) and `pon_no_power` / `no_power` (energia) alerts to
the sampled ONUs by serial.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any
from urllib.parse import urljoin

import requests

from outage import http
from outage.adapters.cause.backend import OltBackend, OltResult, evidence
from outage.adapters.cause.parsers import serial_forms
from outage.config import Settings
from outage.core.model import CAUSE_LOS, CAUSE_POWER, Subscriber

log = logging.getLogger(__name__)

ALERT_CAUSES = {
    "pon_loss": CAUSE_LOS,
    "cto_loss": CAUSE_LOS,
    "pon_no_power": CAUSE_POWER,
    "no_power": CAUSE_POWER,
}
MAX_PAGES = 50


class OltSystemError(Exception):
    """The OLT management system could not be read (message in Portuguese, no secrets)."""


class OltSystemClient:
    """A logged-in client of the OLT management system; thread-safe token refresh."""

    def __init__(
        self,
        base_url: str,
        auth_url: str,
        user: str,
        password: str,
        *,
        timeout: float = 10.0,
        initial_token: str = "",
    ) -> None:
        """`initial_token`: a Bearer to use before any login (the dispatch console's `API_TOKEN`)."""
        self.base_url = base_url.rstrip("/")
        self.auth_url = auth_url
        self.user = user
        self.password = password
        self.timeout = timeout
        self.session = http.new_session()
        self._token = initial_token
        self._lock = threading.Lock()
        self._login_lock = threading.Lock()
        http.register_secret(password)
        http.register_secret(initial_token)

    @classmethod
    def for_settings(cls, settings: Settings, *, timeout: float = 10.0) -> OltSystemClient:
        """The client the settings describe (login by user and password, or the initial Bearer)."""
        return cls(
            settings.api_base_url,
            settings.api_auth_url,
            settings.api_user,
            settings.api_pass,
            timeout=timeout,
            initial_token=settings.olt_system_token,
        )

    def login(self) -> str:
        response = self._send("POST", self.auth_url, json={"username": self.user, "password": self.password})
        token = _json(response).get("access") if response.status_code == 200 else None
        if not token:
            raise OltSystemError(
                f"Login no sistema de gerência de OLT recusado (HTTP {response.status_code})."
            )
        http.register_secret(str(token))
        with self._lock:
            self._token = str(token)
        return self._token

    def get(self, path_or_url: str) -> dict[str, Any]:
        """GET a JSON object; on 401 log in again and repeat once (concurrent 401s share one login)."""
        url = urljoin(self.base_url + "/", path_or_url)
        token = self._token or self._fresh_token("")
        response = self._send("GET", url, headers={"Authorization": f"Bearer {token}"})
        if response.status_code == 401:
            log.info("token do sistema de gerência de OLT expirou; entrando de novo")
            response = self._send("GET", url, headers={"Authorization": f"Bearer {self._fresh_token(token)}"})
        if response.status_code != 200:
            raise OltSystemError(
                f"Sistema de gerência de OLT: HTTP {response.status_code} em {http.redact(url)}."
            )
        return _json(response)

    def _fresh_token(self, stale: str) -> str:
        """A token newer than `stale`: log in, unless another thread already did meanwhile."""
        with self._login_lock:
            if self._token and self._token != stale:
                return self._token
            return self.login()

    def open_alerts(self) -> list[dict[str, Any]]:
        """Every open alert, following `next` links."""
        alerts: list[dict[str, Any]] = []
        page: str | None = "/api/v2/ftth/alert/list?end_date__isnull=true"
        for _ in range(MAX_PAGES):
            if not page:
                break
            data = self.get(page)
            alerts += [a for a in data.get("results", []) if isinstance(a, dict)]
            page = data.get("next") or None
        return alerts

    def alert_detail(self, alert_id: Any) -> dict[str, Any]:
        data = self.get(f"/api/v2/ftth/alert/{alert_id}")
        alert = data.get("alert", data)
        return alert if isinstance(alert, dict) else {}

    def client(self, client_id: Any) -> dict[str, Any]:
        clients = self.get(f"/api/v2/client/{client_id}").get("clients") or [{}]
        return clients[0] if isinstance(clients[0], dict) else {}

    def _send(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        try:
            return http.call(method, url, session=self.session, timeout=self.timeout, retries=1, **kwargs)
        except http.TransportError as exc:
            raise OltSystemError(f"Sistema de gerência de OLT inacessível: {exc}") from exc


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError as exc:
        raise OltSystemError("Sistema de gerência de OLT respondeu algo que não é JSON.") from exc
    return data if isinstance(data, dict) else {}


def _serials(value: Any) -> set[str]:
    hex_sn, vendor_sn = serial_forms(str(value or ""))
    return {s for s in (hex_sn, vendor_sn) if s}


class OltSystemBackend(OltBackend):
    """An OLT whose cause is read from the OLT management system's open alerts (by ONU serial)."""

    @classmethod
    def settings_problem(cls, settings: Settings) -> str:
        if settings.olt_system_enabled:
            return ""
        return (
            "backend olt_system precisa do sistema de gerência de OLT: defina API_BASE_URL, "
            "API_AUTH_URL, API_USER e API_PASS."
        )

    def consult(self, subscribers: Sequence[Subscriber], deadline: float) -> OltResult:
        client = self.sources.olt_system
        if client is None:
            return OltResult(
                erros=[
                    f"{self.olt.name}: backend olt_system, mas API_BASE_URL/API_AUTH_URL não configurados."
                ]
            )
        result = OltResult()
        try:
            by_serial = _index_devices(client, self._alerts(client))
        except OltSystemError as exc:
            result.erros.append(str(exc))
            return result
        for subscriber in subscribers:
            alert = next((by_serial[s] for s in _serials(subscriber.onu_mac) if s in by_serial), None)
            if alert is None:
                result.erros.append(
                    f"Nenhum alerta aberto no sistema de gerência de OLT para {subscriber.login}."
                )
            else:
                result.evidencias.append(self._evidence(subscriber, alert))
        return result

    def _alerts(self, client: OltSystemClient) -> list[dict[str, Any]]:
        """Open alerts of a known type, this OLT's when it has any (matched by name)."""
        alerts = [a for a in client.open_alerts() if a.get("alert_type") in ALERT_CAUSES]
        name = self.olt.name.lower()
        return [a for a in alerts if str(a.get("olt_name", "")).lower() == name] or alerts

    def _evidence(self, subscriber: Subscriber, alert: dict[str, Any]) -> dict[str, Any]:
        alert_type = str(alert.get("alert_type"))
        return evidence(
            self.olt,
            subscriber.login,
            alert_type,
            str(alert.get("initial_date") or ""),
            "sistema de gerência de OLT",
            classification=ALERT_CAUSES[alert_type],
            olt=str(alert.get("olt_name") or self.olt.name),
            pon=str(alert.get("slot_pon") or alert.get("pon") or ""),
            cto=str(alert.get("cto_name") or alert.get("cto_id") or ""),
            alerta=alert.get("id"),
            tipo_alerta=alert_type,
            onus_no_alerta=alert.get("total_devices_count"),
        )


def _index_devices(client: OltSystemClient, alerts: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    by_serial: dict[str, dict[str, Any]] = {}
    for alert in alerts:
        detail = {**alert, **client.alert_detail(alert.get("id"))}
        for device in detail.get("affected_devices") or []:
            onu = device.get("onu_device") if isinstance(device, dict) else None
            for serial in _serials((onu or {}).get("sn_onu")):
                by_serial.setdefault(serial, detail)
    return by_serial
