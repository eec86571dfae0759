"""What an ERP reader returns, how it fails, and how each ERP declares itself (`ErpKind`).

An ERP source's settings are its own frozen dataclass, read by its `read(reader)` with the
configuration's reader (`outage.config.load_settings` is given the table, `ERPS`) and kept
in `Settings.erps` under its name; `own_settings` gives them back. The ERP's time zone and
request timeout (`Settings.erp_timezone`, `Settings.erp_timeout`) are the configuration's:
every source uses them.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Protocol, TypeVar

from outage.config import Reader, Settings, own_section
from outage.core.localtime import LOCAL_TZ, parse_erp_time
from outage.core.model import SEPARATOR, TEXT_FIELDS, UNKNOWN_CONNECTION, Subscriber
from outage.core.place import place_path

_SHARED_FIELDS = ("conexao", "id_transmissor", "interface_transmissao", "id_caixa_ftth")


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


@dataclass(frozen=True)
class ClientContact:
    """A customer as the ERP's register has them: the name and the phone numbers written
    there, the best for a WhatsApp notice first (as written: not yet checked)."""

    name: str
    phones: tuple[str, ...]


class ErpReader(Protocol):
    contacts_unavailable: str  # why `read_contacts` can find no customer ("" when it can)

    def read(self, candidates: Mapping[str, str]) -> Observation:
        """Read the offline set and the status of `candidates` (login → radusuarios id).

        Candidates are the logins offline in the last good state that the caller needs
        a verdict on. Raises `ErpReadError` on any failure.
        """
        ...

    def read_population(self, each: Callable[[Subscriber], None] | None = None) -> dict[str, int]:
        """The active logins (`ativo = S`, whatever their status) of every place: each key of
        `outage.core.place.path_of` → how many logins are in it; `each`, when given, gets every
        active login's record as it is read. Raises `ErpReadError` on any failure."""
        ...

    def read_contacts(self, client_ids: Sequence[str]) -> dict[str, ClientContact]:
        """The customers `client_ids` (`id_cliente`) found in the register, by id; an id not
        there is absent. Raises `ErpReadError` on any failure."""
        ...


S = TypeVar("S")


def own_settings(settings: Settings, name: str, kind: type[S]) -> S:
    """ERP source `name`'s own settings in `settings`; its defaults (the source off) when
    `settings` were built without them."""
    return own_section(settings.erps, name, kind)


def _nothing(settings: Settings) -> list[str]:
    return []


def _no_secrets(settings: Settings) -> tuple[str, ...]:
    return ()


@dataclass(frozen=True)
class ErpKind:
    """One ERP source, as the registry (`outage.adapters.erp.ERPS`), the Saúde page and the
    log redaction see it.

    name: the source (`direct`, `middleware`).
    label: the source on the Saúde page (pt-BR).
    settings: the variables its `read` reads (`.env.example` documents each).
    read: its own settings from the configuration's reader (kept in `Settings.erps` under
        `name`); the problems of its values, alone or together, appended to `reader.problems`.
    setup: what configures it, for hints ("IXCSOFT_SERVICE_URL (serviço intermediário)").
    enabled: whether the settings configure it.
    build: the reader for `settings`.
    cross_checks: problems of its settings with others, found once every part has read its
        own (they stop the start-up, as `read`'s do).
    secrets: the values `outage.http.redact` must mask in logs and API answers.
    """

    name: str
    label: str
    settings: tuple[str, ...]
    read: Callable[[Reader], object]
    setup: str
    enabled: Callable[[Settings], bool]
    build: Callable[[Settings], ErpReader]
    cross_checks: Callable[[Settings], list[str]] = _nothing
    secrets: Callable[[Settings], tuple[str, ...]] = _no_secrets


def subscriber_from_record(record: Mapping[str, object], tz: tzinfo = LOCAL_TZ) -> Subscriber:
    """Build a Subscriber from an ERP record (strings; missing or None fields become "").

    `ultima_conexao_final` is local time in `tz` (the ERP's zone) and becomes epoch seconds.
    """
    values = {name: _text(record.get(name)) for name in TEXT_FIELDS}
    for name in _SHARED_FIELDS:  # values repeated across thousands of logins: keep one copy
        values[name] = sys.intern(values[name])
    values["login"] = values["login"].strip()
    values["conexao"] = values["conexao"].strip() or UNKNOWN_CONNECTION
    session_end = parse_erp_time(_text(record.get("ultima_conexao_final")), tz)
    return Subscriber(**values, session_end=session_end)


def count_records(records: Iterable[Mapping[str, object]], counts: dict[str, int]) -> None:
    """Add each ERP record with a login to the count of every place on its path (as
    `outage.core.place.path_of` places the Subscriber it makes), without building one: the records
    are grouped by their place fields first, so a page of 1,000 costs a few dozen paths."""
    fields = Counter(
        (r.get("id_caixa_ftth"), r.get("id_transmissor"), r.get("interface_transmissao"), r.get("conexao"))
        for r in records
        if r.get("login")
    )
    for (cto, olt, interface, conexao), logins in fields.items():
        where = _text(conexao).strip() or UNKNOWN_CONNECTION
        for key in place_path(_text(cto), _text(olt), _text(interface), where):
            counts[key] = counts.get(key, 0) + logins


def _text(value: object) -> str:
    return "" if value is None else str(value).replace(SEPARATOR, " ")
