"""The customers of an incident, with name and phone, looked up in parallel.

A bounded pool (`HSM_ENRICH_CONCURRENCY`) runs the lookups; each customer (or each batch
of ERP ids) is looked up once; every HTTP call has its timeout and the whole enrichment a
deadline. A failed lookup marks the customers it concerns (`erro`, no contact); it never
fails the page.

- OLT system incidents: the alert's `affected_devices`, then `GET /api/v2/client/<id>`
  per distinct client (the system has no batch route).
- Monitor incidents: the event's logins (`incidents.event_subscribers`) -> `id_cliente` ->
  ERP `cliente` read in batches with `oper: IN` (direct mode). In middleware mode there is
  no `cliente` access: each customer says so.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, replace
from typing import Any, TypeVar

from outage.adapters.erp import build_reader
from outage.adapters.erp.base import ClientContact
from outage.config import Settings
from outage.db import Connection
from outage.hsm.incidents import Incident, alert_detail, event_id_of, olt_client
from outage.hsm.phones import first_valid_phone, normalize_phone
from outage.storage import hsm, incidents

log = logging.getLogger(__name__)

ERP_BATCH = 100  # ids per `cliente` request (`oper: IN`)
DEADLINE = 25.0  # seconds for the whole enrichment; what is late is marked, not awaited
T = TypeVar("T")


@dataclass
class Customer:
    """One customer row of `/api/detalhes` (`disparo_hsm`'s fields, plus `erro`)."""

    client_id: str
    sn_onu: str
    client_name: str
    status: str
    slot_pon: str
    contact: str | None = None
    ultimo_aviso: float | None = None
    erro: str | None = None
    login: str = ""  # the ERP login, for the monitor's customers
    fonte: str = "monitor"  # which source listed it: "monitor" | "olt"

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def customers_of(conn: Connection, settings: Settings, incident: Incident) -> list[Customer]:
    """The incident's customers (`members_of`), enriched with name and phone, with the last
    notice each phone got."""
    customers = members_of(conn, settings, incident)
    olt_side = [c for c in customers if c.fonte == "olt"]
    monitor_side = [c for c in customers if c.fonte == "monitor"]
    if olt_side:
        _enrich_from_olt_system(settings, olt_side)
    if monitor_side:
        _enrich_from_erp(settings, monitor_side)
    _fill_last_notice(conn, customers)
    return customers


def members_of(conn: Connection, settings: Settings, incident: Incident) -> list[Customer]:
    """Who the incident holds, before any lookup: an OLT alert's affected ONUs, then its twin
    events' logins whose ONU is not among them — the one count of the row, the detail and the
    approval."""
    if incident.fonte != "olt":
        return monitor_members(conn, incident)
    customers = olt_members(settings, incident)
    for twin in incident.gemeos:
        customers = union(customers, monitor_members(conn, replace(incident, id=twin)))
    return customers


def member_key(customer: Customer) -> str:
    """What makes two rows the same customer: the ONU's serial, else the ERP login or client."""
    return (
        _serial(customer)
        or f"{customer.fonte}:{customer.login or customer.client_id or customer.client_name}"
    )


def union(first: list[Customer], second: list[Customer]) -> list[Customer]:
    """`first`, then the customers of `second` whose ONU is not in it (by serial; a customer
    without one is kept: the dispatch sends once per distinct phone anyway)."""
    seen = {serial for customer in first if (serial := _serial(customer))}
    return first + [c for c in second if not (serial := _serial(c)) or serial not in seen]


def _serial(customer: Customer) -> str:
    return "".join(ch for ch in customer.sn_onu.upper() if ch.isalnum())


# --- OLT management system ----------------------------------------------------------------


def olt_members(settings: Settings, incident: Incident) -> list[Customer]:
    alert = alert_detail(settings, incident.id)
    return [_device_customer(device, incident) for device in alert.get("affected_devices") or []]


def _enrich_from_olt_system(settings: Settings, customers: list[Customer]) -> None:
    client = olt_client(settings)
    ids = sorted({c.client_id for c in customers if c.client_id})
    found, failed = run_bounded(ids, client.client, settings.hsm_enrich_concurrency)
    for customer in customers:
        if customer.client_id in failed:
            customer.erro = f"falha ao consultar o cliente: {failed[customer.client_id]}"
            continue
        record = found.get(customer.client_id) or {}
        customer.client_name = str(record.get("name") or customer.client_name)
        customer.contact = normalize_phone(record.get("contact") or record.get("phone_number"))
        if not record:
            customer.erro = "cliente não encontrado no sistema de gerência de OLT"


def _device_customer(device: Any, incident: Incident) -> Customer:
    onu = (device.get("onu_device") if isinstance(device, dict) else None) or {}
    raw_id = onu.get("client_id")
    raw_id = (device or {}).get("client_id") if raw_id in (None, "") else raw_id
    client_id = "" if raw_id in (None, "") else str(raw_id)
    return Customer(
        client_id=client_id,
        sn_onu=str(onu.get("sn_onu") or ""),
        client_name=str(onu.get("client_name") or ""),
        status=str(onu.get("status") or ""),
        slot_pon=incident.slot_pon,
        fonte="olt",
    )


# --- the monitor's events and the ERP -----------------------------------------------------


def monitor_members(conn: Connection, incident: Incident) -> list[Customer]:
    event_id = event_id_of(incident)
    back = set(incidents.reconnections(conn, event_id))
    customers = []
    for sub, _dropped_at in incidents.event_subscribers(conn, event_id):
        client_id = sub.id_cliente if sub.id_cliente not in ("", "0") else ""
        customers.append(
            Customer(
                client_id=client_id,
                sn_onu=sub.onu_mac,
                client_name=sub.login,
                status="online" if sub.login in back else "offline",
                slot_pon=sub.interface_transmissao or incident.slot_pon,
                erro=None if client_id else "login sem cliente vinculado no ERP",
                login=sub.login,
            )
        )
    return customers


def _enrich_from_erp(settings: Settings, customers: list[Customer]) -> None:
    wanted = [c for c in customers if c.client_id]
    if not wanted:
        return
    reader = build_reader(settings)
    if reader.contacts_unavailable:
        for customer in wanted:
            customer.erro = f"sem contato: {reader.contacts_unavailable}"
        return
    ids = sorted({c.client_id for c in wanted})
    batches = [tuple(ids[i : i + ERP_BATCH]) for i in range(0, len(ids), ERP_BATCH)]
    found, failed = run_bounded(batches, reader.read_contacts, settings.hsm_enrich_concurrency)
    contacts: dict[str, ClientContact] = {}
    errors: dict[str, str] = {}
    for result in found.values():
        contacts.update(result)
    for batch, reason in failed.items():
        errors.update({client_id: reason for client_id in batch})
    for customer in wanted:
        contact = contacts.get(customer.client_id)
        if customer.client_id in errors:
            customer.erro = f"falha ao consultar o ERP: {errors[customer.client_id]}"
        elif contact is None:
            customer.erro = "cliente não encontrado no ERP"
        else:
            customer.client_name = contact.name or customer.client_name
            customer.contact = first_valid_phone(contact.phones)


# --- shared ----------------------------------------------------------------------------


def run_bounded(
    items: Iterable[T], lookup: Callable[[T], Any], concurrency: int, deadline: float = DEADLINE
) -> tuple[dict[T, Any], dict[T, str]]:
    """Run `lookup` once per item on a pool of at most `concurrency` threads.

    Returns (results by item, error message by item); an item still running after
    `deadline` seconds counts as failed ("tempo esgotado") and is not awaited.
    """
    todo = list(dict.fromkeys(items))
    if not todo:
        return {}, {}
    pool = ThreadPoolExecutor(max_workers=min(concurrency, len(todo)), thread_name_prefix="hsm-enrich")
    futures = {pool.submit(lookup, item): item for item in todo}
    done, late = wait(futures, timeout=deadline)
    pool.shutdown(wait=False, cancel_futures=True)
    results: dict[T, Any] = {}
    errors: dict[T, str] = {futures[f]: "tempo esgotado" for f in late}
    for future in done:
        try:
            results[futures[future]] = future.result()
        except (
            Exception
        ) as exc:  # one lookup's failure (ErpReadError, OltSystemError...) marks its customers only
            errors[futures[future]] = str(exc) or type(exc).__name__
    if errors:
        log.warning("%d de %d consultas de clientes falharam.", len(errors), len(todo))
    return results, errors


def _fill_last_notice(conn: Connection, customers: list[Customer]) -> None:
    last = hsm.last_notices(conn, sorted({c.contact for c in customers if c.contact}))
    for customer in customers:
        if customer.contact:
            customer.ultimo_aviso = last.get(customer.contact)
