"""Reading PPPoE state through the original monitor's IXC service (`IXCSOFT_SERVICE_URL`).

`GET /clientes/offline` and `GET /clientes/online` -> `{"clientes": [...]}`, seven fields per
client (`id_cliente`, `login`, `conexao`, `ultima_conexao_final`, `id_transmissor`,
`latitude`, `longitude`). Both must answer for the cycle to count; a login in neither list
is unknown (`SS` in IXC, say), never a reconnection.

The service cannot say when it is blind: when IXC fails it still answers HTTP 200 with the
list it had so far, often `{"clientes": []}`. So an answer that cannot be told from such a
failure fails the cycle (`ErpReadError`, which `/healthz` shows as the last cycle's error):

- the online list is empty: every ISP has customers online;
- of the logins offline in the last good state (the `candidates` of `read`), when there
  were at least `BLIND_MIN_PREVIOUS`, half or more are in neither list: a real recovery
  puts them in the online list, a cut-short answer in none.

A smaller loss passes: the missing logins stay offline as they were (unknown changes
nothing), so a partial answer can hide a new drop for a cycle, never fake a recovery.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import requests

from outage.adapters.erp.base import (
    ClientContact,
    ErpKind,
    ErpReadError,
    Observation,
    own_settings,
    subscriber_from_record,
)
from outage.config import Reader, Settings
from outage.core.localtime import LOCAL_TZ, zone
from outage.core.model import Subscriber
from outage.core.place import count_places, path_of
from outage.http import TransportError, call, decode_json, new_session

BLIND_MIN_PREVIOUS = 10
BLIND_SHARE = 0.5


@dataclass(frozen=True)
class MiddlewareSettings:
    """Where the original monitor's IXC service answers."""

    url: str = ""


def read(r: Reader) -> MiddlewareSettings:
    """The service's settings from the environment; problems appended to `r.problems`."""
    return MiddlewareSettings(url=r.url("IXCSOFT_SERVICE_URL"))


def middleware_settings(settings: Settings) -> MiddlewareSettings:
    return own_settings(settings, KIND.name, MiddlewareSettings)


class MiddlewareReader:
    contacts_unavailable = (
        "ERP em modo intermediário (IXCSOFT_SERVICE_URL): o serviço não tem o cadastro de clientes;"
        " com IXC_URL o acesso é direto"
    )

    def __init__(self, settings: Settings, session: requests.Session | None = None) -> None:
        self.base = middleware_settings(settings).url.rstrip("/")
        self.timeout = settings.erp_timeout
        self.tz = zone(settings.erp_timezone) or LOCAL_TZ
        self.session = session or new_session(2)

    def read(self, candidates: Mapping[str, str]) -> Observation:
        offline: dict[str, Subscriber] = {}
        for record in self._clients("offline"):
            sub = subscriber_from_record(record, self.tz)
            if sub.login:
                offline[sub.login] = sub
        online = {str(r.get("login", "")).strip() for r in self._clients("online")} - {""}
        check_not_blind(candidates, offline, online)
        confirmed = frozenset(login for login in candidates if login in online and login not in offline)
        return Observation(offline=offline, online=confirmed, pages=2)

    def read_population(self, each: Callable[[Subscriber], None] | None = None) -> dict[str, int]:
        """The logins of both lists counted per place (the service gives only the connection and
        the OLT); an empty online list is a failure, as in `read`. `each`, when given, gets
        every login's record."""
        online = self._clients("online")
        check_not_blind({}, {}, {str(r.get("login", "")) for r in online})
        subs = {}  # by login: one listed in both (its status changed between the calls) counts once
        for record in [*online, *self._clients("offline")]:
            sub = subscriber_from_record(record, self.tz)
            if sub.login:
                subs[sub.login] = sub
        if each is not None:
            for sub in subs.values():
                each(sub)
        return count_places(path_of(sub) for sub in subs.values())

    def read_contacts(self, client_ids: Sequence[str]) -> dict[str, ClientContact]:
        """The service has no customer register: no customer is ever found."""
        return {}

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
            data = decode_json(response)
        except ValueError as exc:
            raise ErpReadError(f"serviço do IXCSoft devolveu JSON inválido em /clientes/{which}") from exc
        clients = data.get("clientes") if isinstance(data, dict) else None
        if not isinstance(clients, list) or not all(isinstance(c, dict) for c in clients):
            raise ErpReadError(
                f"serviço do IXCSoft devolveu uma resposta sem 'clientes' em /clientes/{which}"
            )
        return clients


def check_not_blind(previous: Mapping[str, str], offline: Mapping[str, Subscriber], online: set[str]) -> None:
    """Raise `ErpReadError` when the answer looks like an IXC failure (see the module)."""
    if not online:
        raise ErpReadError(
            "serviço do IXCSoft devolveu a lista de clientes online vazia: o IXCSoft provavelmente "
            "falhou (o serviço responde 200 com a lista vazia); ciclo descartado"
        )
    vanished = sum(1 for login in previous if login not in offline and login not in online)
    if len(previous) >= BLIND_MIN_PREVIOUS and vanished >= BLIND_SHARE * len(previous):
        raise ErpReadError(
            f"serviço do IXCSoft: {vanished} dos {len(previous)} logins offline no último ciclo bom não "
            "estão em nenhuma das listas (nem offline nem online): resposta incompleta, o IXCSoft "
            "provavelmente falhou; ciclo descartado"
        )


KIND = ErpKind(
    name="middleware",
    label="serviço intermediário do IXCSoft",
    settings=("IXCSOFT_SERVICE_URL",),
    read=read,
    setup="IXCSOFT_SERVICE_URL (serviço intermediário)",
    enabled=lambda settings: bool(middleware_settings(settings).url),
    build=MiddlewareReader,
)
