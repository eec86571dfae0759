"""The audit trail of decisions, newest first, as JSON rows (`disparo_hsm`'s fields and
ours) or CSV.

`disparo_hsm`'s page reads `id` (the incident's number), `data_acao` (`dd/mm/YYYY HH:MM:SS`),
`acao` (`APROVADO` / `NEGADO`), `status_envio` (`Sucesso` / `Falha/Parcial`), `snapshot`
(the incident's fields as in `/api/detalhes`), `status_atual` (`ATIVO` / `NORMALIZADO`) and
`liberacao` (`Imediata` after a denial, else `dd/mm HH:MM` while the key is in cooldown,
then `Disponível`).

The CSV files are for a spreadsheet in Brazilian Portuguese: UTF-8 with a BOM (so Excel
reads the accents), `;` between fields, dates as `dd/mm/aaaa hh:mm` in São Paulo time,
phones as people write them, `(51) 99647-3637`, and headers and values in the words the
screen uses (`Decisão` APROVADO / NEGADO, `Tipo` LOS / ENERGIA / INDETERMINADO, ...).
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from typing import Any

from outage.adapters.channels.registry import kind_named
from outage.db import Connection, Record
from outage.hsm.disparo_shape import TIMEZONE, with_disparo_fields
from outage.hsm.dispatch import APPROVE, DUPLICATE, SKIPPED_24H
from outage.hsm.incidents import console_number
from outage.hsm.phones import normalize_phone
from outage.storage import hsm, outbox

BOM = "\ufeff"

# (field, header): the headers and the values are the words the screen uses.
CSV_COLUMNS = (
    ("decidido_em", "Data"),
    ("usuario", "Quem"),
    ("acao", "Decisão"),
    ("incidente", "Incidente"),
    ("fonte", "Fonte"),
    ("tipo", "Tipo"),
    ("olt", "OLT"),
    ("slot_pon", "PON"),
    ("afetados", "Clientes afetados"),
    ("template", "Modelo"),
    ("canal", "Canal"),
    ("enviados", "Enviados"),
    ("entregues", "Entregues"),
    ("falhas", "Falhas"),
    ("sem_telefone", "Sem telefone"),
    ("ignorados", "Ignorados"),
    ("estado", "Estado atual"),
    ("proximo_envio_permitido", "Próximo disparo permitido"),
    ("comentario", "Comentário"),
)
TYPE_WORDS = {"LOS": "LOS", "POWER": "ENERGIA"}  # the badges of the screen; anything else is undetermined
STATE_WORDS = {"ATIVO": "AINDA ATIVO", "NORMALIZADO": "NORMALIZADO"}
SOURCE_WORDS = {"olt": "sistema de gerência de OLT", "monitor": "monitor"}
SENDING_WORDS = {
    "pendente": "NA FILA",
    "enviando": "ENVIANDO",
    "enviado": "ENVIADO",
    "falhou": "FALHOU",
    "incerto": "INCERTO",
}
SUCCESS = "Sucesso"
PARTIAL = "Falha/Parcial"


def history(conn: Connection, now: float, limit: int = 200) -> list[dict[str, Any]]:
    """Decisions with who, when, the incident snapshot, per-message counts, current state
    (`ATIVO` / `NORMALIZADO`) and when the same key may be dispatched again."""
    return [_entry(conn, row, now) for row in hsm.latest_decisions(conn, limit)]


def _entry(conn: Connection, row: Record, now: float) -> dict[str, Any]:
    number = console_number(conn, row["incident_id"])
    snapshot = with_disparo_fields({**json.loads(row["snapshot"]), "numero": number})
    counts = outbox.status_counts(conn, hsm.notice_rows(conn, row["id"]))
    approved = row["acao"] == APPROVE
    active = row["normalizado_em"] is None and bool(snapshot.get("ativo", True))
    next_allowed = row["proximo"] if approved else None
    return {
        "id": number,
        "data_acao": datetime.fromtimestamp(row["decidido_em"], TIMEZONE).strftime("%d/%m/%Y %H:%M:%S"),
        "acao": "APROVADO" if approved else "NEGADO",
        "status_envio": _sending_status(approved, row["enfileirados"], counts),
        "snapshot": snapshot,
        "status_atual": "ATIVO" if active else "NORMALIZADO",
        "liberacao": _release(approved, next_allowed, now),
        "decisao_id": row["id"],
        "incidente": row["incident_id"],
        "fonte": row["fonte"],
        "decisao": row["acao"],
        "usuario": row["usuario"],
        "decidido_em": row["decidido_em"],
        "comentario": row["comentario"],
        "tipo": row["tipo"],
        "template": row["template"],
        "canal": row["canal"],
        "chave": row["chave"],
        "contagens": {
            "enviados": row["enfileirados"] - counts[outbox.FAILED] - counts[outbox.UNCERTAIN],
            "entregues": counts[outbox.SENT],
            "pendentes": counts[outbox.PENDING] + counts[outbox.SENDING],
            "falhas": counts[outbox.FAILED],
            "incertos": counts[outbox.UNCERTAIN],
            "sem_telefone": row["sem_telefone"],
            "ignorados": row["ignorados"],
            **_skipped(conn, row["id"]),
        },
        "normalizado_em": row["normalizado_em"],
        "aviso_normalizacao": row["aviso_normalizacao"],
        "proximo_envio_permitido": next_allowed,
    }


def _sending_status(approved: bool, queued: int, counts: dict[str, int]) -> str:
    """`disparo_hsm`'s `status_envio`: a denial sends nothing and succeeds; an approval succeeds
    once every notice it queued was accepted by the provider."""
    if not approved:
        return SUCCESS
    return SUCCESS if queued > 0 and counts[outbox.SENT] == queued else PARTIAL


def _release(approved: bool, next_allowed: float | None, now: float) -> str:
    if not approved:
        return "Imediata"
    if next_allowed is not None and next_allowed > now:
        return datetime.fromtimestamp(next_allowed, TIMEZONE).strftime("%d/%m %H:%M")
    return "Disponível"


def _skipped(conn: Connection, decision_id: int) -> dict[str, int]:
    """Why phones got no notice, apart: already notified in the last 24 h, or the same phone
    as another client of this dispatch (one notice per phone)."""
    counts = hsm.result_counts(conn, decision_id, (SKIPPED_24H, DUPLICATE))
    return {
        "ja_avisados_24h": counts.get(SKIPPED_24H, 0),
        "telefones_repetidos": counts.get(DUPLICATE, 0),
    }


def recipients(conn: Connection, decision_id: int) -> list[dict[str, Any]]:
    """Per-message outcome of one decision (phones as stored; the API is authenticated)."""
    rows = hsm.recipients_of(conn, decision_id)
    outcomes = outbox.outcomes_of(conn, [r.outbox_id for r in rows if r.outbox_id is not None])
    empty = {"envio": None, "erro": None, "enviado_em": None}
    return [
        {
            "client_id": r.client_id,
            "nome": r.nome,
            "telefone": r.telefone,
            "resultado": r.resultado,
            **(empty if r.outbox_id is None else outcomes.get(r.outbox_id, empty)),
        }
        for r in rows
    ]


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """A text a spreadsheet would run as a formula (`=`, `+`, `-`, `@`...) gets a leading
    `'`, so it is shown as typed; numbers and other texts pass unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


CSV_DATES = ("decidido_em", "proximo_envio_permitido")
RECIPIENT_COLUMNS = (
    ("decidido_em", "Data"),
    ("usuario", "Quem"),
    ("incidente", "Incidente"),
    ("olt", "OLT"),
    ("slot_pon", "PON"),
    ("client_id", "Código do cliente"),
    ("nome", "Nome"),
    ("telefone", "Telefone"),
    ("resultado", "Resultado"),
    ("envio", "Envio"),
    ("enviado_em", "Enviado em"),
    ("erro", "Erro"),
)
RESULTS = {
    "enfileirado": "aviso enviado ao provedor",
    "sem_telefone": "sem telefone válido",
    "ignorado_24h": "telefone já avisado nas últimas 24 h",
    "duplicado": "mesmo telefone de outro cliente",
}


def br_datetime(epoch: float | None) -> str:
    """`23/11/2026 03:10` in São Paulo time; empty for no time."""
    if epoch is None or epoch == "":
        return ""
    return datetime.fromtimestamp(float(epoch), TIMEZONE).strftime("%d/%m/%Y %H:%M")


def br_phone(raw: str | None) -> str:
    """`(51) 99647-3637` / `(51) 3333-4444`; a value that is not a Brazilian phone as it came."""
    e164 = normalize_phone(raw)
    if e164 is None:
        return str(raw or "")
    national = e164[2:]
    return f"({national[:2]}) {national[2:-4]}-{national[-4:]}"


def _csv(columns: tuple[tuple[str, str], ...], rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([header for _, header in columns])
    for row in rows:
        writer.writerow(["" if row.get(key) is None else safe_cell(row.get(key)) for key, _ in columns])
    return BOM + out.getvalue()


def to_csv(entries: list[dict[str, Any]]) -> str:
    """One line per decision."""
    rows = []
    for e in entries:
        snap = e["snapshot"]
        flat = {
            **e,
            **e["contagens"],
            **{k: snap.get(k, "") for k in ("olt", "slot_pon", "afetados")},
            "acao": "APROVADO" if e["decisao"] == APPROVE else "NEGADO",
            "tipo": TYPE_WORDS.get(str(e.get("tipo") or snap.get("tipo")), "INDETERMINADO"),
            "fonte": SOURCE_WORDS.get(str(e.get("fonte")), e.get("fonte")),
            "canal": _channel_words(e.get("canal")),
            "estado": STATE_WORDS.get(str(e["status_atual"]), e["status_atual"]),
        }
        flat.update({column: br_datetime(flat.get(column)) for column in CSV_DATES})
        rows.append(flat)
    return _csv(CSV_COLUMNS, rows)


def recipients_csv(conn: Connection, entries: list[dict[str, Any]]) -> str:
    """One line per customer of each approval: who was told, on which phone, and what happened."""
    rows = []
    for e in entries:
        if e["decisao"] != APPROVE:
            continue
        snap = e["snapshot"]
        for r in recipients(conn, e["decisao_id"]):
            rows.append(
                {
                    **r,
                    "decidido_em": br_datetime(e["decidido_em"]),
                    "usuario": e["usuario"],
                    "incidente": e["incidente"],
                    "olt": snap.get("olt", ""),
                    "slot_pon": snap.get("slot_pon", ""),
                    "telefone": br_phone(r["telefone"]),
                    "resultado": RESULTS.get(r["resultado"], r["resultado"]),
                    "envio": SENDING_WORDS.get(str(r["envio"]), r["envio"]),
                    "enviado_em": br_datetime(r["enviado_em"]),
                }
            )
    return _csv(RECIPIENT_COLUMNS, rows)


def _channel_words(channel: Any) -> Any:
    """The customer channel as the console names it ("provedor HSM"); anything else as it is."""
    kind = kind_named(str(channel))
    return kind.customers.label if kind and kind.customers else channel
