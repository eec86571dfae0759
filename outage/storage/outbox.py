"""The outbox and Meta's delivery statuses (`outbox`, `whatsapp_statuses`): every NOC alert
and customer notice is a row, and every SQL statement on them lives here.

Rows are written by `enqueue()` inside the caller's transaction (see `outage.db.transaction`),
so an alert exists if and only if the change that caused it was committed, and delivered
later by `outage.alerts.sender` (the one delivery engine).

A row's life: `pendente` -> `enviando` (claimed by one worker) -> `enviado` | `falhou`, or
back to `pendente` for a retry. A claim is a compare-and-set on the status, so no two
workers ever take the same row; every later mark checks that the worker still holds it.
A claim left by a process that died is recovered after the lease (`recover_stale`): a NOC
alert goes back to the queue marked `repete` (its text then says it may be a repeat); a
customer notice becomes `incerto` -- the provider may already have accepted it -- and is
sent again only when an operator asks (`resend_uncertain`). Rows are never deleted.

Order per destination (NOC alerts; a row's channel is `<provider>:<target>`): a row may
go only when no older live row of its destination holds it back. An older row holds it
back while that row is being sent, whenever it belongs to the same event, or while neither
it nor an older row of its own event has failed `STALL_AFTER_ATTEMPTS` times (a stalled
event holds back only its own later alerts). So alerts reach each destination in the
order written, a failing alert stalls the others for at most 3 attempts (about 35 s with
the sender's backoff) while it keeps retrying, and an
event's alerts never overtake each other (an opening never arrives after its own
normalization). Customer notices (channel `<provider>`, target in the payload) each go to
a different phone and have no order.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from outage.core.kinds import CUSTOMER_TEMPLATE, KINDS
from outage.core.notices import WhatsAppStatus, notice_reference
from outage.db import Connection, Record, in_chunks, json_field, rows_in, transaction

PENDING = "pendente"
SENDING = "enviando"
SENT = "enviado"
FAILED = "falhou"
UNCERTAIN = "incerto"

STALL_AFTER_ATTEMPTS = 3

_ROW_COLUMNS = "id, channel, kind, event_id, attempts, next_attempt_at, created_at, repete"


@dataclass(frozen=True)
class Alert:
    """One NOC alert (or customer notice), before it is fanned out to its channels."""

    kind: str
    payload: dict[str, Any] = field(default_factory=dict)
    event_id: str | None = None


@dataclass(frozen=True)
class Row:
    """A row waiting for delivery. `payload` is read up front only where the target is in it."""

    id: int
    channel: str
    kind: str
    event_id: str | None
    attempts: int
    next_attempt_at: float
    created_at: float
    repeat: bool
    payload: dict[str, Any] | None = None


@dataclass(frozen=True)
class Verdict:
    """What became of one send: the row's new status, and when (sent at / due again at)."""

    row_id: int
    status: str  # SENT, PENDING (a retry), FAILED or UNCERTAIN
    at: float
    note: str = ""  # the error, or the provider's remark on a success
    message_id: str | None = None
    repeat: bool = False  # the next send of a retried row may repeat an accepted one


def enqueue(
    conn: Connection,
    alerts: Iterable[Alert],
    channels: Iterable[str],
    now: float,
    due_at: float | None = None,
) -> list[int]:
    """Write one pending row per alert per channel; returns the new rows' ids, in order.

    `due_at` holds the rows until then (an opening waits for its cause; an approval's
    notices wait for its own fast path).
    """
    names = list(channels)
    due = now if due_at is None else due_at
    ids = []
    for alert in alerts:
        body = json.dumps(alert.payload, ensure_ascii=False)
        for name in names:
            cursor = conn.execute(
                "INSERT INTO outbox (channel, kind, event_id, payload, next_attempt_at, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                (name, alert.kind, alert.event_id, body, due, now),
            )
            ids.append(int(cursor.fetchone()[0]))
    return ids


def refresh_pending_payload(
    conn: Connection,
    event_id: str,
    kind: str,
    payload: dict[str, Any],
    release_at: float | None = None,
    since: float = 0.0,
) -> list[str]:
    """Update the payload of not-yet-claimed rows of one alert (e.g. the cause arrived).

    With `release_at`, rows held until later become due then; `since` limits it to the rows
    written from then on (the alert of this cycle, not an earlier one of the same kind).
    Returns the channels whose row was already claimed or sent, which therefore need a
    follow-up alert instead. Compare-and-set on `status = 'pendente'` keeps it race-free.
    """
    body = json.dumps(payload, ensure_ascii=False)
    conn.execute(
        "UPDATE outbox SET payload = ?, next_attempt_at = CASE WHEN ? < next_attempt_at THEN ? ELSE next_attempt_at END"
        " WHERE event_id = ? AND kind = ? AND status = 'pendente' AND created_at >= ?",
        (body, release_at, release_at, event_id, kind, since),
    )
    rows = conn.execute(
        "SELECT DISTINCT channel FROM outbox WHERE event_id = ? AND kind = ? AND status != 'pendente'"
        " AND created_at >= ?",
        (event_id, kind, since),
    ).fetchall()
    return [row["channel"] for row in rows]


def latest_payload(conn: Connection, event_id: str, kind: str) -> dict[str, Any] | None:
    """The payload of the newest alert of `kind` about `event_id` (None when there is none)."""
    row = conn.execute(
        "SELECT payload FROM outbox WHERE event_id = ? AND kind = ? ORDER BY id DESC LIMIT 1",
        (event_id, kind),
    ).fetchone()
    return json.loads(row["payload"]) if row is not None else None


# --- what to send next ----------------------------------------------------------------


def noc_heads(conn: Connection) -> list[Row]:
    """The pending NOC rows that may go next (due or not), oldest first; see the module."""
    rows = conn.execute(
        f"SELECT {_ROW_COLUMNS} FROM outbox r WHERE r.status = 'pendente' AND r.channel LIKE '%:%'"  # noqa: S608
        " AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.channel = r.channel AND e.id < r.id"
        " AND e.status IN ('pendente', 'enviando')"
        " AND (e.status = 'enviando' OR e.event_id IS NOT DISTINCT FROM r.event_id OR (e.attempts < :stall"
        " AND NOT EXISTS (SELECT 1 FROM outbox s WHERE s.channel = e.channel AND s.id <= e.id"
        " AND s.event_id IS NOT DISTINCT FROM e.event_id AND s.status IN ('pendente', 'enviando') AND s.attempts >= :stall))))"
        " ORDER BY r.id",
        {"stall": STALL_AFTER_ATTEMPTS},
    ).fetchall()
    return [_row(r) for r in rows]


def due_customer_rows(conn: Connection, now: float, limit: int) -> list[Row]:
    """Pending rows whose target is in the payload (customer notices) due by `now`, oldest first."""
    rows = conn.execute(
        f"SELECT {_ROW_COLUMNS}, payload FROM outbox WHERE status = 'pendente'"  # noqa: S608
        " AND channel NOT LIKE '%:%' AND next_attempt_at <= ? ORDER BY id LIMIT ?",
        (now, limit),
    ).fetchall()
    return [_row(r, json.loads(r["payload"])) for r in rows]


def next_customer_due(conn: Connection) -> float | None:
    """When the next pending customer notice falls due (None: there is none)."""
    value = conn.execute(
        "SELECT MIN(next_attempt_at) FROM outbox WHERE status = 'pendente' AND channel NOT LIKE '%:%'"
    ).fetchone()[0]
    return None if value is None else float(value)


def pending_among(conn: Connection, row_ids: Sequence[int]) -> list[Row]:
    """The rows among `row_ids` still pending, with their payloads, in id order."""
    found: list[Row] = []
    for chunk, marks in in_chunks(row_ids):
        rows = conn.execute(
            f"SELECT {_ROW_COLUMNS}, payload FROM outbox WHERE id IN ({marks}) AND status = 'pendente'",  # noqa: S608
            chunk,
        ).fetchall()
        found += [_row(r, json.loads(r["payload"])) for r in rows]
    return sorted(found, key=lambda row: row.id)


def ids_of_event(conn: Connection, event_id: str) -> list[int]:
    """The rows about `event_id`, oldest first."""
    return [
        int(row[0])
        for row in conn.execute("SELECT id FROM outbox WHERE event_id = ? ORDER BY id", (event_id,))
    ]


def event_ids_of(conn: Connection, row_ids: Sequence[int]) -> dict[int, str | None]:
    """The `event_id` of some rows, by id."""
    return {
        int(row[0]): row[1]
        for row in rows_in(conn, "SELECT id, event_id FROM outbox WHERE id IN ({marks})", row_ids)
    }


def payloads_of(conn: Connection, row_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """The decoded payloads of some rows, by id."""
    query = "SELECT id, payload FROM outbox WHERE id IN ({marks})"
    return {int(row["id"]): dict(json.loads(row["payload"])) for row in rows_in(conn, query, row_ids)}


# --- claims and outcomes (compare-and-set, one transaction per call) -------------------


def claim(conn: Connection, row_ids: Sequence[int], worker: str, now: float, *, due_only: bool) -> list[int]:
    """Take pending rows for `worker`; returns those it got (someone else may have been first).

    `due_only` False takes rows held for later too (an approval's own fast path).
    """
    due_by = now if due_only else float("inf")
    with transaction(conn):
        return [
            row_id
            for row_id in row_ids
            if conn.execute(
                "UPDATE outbox SET status = 'enviando', claimed_by = ?, claimed_at = ?, attempts = attempts + 1"
                " WHERE id = ? AND status = 'pendente' AND next_attempt_at <= ?",
                (worker, now, row_id, due_by),
            ).rowcount
            == 1
        ]


def record(conn: Connection, worker: str, verdicts: Sequence[Verdict]) -> list[Verdict]:
    """Store outcomes of rows `worker` holds, in one transaction; returns those applied
    (a row whose claim was recovered meanwhile is left as the recovery made it)."""
    applied = []
    with transaction(conn):
        for v in verdicts:
            if _apply(conn, worker, v):
                applied.append(v)
        _fail_reported_undelivered(conn, [v.message_id for v in applied if v.status == SENT and v.message_id])
    return applied


def _fail_reported_undelivered(conn: Connection, message_ids: Sequence[str]) -> None:
    """Meta's `failed` status may reach the webhook before the sender records the send it is
    about: a notice recorded as sent whose message Meta already reported failed is `falhou`."""
    query = "SELECT wamid, erro FROM whatsapp_statuses WHERE status = 'failed' AND wamid IN ({marks})"
    failed = list(rows_in(conn, query, message_ids))
    conn.executemany(
        "UPDATE outbox SET status = 'falhou', last_error = ? WHERE provider_message_id = ?"
        " AND status = 'enviado' AND kind = ? AND channel = 'whatsapp_cloud'",
        [(_refused(row["erro"]), row["wamid"], CUSTOMER_TEMPLATE) for row in failed],
    )


_MARKS = {
    SENT: "UPDATE outbox SET status = 'enviado', sent_at = :at, provider_message_id = :message_id,"
    " last_error = :note WHERE id = :id AND status = 'enviando' AND claimed_by = :worker",
    PENDING: "UPDATE outbox SET status = 'pendente', next_attempt_at = :at, last_error = :note,"
    " claimed_by = NULL, repete = CASE WHEN :repeat > repete THEN :repeat ELSE repete END WHERE id = :id AND status = 'enviando' AND claimed_by = :worker",
    FAILED: "UPDATE outbox SET status = 'falhou', last_error = :note"
    " WHERE id = :id AND status = 'enviando' AND claimed_by = :worker",
    UNCERTAIN: "UPDATE outbox SET status = 'incerto', last_error = :note, uncertain_at = :at"
    " WHERE id = :id AND status = 'enviando' AND claimed_by = :worker",
}


def _apply(conn: Connection, worker: str, v: Verdict) -> bool:
    params = {
        "at": v.at,
        "message_id": v.message_id,
        "note": v.note or None,
        "repeat": int(v.repeat),
        "id": v.row_id,
        "worker": worker,
    }
    return conn.execute(_MARKS[v.status], params).rowcount == 1


def release(conn: Connection, row_ids: Sequence[int], worker: str) -> None:
    """Give back rows claimed but never sent (their attempt does not count)."""
    if not row_ids:
        return
    with transaction(conn):
        conn.executemany(
            "UPDATE outbox SET status = 'pendente', claimed_by = NULL, claimed_at = NULL,"
            " attempts = attempts - 1 WHERE id = ? AND claimed_by = ? AND status = 'enviando'",
            [(row_id, worker) for row_id in row_ids],
        )


def recover_stale(
    conn: Connection, now: float, lease: float, dead: Callable[[str], bool] = lambda _: False
) -> tuple[int, int]:
    """Recover claims older than `lease`, or held by a worker `dead` says is gone (a process of
    this host that died mid-send: no need to wait): NOC alerts go back to the queue marked as
    possible repeats, customer notices become `incerto`.
    Returns (alerts requeued, notices now uncertain)."""
    stale = now - lease
    holders = [
        row[0] for row in conn.execute("SELECT DISTINCT claimed_by FROM outbox WHERE status = 'enviando'")
    ]
    gone = [(holder,) for holder in holders if holder and dead(holder)]
    with transaction(conn):
        conn.executemany(  # a dead holder's claims are stale now, whatever their age
            "UPDATE outbox SET claimed_at = 0 WHERE status = 'enviando' AND claimed_by = ?", gone
        )
        requeued = conn.execute(
            "UPDATE outbox SET status = 'pendente', claimed_by = NULL, next_attempt_at = ?, repete = 1,"
            " last_error = 'retomado: o processo que enviava parou antes de registrar o resultado'"
            " WHERE status = 'enviando' AND claimed_at < ? AND kind != ?",
            (now, stale, CUSTOMER_TEMPLATE),
        ).rowcount
        uncertain = conn.execute(
            "UPDATE outbox SET status = 'incerto', claimed_by = NULL, uncertain_at = ?,"
            " last_error = 'incerto: o processo parou depois de pedir o envio ao provedor e antes de"
            " registrar a resposta; o aviso pode ter saído' WHERE status = 'enviando' AND claimed_at < ? AND kind = ?",
            (now, stale, CUSTOMER_TEMPLATE),
        ).rowcount
    if uncertain:
        uncertain -= settle_uncertain(conn)  # Meta may have told already
    return requeued, uncertain


# --- WhatsApp Cloud API statuses ------------------------------------------------------

DELIVERED = ("sent", "delivered", "read")
STATUS_LEEWAY = 300.0  # Meta's status time against our queueing time (clocks, batching)
_CLOUD_UNCERTAIN = "status = 'incerto' AND channel = 'whatsapp_cloud' AND kind = ?"


@dataclass(frozen=True)
class StatusOutcome:
    """What a batch of Meta's statuses changed: uncertain notices settled (sent or failed),
    and notices recorded as sent that Meta then could not deliver."""

    settled: int = 0
    undelivered: int = 0


def record_whatsapp_statuses(
    conn: Connection, statuses: Sequence[WhatsAppStatus], now: float
) -> StatusOutcome:
    """Keep the statuses Meta reported (the latest per message wins), mark `falhou` the sent
    notices Meta reports failed (with its reason), and settle the notices a crash left
    uncertain with them."""
    with transaction(conn):
        conn.executemany(
            "INSERT INTO whatsapp_statuses (wamid, recipient, status, at, erro, received_at, reference)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (wamid) DO UPDATE SET status = excluded.status,"
            " at = excluded.at, erro = excluded.erro, received_at = excluded.received_at,"
            " reference = COALESCE(excluded.reference, whatsapp_statuses.reference)"
            " WHERE excluded.at >= whatsapp_statuses.at",
            [
                (st.wamid, st.recipient, st.status, st.at, st.error or None, now, st.reference or None)
                for st in statuses
            ],
        )
        undelivered = sum(
            conn.execute(
                "UPDATE outbox SET status = 'falhou', last_error = ? WHERE provider_message_id = ?"
                " AND status = 'enviado' AND kind = ? AND channel = 'whatsapp_cloud'",
                (_refused(st.error), st.wamid, CUSTOMER_TEMPLATE),
            ).rowcount
            for st in statuses
            if st.status == "failed"
        )
    return StatusOutcome(settle_uncertain(conn), undelivered)


def _refused(error: str | None) -> str:
    return f"a Meta não entregou: {error or 'sem motivo informado'}"


def settle_uncertain(conn: Connection) -> int:
    """Uncertain WhatsApp Cloud API notices that Meta has a status for; returns how many.

    A status carrying the notice's reference (`biz_opaque_callback_data`) for its number is
    about that notice (an accepted one preferred, should a resend have made two). A status
    with no reference (a message sent before references) settles the oldest uncertain notice
    of its number queued no later than it, unless another notice holds its wamid. Accepted
    (sent, delivered, read) becomes `enviado` with Meta's id; failed becomes `falhou` with
    Meta's reason."""
    rows = conn.execute(
        f"SELECT id, {json_field(conn, 'payload', 'to')} AS recipient, created_at FROM outbox"  # noqa: S608
        f" WHERE {_CLOUD_UNCERTAIN}"
        " ORDER BY id",
        (CUSTOMER_TEMPLATE,),
    ).fetchall()
    settled = 0
    with transaction(conn):
        for row in rows:
            status = _status_of(conn, int(row["id"]), str(row["recipient"]), float(row["created_at"]))
            if status is None:
                continue
            if status["status"] in DELIVERED:
                conn.execute(
                    "UPDATE outbox SET status = 'enviado', sent_at = ?, provider_message_id = ?,"
                    " last_error = 'confirmado pela Meta depois de uma parada do processo'"
                    " WHERE id = ? AND status = 'incerto'",
                    (status["at"], status["wamid"], row["id"]),
                )
            else:
                conn.execute(
                    "UPDATE outbox SET status = 'falhou', provider_message_id = ?, last_error = ?"
                    " WHERE id = ? AND status = 'incerto'",
                    (status["wamid"], _refused(status["erro"]), row["id"]),
                )
            settled += 1
    return settled


def _status_of(conn: Connection, row_id: int, recipient: str, created_at: float) -> Any:
    """The status that settles uncertain notice `row_id` (see `settle_uncertain`), or None."""
    named = conn.execute(
        "SELECT wamid, status, at, erro FROM whatsapp_statuses WHERE reference = ? AND recipient = ?"
        " ORDER BY status = 'failed', at LIMIT 1",
        (notice_reference(row_id), recipient),
    ).fetchone()
    if named is not None:
        return named
    return conn.execute(
        "SELECT wamid, status, at, erro FROM whatsapp_statuses s WHERE recipient = ? AND at >= ?"
        " AND COALESCE(reference, '') = ''"
        " AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.provider_message_id = s.wamid)"
        " ORDER BY at LIMIT 1",
        (recipient, created_at - STATUS_LEEWAY),
    ).fetchone()


def awaiting_confirmation(conn: Connection, row_ids: Sequence[int], since: float) -> set[int]:
    """The uncertain WhatsApp Cloud API notices among `row_ids` that became uncertain at
    `since` or later: Meta's status may still settle them."""
    query = "SELECT id FROM outbox WHERE id IN ({marks}) AND " + _CLOUD_UNCERTAIN + " AND uncertain_at >= ?"  # noqa: S608
    return {int(r[0]) for r in rows_in(conn, query, row_ids, [CUSTOMER_TEMPLATE, since])}


def shift_schedule(conn: Connection, seconds: float) -> int:
    """Move every pending row's due time and every claim's time by `seconds`: the wall clock
    jumped that much, and what was due in 30 s is still due in 30 s. Returns the rows moved."""
    with transaction(conn):
        moved = conn.execute(
            "UPDATE outbox SET next_attempt_at = next_attempt_at + ? WHERE status = 'pendente'", (seconds,)
        ).rowcount
        conn.execute("UPDATE outbox SET claimed_at = claimed_at + ? WHERE status = 'enviando'", (seconds,))
        conn.execute("UPDATE outbox SET uncertain_at = uncertain_at + ? WHERE status = 'incerto'", (seconds,))
    return int(moved)


def uncertain_ids(conn: Connection) -> list[int]:
    """Every row in `incerto`, oldest first."""
    return [int(row[0]) for row in conn.execute("SELECT id FROM outbox WHERE status = 'incerto' ORDER BY id")]


def resend_uncertain(conn: Connection, row_ids: Sequence[int], due_at: float) -> list[int]:
    """Put uncertain rows among `row_ids` back in the queue (an operator asked), due at
    `due_at`; returns the ids requeued (compare-and-set on `incerto`)."""
    requeued = []
    with transaction(conn):
        for row_id in row_ids:
            changed = conn.execute(
                "UPDATE outbox SET status = 'pendente', next_attempt_at = ?,"
                " last_error = 'reenviado a pedido do operador' WHERE id = ? AND status = 'incerto'",
                (due_at, row_id),
            ).rowcount
            if changed:
                requeued.append(row_id)
    return requeued


# --- reports ---------------------------------------------------------------------------


def status_counts(conn: Connection, row_ids: Sequence[int]) -> dict[str, int]:
    """How many of `row_ids` are in each status (every status present, zero or not)."""
    counts = dict.fromkeys((PENDING, SENDING, SENT, FAILED, UNCERTAIN), 0)
    for status, count in rows_in(
        conn, "SELECT status, COUNT(*) FROM outbox WHERE id IN ({marks}) GROUP BY status", row_ids
    ):
        counts[status] += count
    return counts


def outcomes_of(conn: Connection, row_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Status, last error and send time of some rows, by id."""
    found: dict[int, dict[str, Any]] = {}
    for chunk, marks in in_chunks(row_ids):
        rows = conn.execute(
            f"SELECT id, status, last_error, sent_at FROM outbox WHERE id IN ({marks})",  # noqa: S608
            chunk,
        )
        found.update(
            {
                int(r["id"]): {"envio": r["status"], "erro": r["last_error"], "enviado_em": r["sent_at"]}
                for r in rows
            }
        )
    return found


def counts_by_status(conn: Connection) -> dict[str, int]:
    """Rows per status over the whole outbox, for the statuses present."""
    return {str(r[0]): int(r[1]) for r in conn.execute("SELECT status, COUNT(*) FROM outbox GROUP BY status")}


def totals(conn: Connection) -> dict[str, int]:
    """Rows per status over the whole outbox (every status, zero or not)."""
    counts = dict.fromkeys((PENDING, SENDING, SENT, FAILED, UNCERTAIN), 0)
    counts.update(counts_by_status(conn))
    return counts


def alerts_of_event(conn: Connection, event_id: str) -> list[dict[str, Any]]:
    """Every row about `event_id`, oldest first, as the API shows it: `id`, `canal`, `tipo`,
    `status`, `tentativas`, `criado_em`, `enviado_em` and `erro`."""
    rows = conn.execute(
        "SELECT id, channel AS canal, kind AS tipo, status, attempts AS tentativas, created_at AS criado_em,"
        " sent_at AS enviado_em, last_error AS erro FROM outbox WHERE event_id = ? ORDER BY id",
        (event_id,),
    )
    return [dict(r) for r in rows]


def counts_by_channel(conn: Connection) -> list[tuple[str, str, int]]:
    """(channel, status, rows) for every channel and status present."""
    rows = conn.execute("SELECT channel, status, COUNT(*) FROM outbox GROUP BY channel, status")
    return [(str(r[0]), str(r[1]), int(r[2])) for r in rows]


def oldest_live_at(conn: Connection) -> float | None:
    """When the oldest row still to deliver was written (None: nothing waits)."""
    value = conn.execute(
        "SELECT MIN(created_at) FROM outbox WHERE status IN ('pendente', 'enviando')"
    ).fetchone()[0]
    return None if value is None else float(value)


def failing_destinations(conn: Connection) -> list[str]:
    """NOC destinations in trouble: the latest alert that finished there failed for good,
    or an alert there has failed `STALL_AFTER_ATTEMPTS` times and is still being retried.

    The one definition of a failing destination (`/healthz` and the Saúde page). Customer
    notices never count: single phones refuse messages every day (not on WhatsApp, blocked).
    """
    marks = ",".join("?" for _ in KINDS)
    latest = conn.execute(
        "SELECT channel, status FROM outbox WHERE id IN (SELECT MAX(id) FROM outbox"  # noqa: S608
        f" WHERE status IN ('enviado', 'falhou') AND kind IN ({marks}) GROUP BY channel)",
        KINDS,
    ).fetchall()
    stalled = conn.execute(
        f"SELECT DISTINCT channel FROM outbox WHERE status IN ('pendente', 'enviando') AND attempts >= ?"  # noqa: S608
        f" AND kind IN ({marks})",
        (STALL_AFTER_ATTEMPTS, *KINDS),
    ).fetchall()
    return sorted({row[0] for row in latest if row[1] == FAILED} | {row[0] for row in stalled})


def _row(r: Record, payload: dict[str, Any] | None = None) -> Row:
    return Row(
        id=int(r["id"]),
        channel=r["channel"],
        kind=r["kind"],
        event_id=r["event_id"],
        attempts=int(r["attempts"]),
        next_attempt_at=float(r["next_attempt_at"]),
        created_at=float(r["created_at"]),
        repeat=bool(r["repete"]),
        payload=payload,
    )
