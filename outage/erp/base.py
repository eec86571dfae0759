"""What an ERP reader returns, and how it fails."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from outage.model import SEPARATOR, SUBSCRIBER_FIELDS, UNKNOWN_CONNECTION, Subscriber

_SHARED_FIELDS = (
    "conexao",
    "id_transmissor",
    "interface_transmissao",
    "id_caixa_ftth",
    "ultima_conexao_final",
)


class ErpReadError(Exception):
    """The ERP could not be read completely and consistently: the whole cycle fails.

    The message is in Portuguese, for the operator, and never holds a secret.
    """


@dataclass(frozen=True)
class Observation:
    """One consistent read of the ERP.

    offline: every active login whose `online` is `N`, by login.
    online: logins confirmed `S` among the candidates the caller asked about.
    Any candidate in neither is unknown (`SS`, empty, missing): never a reconnection.
    """

    offline: dict[str, Subscriber]
    online: frozenset[str] = frozenset()
    pages: int = 1
    notes: tuple[str, ...] = field(default=())


class ErpReader(Protocol):
    def read(self, candidates: Mapping[str, str]) -> Observation:
        """Read the offline set and the status of `candidates` (login → radusuarios id).

        Candidates are the logins offline in the last good state that the caller needs
        a verdict on. Raises `ErpReadError` on any failure.
        """
        ...


def subscriber_from_record(record: Mapping[str, object]) -> Subscriber:
    """Build a Subscriber from an ERP record (strings; missing or None fields become "")."""
    values = {name: _text(record.get(name)) for name in SUBSCRIBER_FIELDS}
    for name in _SHARED_FIELDS:  # values repeated across thousands of logins: keep one copy
        values[name] = sys.intern(values[name])
    values["login"] = values["login"].strip()
    values["conexao"] = values["conexao"].strip() or UNKNOWN_CONNECTION
    return Subscriber(**values)


def _text(value: object) -> str:
    return "" if value is None else str(value).replace(SEPARATOR, " ")
