"""The original monitor's OLT service (`OLT_SERVICE_URL`, `POST /consulta/olt`) as an OLT backend.

It receives up to 3 sample logins and the `id_transmissor` and answers
`{"motivo_final": "energia" | "loss" | "indeterminado", "detalhes": [...]}`, having decided
by majority itself; its verdict counts as one vote per login it was asked about. The
analyzer uses it for ids missing from the inventory; an inventory entry may also name it
(`"backend": "middleware"`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import requests

from outage import http
from outage.adapters.cause.backend import OltBackend, OltResult, evidence
from outage.adapters.cause.parsers import NO_VOTE
from outage.config import Settings
from outage.core.model import CAUSE_LOS, CAUSE_POWER, Subscriber

MAX_LOGINS = 3
SOURCE = "serviço de consulta à OLT (OLT_SERVICE_URL)"


class MiddlewareBackend(OltBackend):
    """See the module docstring."""

    @classmethod
    def settings_problem(cls, settings: Settings) -> str:
        if settings.olt_service_url:
            return ""
        return "backend middleware precisa de OLT_SERVICE_URL (URL do serviço de consulta à OLT do sistema original)."

    def consult(self, subscribers: Sequence[Subscriber], deadline: float) -> OltResult:
        ident = self.olt.id_transmissor
        if not self.sources.middleware_url:
            return OltResult(
                erros=[f"OLT {ident}: backend middleware, mas OLT_SERVICE_URL não está definido."]
            )
        logins = [s.login for s in subscribers[:MAX_LOGINS]]
        timeout = max(0.5, deadline - time.monotonic())
        body = {"logins": logins, "id_transmissor": ident}
        url = f"{self.sources.middleware_url}/consulta/olt"
        try:
            response = http.call("POST", url, json=body, timeout=timeout, retries=0)
            data = response.json() if response.status_code == 200 else None
        except (http.TransportError, requests.JSONDecodeError, ValueError) as exc:
            return OltResult(erros=[f"Serviço de consulta à OLT (id_transmissor {ident}) falhou: {exc}"])
        if not isinstance(data, dict) or data.get("motivo_final") is None:
            return OltResult(
                erros=[f"Serviço de consulta à OLT respondeu algo inesperado (HTTP {response.status_code})."]
            )
        return self._verdict(data, logins)

    def _verdict(self, data: dict[str, Any], logins: list[str]) -> OltResult:
        verdict = str(data["motivo_final"]).strip().lower()
        vote = verdict if verdict in (CAUSE_POWER, CAUSE_LOS) else NO_VOTE
        raw_details = data.get("detalhes")
        details: list[Any] = raw_details if isinstance(raw_details, list) else []
        result = OltResult()
        for position, login in enumerate(logins):
            raw = _raw_cause(details[position] if position < len(details) else None)
            result.evidencias.append(
                evidence(self.olt, login, raw or verdict, "", SOURCE, classification=vote, atual=True)
            )
        return result


def _raw_cause(detail: Any) -> str:
    if isinstance(detail, dict):
        return str(detail.get("causa") or detail.get("motivo") or detail.get("last_down_cause") or "")
    return detail if isinstance(detail, str) else ""
