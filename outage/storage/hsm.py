"""HSM decisions and what they leave behind (`hsm_decisions`, `hsm_recipients`,
`hsm_cooldowns`, `hsm_phone_notices`): every SQL statement on them lives here.

The rules -- who gets a notice, how long a place stays blocked, when an approved incident is
settled -- live in `outage.hsm.dispatch`; these functions only read and write what it decides,
inside the caller's transaction unless they say otherwise.

A decision's row is read as it is stored (`Record`, columns in Portuguese, `snapshot`
as JSON text). `hsm_decisions.incident_id` is UNIQUE: an incident is decided once.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from outage.db import Connection, Record, json_items, rows_in

# --- decisions ------------------------------------------------------------------------------


def insert_decision(
    conn: Connection,
    *,
    incident_id: str,
    fonte: str,
    action: str,
    user: str,
    decided_at: float,
    comment: str,
    key: str,
    tipo: str,
    template: str,
    channel: str,
    snapshot: dict[str, Any],
) -> int:
    """Write one decision; returns its id (the UNIQUE incident id refuses a second one)."""
    cursor = conn.execute(
        "INSERT INTO hsm_decisions (incident_id, fonte, acao, usuario, decidido_em, comentario, chave, tipo,"
        " template, canal, snapshot) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (
            incident_id,
            fonte,
            action,
            user,
            decided_at,
            comment,
            key,
            tipo,
            template,
            channel,
            json.dumps(snapshot, ensure_ascii=False),
        ),
    )
    return int(cursor.fetchone()[0])


def set_counts(conn: Connection, decision_id: int, queued: int, no_phone: int, skipped: int) -> None:
    """Store how an approval's customers came out: notices queued, no phone, skipped."""
    conn.execute(
        "UPDATE hsm_decisions SET enfileirados = ?, sem_telefone = ?, ignorados = ? WHERE id = ?",
        (queued, no_phone, skipped, decision_id),
    )


def decision(conn: Connection, decision_id: int) -> Record | None:
    """One decision's row (None when there is no such decision)."""
    row: Record | None = conn.execute("SELECT * FROM hsm_decisions WHERE id = ?", (decision_id,)).fetchone()
    return row


def decision_about(conn: Connection, incident_id: str) -> Record | None:
    """The decision on `incident_id`, its own or one on an OLT alert it was a twin of (the
    oldest, should there be two); None when it is undecided."""
    twins = json_items(conn, "snapshot", "gemeos", "t")
    row: Record | None = conn.execute(
        "SELECT id, acao, usuario, decidido_em, sem_telefone, ignorados FROM hsm_decisions WHERE incident_id = ?"  # noqa: S608
        f" OR EXISTS (SELECT 1 FROM {twins} WHERE t.value = ?)"
        " ORDER BY id LIMIT 1",
        (incident_id, incident_id),
    ).fetchone()
    return row


def decided_ids(conn: Connection, incident_ids: Sequence[str]) -> set[str]:
    """The ids decided already: their own decision, or one on the OLT alert they were twins of."""
    twins = json_items(conn, "d.snapshot", "gemeos", "t")
    query = (
        "SELECT incident_id FROM hsm_decisions WHERE incident_id IN ({marks})"  # noqa: S608
        f" UNION SELECT t.value FROM hsm_decisions d, {twins}"
        " WHERE t.value IN ({marks})"
    )
    return {row[0] for row in rows_in(conn, query, incident_ids)}


def decisions_by_incident(conn: Connection, incident_ids: Sequence[str]) -> dict[str, int]:
    """The decision id of each of `incident_ids` that has one (its own, not a twin's)."""
    query = "SELECT incident_id, id FROM hsm_decisions WHERE incident_id IN ({marks})"
    return {str(row[0]): int(row[1]) for row in rows_in(conn, query, incident_ids)}


def latest_decisions(conn: Connection, limit: int) -> list[Record]:
    """The newest `limit` decisions, each with `proximo`: when its key's block ends (None
    when the key was never blocked)."""
    return conn.execute(
        "SELECT d.*, c.ate AS proximo FROM hsm_decisions d LEFT JOIN hsm_cooldowns c ON c.chave = d.chave"
        " ORDER BY d.decidido_em DESC, d.id DESC LIMIT ?",
        (limit,),
    ).fetchall()


def approved_unsettled(conn: Connection) -> list[Record]:
    """The approvals whose incident has not been seen resolved yet (`id`, `incident_id`,
    `fonte`, `canal`)."""
    return conn.execute(
        "SELECT id, incident_id, fonte, canal FROM hsm_decisions WHERE acao = 'aprovar' AND normalizado_em IS NULL"
    ).fetchall()


def awaiting_normalization(conn: Connection) -> bool:
    """Whether an approved incident has not been seen resolved yet."""
    row = conn.execute(
        "SELECT 1 FROM hsm_decisions WHERE acao = 'aprovar' AND normalizado_em IS NULL LIMIT 1"
    ).fetchone()
    return row is not None


def mark_normalized(conn: Connection, decision_id: int, now: float) -> bool:
    """Record that a decision's incident resolved; False when it was recorded already
    (compare-and-set on `normalizado_em IS NULL`)."""
    return (
        conn.execute(
            "UPDATE hsm_decisions SET normalizado_em = ? WHERE id = ? AND normalizado_em IS NULL",
            (now, decision_id),
        ).rowcount
        == 1
    )


def set_normalization_notices(conn: Connection, decision_id: int, count: int) -> None:
    """Store how many normalization notices a decision queued."""
    conn.execute("UPDATE hsm_decisions SET aviso_normalizacao = ? WHERE id = ?", (count, decision_id))


# --- recipients -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    """One customer of an approval: the phone it used and what became of it (`resultado`),
    with the outbox row of its notice when one was queued."""

    client_id: str
    nome: str
    telefone: str
    resultado: str
    outbox_id: int | None


def add_recipients(conn: Connection, decision_id: int, recipients: Sequence[Recipient]) -> None:
    """Write an approval's customers, in order."""
    conn.executemany(
        "INSERT INTO hsm_recipients (decision_id, client_id, nome, telefone, resultado, outbox_id)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [(decision_id, r.client_id, r.nome, r.telefone, r.resultado, r.outbox_id) for r in recipients],
    )


def recipients_of(conn: Connection, decision_id: int) -> list[Recipient]:
    """A decision's customers, in the order they were written."""
    rows = conn.execute(
        "SELECT client_id, nome, telefone, resultado, outbox_id FROM hsm_recipients WHERE decision_id = ? ORDER BY id",
        (decision_id,),
    )
    return [_recipient(r) for r in rows]


def noticed(conn: Connection, decision_id: int) -> dict[int, Recipient]:
    """A decision's customers that got a notice, by the outbox row of their notice, in order."""
    rows = conn.execute(
        "SELECT client_id, nome, telefone, resultado, outbox_id FROM hsm_recipients WHERE decision_id = ?"
        " AND outbox_id IS NOT NULL ORDER BY id",
        (decision_id,),
    )
    return {int(r["outbox_id"]): _recipient(r) for r in rows}


def _recipient(r: Record) -> Recipient:
    return Recipient(r["client_id"], r["nome"], r["telefone"], r["resultado"], r["outbox_id"])


def notice_rows(conn: Connection, decision_id: int) -> list[int]:
    """The outbox rows of a decision's notices (one per phone that got one)."""
    rows = conn.execute(
        "SELECT outbox_id FROM hsm_recipients WHERE decision_id = ? AND outbox_id IS NOT NULL ORDER BY id",
        (decision_id,),
    )
    return [int(row[0]) for row in rows]


def result_counts(conn: Connection, decision_id: int, results: Sequence[str]) -> dict[str, int]:
    """How many of a decision's customers came out as each of `results` (absent: none)."""
    marks = ",".join("?" for _ in results)
    rows = conn.execute(
        f"SELECT resultado, COUNT(*) FROM hsm_recipients WHERE decision_id = ?"  # noqa: S608
        f" AND resultado IN ({marks}) GROUP BY resultado",
        (decision_id, *results),
    )
    return {str(row[0]): int(row[1]) for row in rows}


def decisions_of_notices(conn: Connection, outbox_ids: Sequence[int]) -> list[tuple[int, int]]:
    """(decision id, outbox row) for each of `outbox_ids` that is a decision's outage notice."""
    query = "SELECT decision_id, outbox_id FROM hsm_recipients WHERE outbox_id IN ({marks})"
    return [(int(row[0]), int(row[1])) for row in rows_in(conn, query, outbox_ids)]


# --- cooldowns ------------------------------------------------------------------------------


def blocked_until(conn: Connection, keys: Sequence[str], now: float) -> float | None:
    """When the latest block among `keys` ends, if one is in force."""
    marks = ",".join("?" for _ in keys)
    row = conn.execute(
        f"SELECT MAX(ate) FROM hsm_cooldowns WHERE chave IN ({marks}) AND ate > ?",  # noqa: S608
        [*keys, now],
    ).fetchone()
    return None if row[0] is None else float(row[0])


def active_cooldowns(conn: Connection, now: float) -> dict[str, float]:
    """Every block in force: key (`OLT|PON|type`) -> when it ends."""
    return {
        row[0]: float(row[1])
        for row in conn.execute("SELECT chave, ate FROM hsm_cooldowns WHERE ate > ?", (now,))
    }


def block(conn: Connection, keys: Sequence[str], until: float, decision_id: int) -> None:
    """Block `keys` until `until` on behalf of a decision (a key's older block is replaced)."""
    conn.executemany(
        "INSERT INTO hsm_cooldowns (chave, ate, decision_id) VALUES (?, ?, ?)"
        " ON CONFLICT (chave) DO UPDATE SET ate = excluded.ate, decision_id = excluded.decision_id",
        [(key, until, decision_id) for key in keys],
    )


# --- phones noticed -------------------------------------------------------------------------


def mark_noticed(conn: Connection, phones: Sequence[str], at: float, decision_id: int) -> None:
    """Record that `phones` got an outage notice at `at` from a decision."""
    conn.executemany(
        "INSERT INTO hsm_phone_notices (telefone, ultimo_aviso, decision_id) VALUES (?, ?, ?)"
        " ON CONFLICT (telefone) DO UPDATE SET ultimo_aviso = excluded.ultimo_aviso,"
        " decision_id = excluded.decision_id",
        [(phone, at, decision_id) for phone in phones],
    )


def recently_noticed(conn: Connection, phones: Sequence[str], since: float) -> set[str]:
    """The phones among `phones` that got an outage notice after `since`."""
    query = "SELECT telefone FROM hsm_phone_notices WHERE telefone IN ({marks}) AND ultimo_aviso > ?"
    return {row[0] for row in rows_in(conn, query, phones, [since])}


def last_notices(conn: Connection, phones: Sequence[str]) -> dict[str, float]:
    """When each of `phones` that ever got an outage notice got the last one."""
    query = "SELECT telefone, ultimo_aviso FROM hsm_phone_notices WHERE telefone IN ({marks})"
    return {row[0]: float(row[1]) for row in rows_in(conn, query, phones)}
