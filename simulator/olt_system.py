"""A fake of the OLT management system API as a real local HTTP server.

- `POST /oauth/login` `{"username", "password"}` → `{"access": <JWT-like token>}` (401 if wrong);
- every other route needs `Authorization: Bearer <token>`; an expired or unknown token → 401;
- `GET /api/v2/ftth/alert/list?end_date__isnull=true` → `{"count", "next", "previous", "results"}`
  paginated by `page_size` with an absolute `next` URL;
- `GET /api/v2/ftth/alert/<id>` → `{"alert": {..., "affected_devices": [...]}}`;
- `GET /api/v2/client/<id>` → `{"clients": [{"name", "contact" | "phone_number"}]}`.

Alerts and clients are settable (`add_alert`, `resolve_alert`, `set_client`); `expire_tokens()`
makes every issued token expire at once; counters `logins` and `requests`.

Every alert carries the place fields `olt_id`, `olt_name`, `slot_pon`, `pon`, `cto_id` and
`cto_name`, null where the system does not know them; and not every alert is placed: every
`unplaced_every`-th power alert (`pon_no_power` / `no_power`) comes with its PON and CTO
fields null, so a client must cope with alerts that lack them (0 turns this off).

    with OltSystemFake() as api:
        api.add_alert({"alert_type": "pon_loss", "olt_name": "OLT-SUL", ...}, devices=[...])
        settings: API_BASE_URL=api.url, API_AUTH_URL=api.auth_url
"""

from __future__ import annotations

import base64
import json
import threading
import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, jsonify, request
from flask.typing import ResponseReturnValue

from simulator.httpserver import FakeHTTPServer

PON_FIELDS = ("slot_pon", "pon", "cto_id", "cto_name")
PLACE_FIELDS = ("olt_id", "olt_name", *PON_FIELDS)
POWER_TYPES = {"pon_no_power", "no_power"}


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


class OltSystemFake(FakeHTTPServer):
    """See the module docstring."""

    def __init__(
        self,
        username: str = "api",
        password: str = "api-secret",  # noqa: S107 - a fake server's default
        *,
        token_ttl: float = 300.0,
        page_size: int = 2,
        unplaced_every: int = 3,
    ) -> None:
        self.username = username
        self.password = password
        self.token_ttl = token_ttl
        self.page_size = page_size
        self.unplaced_every = unplaced_every
        self._power_alerts = 0
        self.alerts: dict[int, dict[str, Any]] = {}
        self.clients: dict[str, dict[str, Any]] = {}
        self.logins = 0
        self.requests = 0
        self._tokens: dict[str, float] = {}
        self._next_id = 1
        self._lock = threading.Lock()
        super().__init__(self._build_app())

    @property
    def auth_url(self) -> str:
        return f"{self.url}/oauth/login"

    # --- state the tests (and the product simulator) set -------------------------------

    def add_alert(self, alert: dict[str, Any], devices: list[dict[str, Any]] | None = None) -> int:
        """Open an alert; `devices` are `{"client_id", "sn_onu", "client_name", "status"}` dicts."""
        with self._lock:
            alert_id = int(alert.get("id") or self._next_id)
            self._next_id = max(self._next_id, alert_id) + 1
            affected = [{"client_id": d.get("client_id"), "onu_device": dict(d)} for d in devices or []]
            self.alerts[alert_id] = {
                "id": alert_id,
                "end_date": None,
                "initial_date": _now_local(),
                "total_devices_count": len(affected),
                "active_devices_count": 0,
                **dict.fromkeys(PLACE_FIELDS),
                **alert,
                **self._unplaced(alert),
                "affected_devices": affected,
            }
            return alert_id

    def _unplaced(self, alert: dict[str, Any]) -> dict[str, None]:
        """The PON and CTO fields nulled, for every `unplaced_every`-th power alert (lock held)."""
        if alert.get("alert_type") not in POWER_TYPES or not self.unplaced_every:
            return {}
        self._power_alerts += 1
        return dict.fromkeys(PON_FIELDS) if self._power_alerts % self.unplaced_every == 0 else {}

    def resolve_alert(self, alert_id: int) -> None:
        with self._lock:
            self.alerts[alert_id]["end_date"] = _now_local()

    def set_client(
        self, client_id: Any, name: str, contact: str = "", *, phone_field: str = "contact"
    ) -> None:
        with self._lock:
            self.clients[str(client_id)] = {"name": name, phone_field: contact}

    def expire_tokens(self) -> None:
        with self._lock:
            self._tokens = {token: 0.0 for token in self._tokens}

    # --- HTTP --------------------------------------------------------------------------

    def _issue_token(self) -> str:
        expires = time.time() + self.token_ttl
        token = ".".join(
            [_b64({"alg": "HS256", "typ": "JWT"}), _b64({"sub": self.username, "exp": int(expires)}), "sig"]
        )
        token += f"{len(self._tokens)}"
        with self._lock:
            self._tokens[token] = expires
            self.logins += 1
        return token

    def _authorized(self) -> bool:
        header = request.headers.get("Authorization", "")
        token = header.removeprefix("Bearer ").strip()
        with self._lock:
            self.requests += 1
            return header.startswith("Bearer ") and self._tokens.get(token, 0.0) > time.time()

    def _build_app(self) -> Flask:
        app = Flask("olt_system_fake")

        @app.post("/oauth/login")
        def login() -> ResponseReturnValue:
            body = request.get_json(silent=True) or {}
            if body.get("username") != self.username or body.get("password") != self.password:
                return jsonify({"detail": "No active account found with the given credentials"}), 401
            return jsonify({"access": self._issue_token(), "refresh": "not-used"})

        @app.get("/api/v2/ftth/alert/list")
        def alert_list() -> ResponseReturnValue:
            if not self._authorized():
                return jsonify({"detail": "Given token not valid for any token type"}), 401
            return jsonify(self._page(request.args.get("end_date__isnull"), int(request.args.get("page", 1))))

        @app.get("/api/v2/ftth/alert/<int:alert_id>")
        def alert_detail(alert_id: int) -> ResponseReturnValue:
            if not self._authorized():
                return jsonify({"detail": "Given token not valid for any token type"}), 401
            with self._lock:
                alert = self.alerts.get(alert_id)
            if alert is None:
                return jsonify({"detail": "Not found."}), 404
            return jsonify({"alert": alert})

        @app.get("/api/v2/client/<client_id>")
        def client(client_id: str) -> ResponseReturnValue:
            if not self._authorized():
                return jsonify({"detail": "Given token not valid for any token type"}), 401
            with self._lock:
                found = self.clients.get(client_id)
            return jsonify({"clients": [found] if found else []})

        return app

    def _page(self, open_only: str | None, page: int) -> dict[str, Any]:
        with self._lock:
            alerts = [
                {k: v for k, v in a.items() if k != "affected_devices"}
                for a in sorted(self.alerts.values(), key=lambda a: a["id"])
                if open_only != "true" or a["end_date"] is None
            ]
        start = (page - 1) * self.page_size
        more = start + self.page_size < len(alerts)
        query = f"end_date__isnull={open_only}&" if open_only else ""
        return {
            "count": len(alerts),
            "next": f"{request.host_url}api/v2/ftth/alert/list?{query}page={page + 1}" if more else None,
            "previous": None,
            "results": alerts[start : start + self.page_size],
        }


def _now_local() -> str:
    """Now in America/Sao_Paulo with its offset, as the OLT system writes dates."""
    return datetime.now(ZoneInfo("America/Sao_Paulo")).isoformat(timespec="seconds")
