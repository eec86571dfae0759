"""The seed's OLT middleware (`OLT_SERVICE_URL`, `POST /consulta/olt`), behind the analyzer contract.

It receives up to 3 sample logins and the `id_transmissor` and answers
`{"motivo_final": "energia" | "loss" | "indeterminado", "detalhes": [...]}`, having decided
by majority itself; its verdict counts as one vote per login it was asked about.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import requests

from outage import http
from outage.cause.parsers import NO_VOTE
from outage.cause.ssh import OltResult
from outage.model import CAUSE_LOS, CAUSE_POWER, Subscriber

MAX_LOGINS = 3


def consult(
    base_url: str, id_transmissor: str, subscribers: Sequence[Subscriber], timeout: float
) -> OltResult:
    """Ask the middleware about up to 3 logins of one OLT. Never raises."""
    result = OltResult()
    logins = [s.login for s in subscribers[:MAX_LOGINS]]
    body = {"logins": logins, "id_transmissor": id_transmissor}
    try:
        response = http.call("POST", f"{base_url}/consulta/olt", json=body, timeout=timeout, retries=0)
        data = response.json() if response.status_code == 200 else None
    except (http.TransportError, requests.JSONDecodeError, ValueError) as exc:
        result.erros.append(f"Serviço de consulta à OLT (id_transmissor {id_transmissor}) falhou: {exc}")
        return result
    if not isinstance(data, dict) or data.get("motivo_final") is None:
        status = getattr(response, "status_code", "?")
        result.erros.append(f"Serviço de consulta à OLT respondeu algo inesperado (HTTP {status}).")
        return result
    verdict = str(data["motivo_final"]).strip().lower()
    vote = verdict if verdict in (CAUSE_POWER, CAUSE_LOS) else NO_VOTE
    raw_details = data.get("detalhes")
    details: list[Any] = raw_details if isinstance(raw_details, list) else []
    for position, login in enumerate(logins):
        detail = details[position] if position < len(details) else None
        result.evidencias.append(_evidence(login, id_transmissor, verdict, vote, detail))
    return result


def _evidence(login: str, id_transmissor: str, verdict: str, vote: str, detail: Any) -> dict[str, Any]:
    raw = detail if isinstance(detail, str) else ""
    if isinstance(detail, dict):
        raw = str(detail.get("causa") or detail.get("motivo") or detail.get("last_down_cause") or "")
    return {
        "login": login,
        "olt": "",
        "id_transmissor": id_transmissor,
        "causa_bruta": raw or verdict,
        "caiu_em": "",
        "classificacao": vote,
        "fonte": "serviço de consulta à OLT (OLT_SERVICE_URL)",
    }
