"""Decisions on incidents: approve (one notice per distinct phone) or deny, audited.

Idempotent by construction: `hsm_decisions.incident_id` is UNIQUE and the decision, its
recipients, the outbox rows and the flap-damping marks are written in ONE transaction
(`BEGIN IMMEDIATE`). A second approval -- double click, two operators, a retried request,
two processes at once -- finds the first decision inside its own transaction and writes
nothing, so there is one dispatch.

Flap damping: an approval blocks its key `OLT|PON|type` for `HSM_COOLDOWN_HOURS`
(`hsm_cooldowns`), and each phone that gets a notice is recorded (`hsm_phone_notices`): a
phone never gets more than one outage notice per 24 h, whatever the incident.

Notices left `incerto` by a crash (see `outage.storage.outbox`) are listed per decision by
`uncertain_notices` and go out again only through `resend_uncertain`, an operator's call --
through the WhatsApp Cloud API only once Meta has had `CONFIRMATION_WAIT` to settle them.

The rules are here; the rows they read and write are `outage.storage.hsm`'s and
`outage.storage.outbox`'s.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from outage.adapters.channels import hsm_provider, whatsapp_cloud
from outage.adapters.channels import registry as channels
from outage.adapters.channels.messages import br_number, br_time, plural
from outage.config import Settings
from outage.core.kinds import CUSTOMER_TEMPLATE
from outage.db import Connection, Record, transaction
from outage.hsm.delivery import HOLD_SECONDS
from outage.hsm.enrich import Customer
from outage.hsm.incidents import CONCENTRATOR, LOS, MIXED, POWER, UNKNOWN, Incident, key_of
from outage.hsm.phones import mask_phone
from outage.storage import hsm, incidents, outbox
from outage.storage.outbox import Alert, enqueue

log = logging.getLogger(__name__)

PHONE_WINDOW = 24 * 3600.0
APPROVE = "aprovar"
DENY = "negar"


def blocked_message(incident: Incident, until: float) -> str:
    """Why an approval is refused while the place is blocked, the way an operator says it."""
    where = " ".join(
        part for part in (incident.olt, f"PON {incident.slot_pon}" if incident.slot_pon else "") if part
    )
    return f"Bloqueado até {br_time(until)}: {where} já teve um disparo aprovado há pouco (anti-oscilação)."


TYPE_WORDS = {
    LOS: "rompimento de fibra",
    POWER: "falta de energia",
    CONCENTRATOR: "concentrador/transporte",
    MIXED: "causas mistas",
    UNKNOWN: "causa indeterminada",
}


def block_words(key: str) -> str:
    """A cooldown key (`OLT|PON|type`) the way an operator reads it: "OLT-SUL PON 0/1/1
    (rompimento de fibra)"."""
    olt, _, rest = key.partition("|")
    pons, _, tipo = rest.partition("|")
    where = " ".join(
        part
        for part in (
            olt,
            f"PON {pons}" if pons and "," not in pons else "",
            f"PONs {pons.replace(',', ', ')}" if "," in pons else "",
        )
        if part
    )
    return f"{where or 'local desconhecido'} ({TYPE_WORDS.get(tipo, tipo.lower())})"


class DispatchRefused(Exception):
    """The request cannot be honoured as asked (message in Portuguese, HTTP status)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Outcome:
    """The answer of `POST /api/acao` (plus the outbox rows to deliver now)."""

    success: bool
    msg: str
    enviados: int = 0
    falhas: int = 0
    incertos: int = 0
    na_fila: int = 0
    sem_telefone: int = 0
    ignorados: int = 0
    repetido: bool = False
    decision_id: int | None = None
    row_ids: list[int] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "success": self.success,
            "msg": self.msg,
            "enviados": self.enviados,
            "falhas": self.falhas,
            "incertos": self.incertos,
            "na_fila": self.na_fila,
            "sem_telefone": self.sem_telefone,
            "ignorados": self.ignorados,
            "repetido": self.repetido,
        }


@dataclass(frozen=True)
class Template:
    """What an approval sends: `name` to every customer, but those of a mixed incident's parts,
    who get their part's template (`by_login`)."""

    channel: str  # outbox channel: one that reaches customers (`registry.customer_channel`)
    name: str  # template id (the HSM provider's) or name (Meta Cloud API)
    tipo: str  # LOS | POWER | CONCENTRADOR | MISTO
    by_login: dict[str, str] = field(default_factory=dict)
    tipos: tuple[str, ...] = ()  # every type it sends (its parts' for MISTO)

    def for_customer(self, customer: Customer) -> str:
        return self.by_login.get(customer.login, self.name)


def choose_template(settings: Settings, incident: Incident, choice: str | None) -> Template:
    """The template for the incident's type, or for the operator's `choice` (LOS / POWER /
    CONCENTRADOR or a configured template id or name), required when the cause is unknown.

    A concentrator failure (ONUs online) never gets a template about power or fiber: without
    the concentrator's template configured it cannot be approved. A mixed incident sends each
    part's customers the template of their part's cause; the `choice` stands for the parts
    whose cause is unknown.
    """
    channel, names = _templates(settings)
    picked = _picked(names, choice) if choice else None
    if incident.tipo == MIXED and incident.partes:
        return _mixed(channel, names, incident, picked)
    tipo = incident.tipo if incident.tipo not in (UNKNOWN, MIXED) else picked
    if incident.tipo == CONCENTRATOR and picked not in (None, CONCENTRATOR):
        raise DispatchRefused(
            "queda do concentrador/transporte: as ONUs seguem online, então não use o modelo de energia nem o de fibra",
            400,
        )
    if tipo is None:
        raise DispatchRefused("causa indeterminada: escolha o modelo (template LOS ou POWER) ou negue", 400)
    return Template(channel, _configured(names, tipo), tipo, tipos=(tipo,))


def _templates(settings: Settings) -> tuple[str, dict[str, str]]:
    kind = channels.customer_channel(settings)
    if kind is None or kind.customers is None:
        raise DispatchRefused(
            f"Nenhum provedor de WhatsApp configurado: defina {channels.customer_setup()}.", 503
        )
    return kind.name, kind.customers.templates(settings)


def _picked(names: dict[str, str], choice: str) -> str:
    wanted = choice.strip()
    picked = wanted.upper() if wanted.upper() in names else None
    picked = picked or next((t for t, name in names.items() if name and name == wanted), None)
    if picked is None:
        raise DispatchRefused(f"modelo inválido: {choice!r}; use LOS, POWER ou CONCENTRADOR", 400)
    return picked


def _configured(names: dict[str, str], tipo: str) -> str:
    if not names.get(tipo):
        setting = " ou ".join(
            k.customers.template_settings[tipo] for k in channels.customer_kinds() if k.customers
        )
        raise DispatchRefused(
            f"nenhum modelo configurado para {TYPE_WORDS.get(tipo, tipo)}: defina {setting} (ou negue o disparo)",
            400,
        )
    return names[tipo]


def _mixed(channel: str, names: dict[str, str], incident: Incident, picked: str | None) -> Template:
    """Each part's template by its cause (the operator's `picked` for parts of unknown cause)."""
    by_login: dict[str, str] = {}
    tipos: list[str] = []
    for part in incident.partes:
        tipo = part["tipo"] if part["tipo"] not in (UNKNOWN, MIXED) else picked
        if tipo is None:
            raise DispatchRefused(
                f"a parte {part['local']} tem causa indeterminada: escolha o modelo para ela ou negue", 400
            )
        if part["tipo"] == CONCENTRATOR and tipo != CONCENTRATOR:
            raise DispatchRefused(
                "a parte do concentrador/transporte não pode receber o modelo de energia nem o de fibra", 400
            )
        name = _configured(names, tipo)
        by_login.update(dict.fromkeys(part["logins"], name))
        tipos.append(tipo)
    ordered = tuple(dict.fromkeys(tipos))
    return Template(channel, by_login[next(iter(by_login))] if by_login else "", MIXED, by_login, ordered)


def cooldown_keys(incident: Incident, template: Template) -> list[str]:
    """The keys an approval blocks: its own, and each type it sends when they differ."""
    chosen = [key_of(incident.olt, incident.slot_pon, tipo) for tipo in template.tipos or (template.tipo,)]
    return list(dict.fromkeys([incident.key, *chosen]))


def existing_decision(conn: Connection, incident_id: str) -> Outcome | None:
    """The answer for an incident already decided, itself or as a twin (a repeated request
    changes nothing)."""
    row = hsm.decision_about(conn, incident_id)
    if row is None:
        return None
    counts = outbox.status_counts(conn, hsm.notice_rows(conn, row["id"]))
    queued = counts[outbox.PENDING] + counts[outbox.SENDING]
    verb = "aprovado" if row["acao"] == APPROVE else "negado"
    msg = f"Incidente já {verb} por {row['usuario']} em {br_time(row['decidido_em'])}: nenhum cliente recebe duas vezes."
    if row["acao"] == APPROVE:
        msg += f" {where_notices_stand(counts)}"
    return Outcome(
        success=True,
        msg=msg,
        enviados=counts[outbox.SENT],
        falhas=counts[outbox.FAILED],
        incertos=counts[outbox.UNCERTAIN],
        na_fila=queued,
        sem_telefone=row["sem_telefone"],
        ignorados=row["ignorados"],
        repetido=True,
        decision_id=row["id"],
        row_ids=hsm.notice_rows(conn, row["id"]) if queued else [],
    )


def where_notices_stand(counts: dict[str, int]) -> str:
    """ "120 enviados, 150 na fila, 30 incertos (podem ter saído: reenviar só esses?)"."""
    queued = counts[outbox.PENDING] + counts[outbox.SENDING]
    parts = [plural(counts[outbox.SENT], "aviso enviado", "avisos enviados")]
    if queued:
        parts.append(f"{br_number(queued)} na fila")
    if counts[outbox.FAILED]:
        parts.append(plural(counts[outbox.FAILED], "falhou", "falharam"))
    if counts[outbox.UNCERTAIN]:
        parts.append(
            plural(counts[outbox.UNCERTAIN], "incerto", "incertos")
            + " (podem ter saído: reenvie só esses, se quiser)"
        )
    return ", ".join(parts) + "."


def outbox_counts(conn: Connection, decision_id: int) -> tuple[int, int]:
    """(handed to the outbox/provider and neither failed nor uncertain, failed for good) of a decision."""
    counts = outbox.status_counts(conn, hsm.notice_rows(conn, decision_id))
    failed, uncertain = counts[outbox.FAILED], counts[outbox.UNCERTAIN]
    return sum(counts.values()) - failed - uncertain, failed


NORMALIZED_PREFIX = "hsm-normalizado:"  # outbox `event_id` of a decision's normalization notices


def normalization_rows(conn: Connection, decision_id: int) -> list[int]:
    """The outbox rows of a decision's normalization notices (queued when its incident ended)."""
    row = hsm.decision(conn, decision_id)
    if row is None:
        return []
    return outbox.ids_of_event(conn, NORMALIZED_PREFIX + row["incident_id"])


def deny(conn: Connection, incident: Incident, user: str, comment: str, now: float) -> Outcome:
    with transaction(conn):
        repeated = existing_decision(conn, incident.id)
        if repeated is not None:
            return repeated
        cursor = _insert_decision(conn, incident, DENY, user, comment, now, None, [])
    log.info("Disparo negado para o incidente %s por %s.", incident.id, user)
    return Outcome(True, "Disparo negado e registrado.", decision_id=cursor)


def approve(
    conn: Connection,
    settings: Settings,
    incident: Incident,
    customers: Sequence[Customer],
    template: Template,
    user: str,
    comment: str,
    now: float,
) -> Outcome:
    """Record the approval and one outbox row per distinct phone not noticed in 24 h.

    Returns the repeated decision's answer when the incident was already decided; raises
    `DispatchRefused` (409) when its key is in cooldown.
    """
    keys = cooldown_keys(incident, template)
    with transaction(conn):
        repeated = existing_decision(conn, incident.id)
        if repeated is not None:
            return repeated
        until = hsm.blocked_until(conn, keys, now)
        if until is not None:
            raise DispatchRefused(blocked_message(incident, until), 409)
        decision_id = _insert_decision(conn, incident, APPROVE, user, comment, now, template, customers)
        plan = _plan(conn, customers, now)
        row_ids = _enqueue(conn, incident, template, plan, now)
        _record_recipients(conn, decision_id, plan, row_ids)
        _mark_flap(conn, decision_id, keys, [p.phone for p in plan if p.result == QUEUED], settings, now)
        counts = _counts(plan)
        hsm.set_counts(
            conn, decision_id, counts[QUEUED], counts[NO_PHONE], counts[SKIPPED_24H] + counts[DUPLICATE]
        )
    skipped = counts[SKIPPED_24H] + counts[DUPLICATE]
    log.info(
        "Disparo aprovado para o incidente %s por %s: %s na fila, %s sem telefone, %s.",
        incident.id,
        user,
        plural(counts[QUEUED], "aviso", "avisos"),
        plural(counts[NO_PHONE], "cliente", "clientes"),
        plural(skipped, "ignorado", "ignorados"),
    )
    return Outcome(
        success=True,
        msg=f"Disparo aprovado: {plural(counts[QUEUED], 'aviso enviado', 'avisos enviados')} ao provedor.",
        enviados=counts[QUEUED],
        sem_telefone=counts[NO_PHONE],
        ignorados=counts[SKIPPED_24H] + counts[DUPLICATE],
        decision_id=decision_id,
        row_ids=[row_id for row_id in row_ids if row_id is not None],
    )


QUEUED = "enfileirado"
NO_PHONE = "sem_telefone"
SKIPPED_24H = "ignorado_24h"
DUPLICATE = "duplicado"


@dataclass
class _Planned:
    customer: Customer
    phone: str
    result: str


def _plan(conn: Connection, customers: Sequence[Customer], now: float) -> list[_Planned]:
    phones = sorted({c.contact for c in customers if c.contact})
    recent = hsm.recently_noticed(conn, phones, now - PHONE_WINDOW)
    seen: set[str] = set()
    plan = []
    for customer in customers:
        phone = customer.contact or ""
        if not phone:
            result = NO_PHONE
        elif phone in seen:
            result = DUPLICATE
        elif phone in recent:
            result = SKIPPED_24H
        else:
            result = QUEUED
        seen.add(phone)
        plan.append(_Planned(customer, phone, result))
    return plan


def _enqueue(
    conn: Connection, incident: Incident, template: Template, plan: list[_Planned], now: float
) -> list[int | None]:
    """One outbox row per queued phone (due after `HOLD_SECONDS`: the fast path goes first)."""
    queued = [p for p in plan if p.result == QUEUED]
    alerts = [
        Alert(
            CUSTOMER_TEMPLATE,
            notice_payload(p.phone, p.customer.client_name, template.for_customer(p.customer)),
            f"hsm:{incident.id}",
        )
        for p in queued
    ]
    ids = enqueue(conn, alerts, [template.channel], now, due_at=now + HOLD_SECONDS)
    by_phone = dict(zip([p.phone for p in queued], ids, strict=True))
    return [by_phone.get(p.phone) if p.result == QUEUED else None for p in plan]


def notice_payload(phone: str, name: str, template: str) -> dict[str, Any]:
    """The outbox payload of a customer notice (`outage.core.kinds.CUSTOMER_TEMPLATE`).

    The Meta Cloud API templates take one body parameter, {{1}} = the customer's first name.
    """
    first_name = (name or "").strip().split(" ")[0].title() or "Cliente"
    return {"to": phone, "nome": name or "Cliente", "template": template, "params": [first_name]}


def _insert_decision(
    conn: Connection,
    incident: Incident,
    action: str,
    user: str,
    comment: str,
    now: float,
    template: Template | None,
    customers: Sequence[Customer],
) -> int:
    return hsm.insert_decision(
        conn,
        incident_id=incident.id,
        fonte=incident.fonte,
        action=action,
        user=user,
        decided_at=now,
        comment=comment,
        key=incident.key,
        tipo=template.tipo if template else incident.tipo,
        template=template.name if template else "",
        channel=template.channel if template else "",
        snapshot={**incident.as_json(), "clientes": len(customers)},
    )


def _record_recipients(
    conn: Connection, decision_id: int, plan: list[_Planned], row_ids: list[int | None]
) -> None:
    hsm.add_recipients(
        conn,
        decision_id,
        [
            hsm.Recipient(p.customer.client_id, p.customer.client_name, p.phone, p.result, row_id)
            for p, row_id in zip(plan, row_ids, strict=True)
        ],
    )
    for p in plan:
        if p.result == SKIPPED_24H:
            log.info("Telefone %s já avisado nas últimas 24 h: ignorado.", mask_phone(p.phone))


def _mark_flap(
    conn: Connection,
    decision_id: int,
    keys: list[str],
    phones: list[str],
    settings: Settings,
    now: float,
) -> None:
    hsm.block(conn, keys, now + settings.hsm_cooldown_hours * 3600.0, decision_id)
    hsm.mark_noticed(conn, phones, now, decision_id)


def _counts(plan: list[_Planned]) -> dict[str, int]:
    counts = dict.fromkeys((QUEUED, NO_PHONE, SKIPPED_24H, DUPLICATE), 0)
    for p in plan:
        counts[p.result] += 1
    return counts


# --- normalization notices ------------------------------------------------------------------


def settle_normalized(conn: Connection, settings: Settings, open_olt_ids: set[str] | None, now: float) -> int:
    """Mark approved incidents that resolved; with `HSM_TEMPLATE_NORMALIZED`, queue the
    normalization notice to the phones that got the outage notice. Returns how many
    incidents were settled. `open_olt_ids` None: the OLT system could not be read (its
    incidents wait). Compare-and-set on `normalizado_em IS NULL`: each is settled once."""
    settled = 0
    template = hsm_provider.settings_of(settings).template_normalized
    for row in hsm.approved_unsettled(conn):
        if not _resolved(conn, row["incident_id"], row["fonte"], open_olt_ids):
            continue
        with transaction(conn):
            changed = hsm.mark_normalized(conn, row["id"], now)
            if changed and template:
                _queue_normalized(conn, row, template, now)
        settled += changed
    return settled


def settle_after_cycle(conn: Connection, settings: Settings, now: float) -> int:
    """`settle_normalized` for the background poller, so normalization notices go out
    after each cycle even when nobody has the console open. The incidents are listed (the
    OLT system read) only when an approved incident awaits its normalization."""
    from outage.hsm.incidents import open_incidents

    if not hsm.awaiting_normalization(conn):
        return 0
    listing = open_incidents(conn, settings)
    open_olt = {i.id for i in listing.incidents if i.fonte == "olt"} if listing.olt_read else None
    return settle_normalized(conn, settings, open_olt, now)


def _resolved(conn: Connection, incident_id: str, fonte: str, open_olt_ids: set[str] | None) -> bool:
    if fonte == "olt":
        return open_olt_ids is not None and incident_id not in open_olt_ids
    event = incidents.event_row(conn, incident_id.removeprefix("ev-"))
    return event is None or event["status"] == "resolvido"


def _queue_normalized(conn: Connection, decision: Record, template: str, now: float) -> None:
    recipients = hsm.noticed(conn, decision["id"])
    outcomes = outbox.outcomes_of(conn, list(recipients))
    alerts = [
        Alert(
            CUSTOMER_TEMPLATE,
            notice_payload(r.telefone, r.nome, template),
            NORMALIZED_PREFIX + decision["incident_id"],
        )
        for row_id, r in recipients.items()
        if outcomes.get(row_id, {}).get("envio") != outbox.FAILED
    ]
    enqueue(conn, alerts, [decision["canal"]], now)
    hsm.set_normalization_notices(conn, decision["id"], len(alerts))


# --- notices that may not have gone out ------------------------------------------------------


CONFIRMATION_WAIT = 600.0  # seconds Meta's statuses get to settle a notice after it became uncertain


def awaiting_confirmation(conn: Connection, settings: Settings, rows: Sequence[int], now: float) -> set[int]:
    """The uncertain notices among `rows` that Meta may still confirm: sent through the
    WhatsApp Cloud API with its status webhook configured, uncertain for less than
    `CONFIRMATION_WAIT`. Meta retries a status until we answer it, so a notice it had is
    settled within minutes of a restart (`outbox.settle_uncertain`); only those it never
    confirms are offered for a resend. `disparo_hsm`'s HSM provider tells nothing after its answer:
    its uncertain notices are offered at once."""
    if not whatsapp_cloud.settings_of(settings).app_secret:
        return set()
    return outbox.awaiting_confirmation(conn, rows, now - CONFIRMATION_WAIT)


def uncertain_notices(conn: Connection, settings: Settings, now: float) -> list[dict[str, Any]]:
    """Per decision with uncertain notices (outage or normalization notices), newest first:
    `decisao_id`, `incidente`, `snapshot` (the incident as decided), `incertos` (how many) and
    `aguardando_confirmacao` (how many of them Meta may still confirm; not offered yet)."""
    uncertain = outbox.uncertain_ids(conn)
    awaiting = awaiting_confirmation(conn, settings, uncertain, now)
    counts: dict[int, list[int]] = {}
    pairs = hsm.decisions_of_notices(conn, uncertain) + _normalization_decisions(conn, uncertain)
    for decision_id, outbox_id in pairs:
        counts.setdefault(decision_id, []).append(outbox_id)
    found = []
    for decision_id, rows in counts.items():
        row = hsm.decision(conn, decision_id)
        assert row is not None  # a decision is never deleted
        found.append(
            {
                "decisao_id": decision_id,
                "incidente": row["incident_id"],
                "snapshot": json.loads(row["snapshot"]),
                "decidido_em": row["decidido_em"],
                "incertos": len(rows),
                "aguardando_confirmacao": len(awaiting.intersection(rows)),
            }
        )
    return sorted(found, key=lambda item: -float(item["decidido_em"]))


def _normalization_decisions(conn: Connection, row_ids: Sequence[int]) -> list[tuple[int, int]]:
    """(decision id, outbox row) for each of `row_ids` that is a decision's normalization notice."""
    incidents = {
        row_id: event_id.removeprefix(NORMALIZED_PREFIX)
        for row_id, event_id in outbox.event_ids_of(conn, row_ids).items()
        if event_id and event_id.startswith(NORMALIZED_PREFIX)
    }
    decisions = hsm.decisions_by_incident(conn, sorted(set(incidents.values())))
    return [(decisions[incident], row_id) for row_id, incident in incidents.items() if incident in decisions]


@dataclass(frozen=True)
class Resend:
    """An operator's resend: the rows queued again, and how many uncertain notices were left
    out because Meta may still confirm them."""

    rows: list[int]
    awaiting: int


def resend_uncertain(
    conn: Connection, settings: Settings, decision_id: int | None, user: str, now: float
) -> Resend:
    """Queue again the uncertain notices of one decision (None: every uncertain notice), at an
    operator's request, but not those Meta may still confirm (`awaiting_confirmation`); the rows
    are due after `HOLD_SECONDS`, for the fast path. Each may reach a customer who already got it."""
    rows = outbox.uncertain_ids(conn)
    if decision_id is not None:
        mine = hsm.notice_rows(conn, decision_id) + normalization_rows(conn, decision_id)
        rows = sorted(set(rows) & set(mine))
    awaiting = awaiting_confirmation(conn, settings, rows, now)
    requeued = outbox.resend_uncertain(conn, [r for r in rows if r not in awaiting], now + HOLD_SECONDS)
    if requeued:
        log.warning(
            "%s a pedido de %s.",
            plural(len(requeued), "aviso incerto reenviado", "avisos incertos reenviados"),
            user,
        )
    return Resend(requeued, len(awaiting))
