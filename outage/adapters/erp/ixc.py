"""Direct reading of the IXCSoft webservice (`radusuarios`).

What a cycle fetches, and why: only active logins with `online = N` (a large ISP has
100k+ logins but a few hundred to a few thousand offline), paged by `IXC_PAGE_SIZE`, the
first page giving `total` and the rest fetched concurrently. Logins that were offline in
the last good state and are absent now are looked up by id (`oper: IN`), so a
reconnection is only ever declared for a login the ERP positively reports as `S`.

Consistency rule: the pages are read at slightly different moments, so records move
between pages as customers connect and drop (churn). Each page repeats `total`; a read is
accepted when the totals of its pages differ by no more than a churn allowance of
max(5, 1 %), the distinct records received are at least the smallest `total` minus that
allowance, and no page that must hold records came back empty.
Anything else (a missing page, far fewer records than announced) fails the whole cycle.

Credentials: `IXC_TOKEN` as IXCSoft shows it (`<id>:<hash>`), or the hash alone with the id
in `IXC_USER`; the settings hold them apart (`user` = id, `token` = hash).
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

import requests

from outage.adapters.erp.base import (
    ClientContact,
    ErpKind,
    ErpReadError,
    Observation,
    count_records,
    own_settings,
    subscriber_from_record,
)
from outage.config import Reader, Settings
from outage.core.localtime import LOCAL_TZ, zone
from outage.core.model import Subscriber
from outage.http import TransportError, call, decode_json, new_session, register_secret

log = logging.getLogger(__name__)

_TAGS = re.compile(r"<[^>]+>")
CHURN_ABSOLUTE = 5
CHURN_RATIO = 0.01


@dataclass(frozen=True)
class IxcSettings:
    """The webservice, the user (id and token hash) and how it is read: TLS checked or not,
    records per page, pages in parallel."""

    url: str = ""
    user: str = ""
    token: str = field(default="", repr=False)
    verify_tls: bool = True
    page_size: int = 1000
    concurrency: int = 8


def read(r: Reader) -> IxcSettings:
    """IXCSoft's settings from the environment; problems appended to `r.problems`."""
    user, token, problem = credentials(r.text("IXC_USER", ""), r.text("IXC_TOKEN", ""))
    s = IxcSettings(
        url=r.url("IXC_URL"),
        user=user,
        token=token,
        verify_tls=r.flag("IXC_VERIFY_TLS", True),
        page_size=r.number("IXC_PAGE_SIZE", 1000, minimum=1, maximum=100000),
        concurrency=r.number("IXC_CONCURRENCY", 8, minimum=1, maximum=64),
    )
    r.problems.extend([problem] if problem else [])
    r.problems.extend(problems(s))
    return s


def credentials(user: str, token: str) -> tuple[str, str, str | None]:
    """(user id, hash, problem) from `IXC_USER` and `IXC_TOKEN` (`<id>:<hash>` or the hash)."""
    if ":" not in token:
        return user, token, None
    ident, _, secret = token.partition(":")
    if ":" in secret or not ident.strip() or not secret.strip():
        return (
            user,
            token,
            "IXC_TOKEN inválido: escreva como o IXCSoft mostra, <id>:<hash> (ex.: 8:1126d7...).",
        )
    if user and user != ident.strip():
        return (
            user,
            secret,
            (
                f"IXC_USER={user} não confere com o id {ident.strip()} do IXC_TOKEN ({ident.strip()}:...): "
                "deixe só IXC_TOKEN como o IXCSoft mostra."
            ),
        )
    return ident.strip(), secret.strip(), None


def problems(s: IxcSettings) -> list[str]:
    """The access half done: a URL without the token or without the user's id."""
    if s.url and not s.token:
        return ["IXC_URL definido sem IXC_TOKEN: gere um token em IXCSoft > Usuários > Token."]
    if s.url and not s.user:
        return [
            "IXC_URL definido sem o id do usuário: escreva IXC_TOKEN como o IXCSoft mostra (8:<hash>) "
            "ou informe IXC_USER (ex.: 8)."
        ]
    return []


def ixc_settings(settings: Settings) -> IxcSettings:
    return own_settings(settings, KIND.name, IxcSettings)


@dataclass(frozen=True)
class Page:
    number: int
    total: int
    records: list[dict[str, Any]]


# The `cliente` fields that hold a phone, the best for a WhatsApp notice first.
PHONE_FIELDS = ("telefone_celular", "whatsapp", "fone")


class IxcReader:
    """Reads PPPoE state from `{IXC_URL}/webservice/v1/radusuarios`, customers from `cliente`."""

    contacts_unavailable = ""

    def __init__(self, settings: Settings, session: requests.Session | None = None) -> None:
        own = ixc_settings(settings)
        self.base = own.url.rstrip("/") + "/webservice/v1"
        self.page_size = own.page_size
        self.concurrency = own.concurrency
        self.timeout = settings.erp_timeout
        self.verify = own.verify_tls
        self.auth = (own.user, own.token)
        self.tz = zone(settings.erp_timezone) or LOCAL_TZ
        register_secret(own.token)
        self.session = session or new_session(self.concurrency)

    def read(self, candidates: Mapping[str, str]) -> Observation:
        offline_filter = [
            {"TB": "radusuarios.ativo", "OP": "=", "P": "S"},
            {"TB": "radusuarios.online", "OP": "=", "P": "N"},
        ]
        pages = self.list_all("radusuarios", offline_filter)
        offline: dict[str, Subscriber] = {}
        ignored = 0
        for page in pages:
            for record in page.records:
                sub = subscriber_from_record(record, self.tz)
                if not sub.login or str(record.get("online", "")) != "N":
                    ignored += 1  # the ERP ignored a filter: never count such a record
                    continue
                offline[sub.login] = sub
        self._check_consistency(pages, len(offline) + ignored)
        missing = {login: rid for login, rid in candidates.items() if login not in offline}
        online = self._confirmed_online(missing)
        notes = (f"{ignored} registros ignorados (fora do filtro)",) if ignored else ()
        return Observation(offline=offline, online=frozenset(online), pages=len(pages), notes=notes)

    def read_population(self, each: Callable[[Subscriber], None] | None = None) -> dict[str, int]:
        """Every active login counted per place, page by page (no page is kept once counted),
        with the same consistency rule as the offline read; `each`, when given, gets every
        login's record as it is read."""
        counts: dict[str, int] = {}
        seen: list[Page] = []  # each page's number and total, without its records
        empty: list[int] = []
        received = 0

        def count(page: Page) -> None:
            nonlocal received
            seen.append(Page(page.number, page.total, []))
            if not page.records:
                empty.append(page.number)
            received += len(page.records)
            count_records(page.records, counts)
            if each is not None:
                for record in page.records:
                    if record.get("login"):
                        each(subscriber_from_record(record, self.tz))

        self.each_page("radusuarios", [{"TB": "radusuarios.ativo", "OP": "=", "P": "S"}], count)
        self._check_consistency(seen, received, empty)
        return counts

    def each_page(self, table: str, grid: list[dict[str, str]], handle: Callable[[Page], None]) -> None:
        """Give every page of a listing to `handle` as it arrives (page 1 first, for `total`;
        the rest concurrently), keeping none."""
        first = self.fetch_page(table, grid, 1)
        handle(first)
        count = max(1, math.ceil(first.total / self.page_size))
        if count == 1:
            return
        with ThreadPoolExecutor(max_workers=min(self.concurrency, count - 1)) as pool:
            pending = {pool.submit(self.fetch_page, table, grid, n) for n in range(2, count + 1)}
            while pending:  # each page is let go once handled (nothing else keeps its future)
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    handle(future.result())

    def list_all(self, table: str, grid: list[dict[str, str]], **query: str) -> list[Page]:
        """Every page of a listing: page 1 first (for `total`), the rest concurrently."""
        first = self.fetch_page(table, grid, 1, **query)
        count = max(1, math.ceil(first.total / self.page_size))
        if count == 1:
            return [first]
        numbers = range(2, count + 1)
        with ThreadPoolExecutor(max_workers=min(self.concurrency, count - 1)) as pool:
            rest = list(pool.map(lambda n: self.fetch_page(table, grid, n, **query), numbers))
        return [first, *rest]

    def fetch_page(self, table: str, grid: list[dict[str, str]], number: int, **query: str) -> Page:
        body = {
            "qtype": query.get("qtype", f"{table}.id"),
            "query": query.get("query", "0"),
            "oper": query.get("oper", ">"),
            "page": str(number),
            "rp": str(self.page_size),
            "sortname": f"{table}.id",
            "sortorder": "asc",
            "grid_param": json.dumps(grid),
        }
        url = f"{self.base}/{table}"
        try:
            response = call(
                "POST",
                url,
                session=self.session,
                timeout=self.timeout,
                retries=1,
                json=body,
                headers={"ixcsoft": "listar", "Content-Type": "application/json"},
                auth=self.auth,
                verify=self.verify,
            )
        except TransportError as exc:
            raise ErpReadError(f"IXCSoft inacessível ({table}, página {number}): {exc}") from exc
        return Page(number, *parse_listing(response, f"{table}, página {number}"))

    def _check_consistency(
        self, pages: Sequence[Page], received: int, empty: Sequence[int] | None = None
    ) -> None:
        """Raise `ErpReadError` unless the pages add up (see the module docstring); `empty`
        lists the numbers of pages that came without records when `pages` carry none."""
        smallest_total = min(page.total for page in pages)
        largest_total = max(page.total for page in pages)
        if largest_total - smallest_total > _allowance(largest_total):
            raise ErpReadError(
                f"IXCSoft anunciou totais de {smallest_total} a {largest_total} na mesma leitura: "
                "resposta inconsistente, ciclo descartado"
            )
        must_hold = math.ceil(smallest_total / self.page_size)
        for page in pages:
            if page.number <= must_hold and (not page.records if empty is None else page.number in empty):
                raise ErpReadError(
                    f"IXCSoft devolveu a página {page.number} vazia com total {smallest_total}: "
                    "leitura incompleta, ciclo descartado"
                )
        if received < smallest_total - _allowance(smallest_total):
            raise ErpReadError(
                f"IXCSoft anunciou {smallest_total} registros e entregou {received}: "
                "resposta inconsistente, ciclo descartado"
            )

    def _confirmed_online(self, candidates: Mapping[str, str]) -> set[str]:
        """Logins among `candidates` (login → id) that the ERP reports as `S` now."""
        ids = sorted({rid for rid in candidates.values() if rid and rid != "0"}, key=_numeric)
        online: set[str] = set()
        chunks = [ids[i : i + self.page_size] for i in range(0, len(ids), self.page_size)]
        if not chunks:
            return online
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(chunks))) as pool:
            for pages in pool.map(self._lookup_ids, chunks):
                for page in pages:
                    for record in page.records:
                        login = str(record.get("login", "")).strip()
                        if login in candidates and str(record.get("online", "")) == "S":
                            online.add(login)
        return online

    def read_contacts(self, client_ids: Sequence[str]) -> dict[str, ClientContact]:
        """The customers `client_ids` from `cliente` (one `IN` listing: callers batch them)."""
        if not client_ids:
            return {}
        query = {"qtype": "cliente.id", "query": ",".join(client_ids), "oper": "IN"}
        contacts = {}
        for page in self.list_all("cliente", [], **query):
            for record in page.records:
                name = str(record.get("razao") or record.get("fantasia") or "")
                phones = tuple(str(record[f]) for f in PHONE_FIELDS if str(record.get(f) or "").strip())
                contacts[str(record.get("id"))] = ClientContact(name, phones)
        return contacts

    def _lookup_ids(self, ids: list[str]) -> list[Page]:
        query = {"qtype": "radusuarios.id", "query": ",".join(ids), "oper": "IN"}
        return self.list_all("radusuarios", [], **query)


def parse_listing(response: requests.Response, where: str) -> tuple[int, list[dict[str, Any]]]:
    """`(total, registros)` of an IXC listing answer, or `ErpReadError` saying what is wrong."""
    if response.status_code in (401, 403):
        raise ErpReadError(
            f"IXCSoft recusou a autenticação (HTTP {response.status_code}) em {where}: "
            "confira IXC_USER e IXC_TOKEN"
        )
    if response.status_code != 200:
        raise ErpReadError(f"IXCSoft respondeu HTTP {response.status_code} em {where}")
    if response.content.lstrip()[:1] == b"<":
        text = response.content.decode("utf-8", "replace").lstrip()
        raise ErpReadError(f"IXCSoft devolveu HTML em vez de JSON em {where}: {_clean(text)}")
    try:
        data = decode_json(response)
    except ValueError as exc:
        raise ErpReadError(f"IXCSoft devolveu JSON inválido em {where}") from exc
    if not isinstance(data, dict):
        raise ErpReadError(f"IXCSoft devolveu uma resposta inesperada em {where}")
    if data.get("type") == "error":
        raise ErpReadError(f"IXCSoft devolveu erro em {where}: {_clean(str(data.get('message', '')))}")
    records = data.get("registros")
    if records is None and str(data.get("total", "")) == "0":
        records = []
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise ErpReadError(f"IXCSoft devolveu uma resposta sem 'registros' em {where}")
    try:
        total = int(str(data.get("total", "")).strip())
    except ValueError as exc:
        raise ErpReadError(f"IXCSoft devolveu 'total' inválido em {where}") from exc
    return total, records


def _allowance(total: int) -> int:
    """How far a read may drift from its `total` through ordinary churn between pages."""
    return max(CHURN_ABSOLUTE, math.ceil(total * CHURN_RATIO))


def _clean(text: str) -> str:
    plain = " ".join(_TAGS.sub(" ", text).split())
    return plain if len(plain) <= 160 else plain[:160] + "…"


def _numeric(value: str) -> tuple[int, str]:
    return (int(value), "") if value.isdigit() else (0, value)


KIND = ErpKind(
    name="direct",
    label="IXCSoft (acesso direto)",
    settings=("IXC_URL", "IXC_USER", "IXC_TOKEN", "IXC_VERIFY_TLS", "IXC_PAGE_SIZE", "IXC_CONCURRENCY"),
    read=read,
    setup="IXC_URL, IXC_USER e IXC_TOKEN (acesso direto ao IXCSoft)",
    enabled=lambda settings: bool(ixc_settings(settings).url),
    build=IxcReader,
    secrets=lambda settings: (ixc_settings(settings).token,),
)
