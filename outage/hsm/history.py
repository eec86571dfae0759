"""The audit trail of decisions, newest first, as JSON rows or CSV."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from typing import Any

CSV_COLUMNS = (
    "decidido_em",
    "usuario",
    "acao",
    "incidente",
    "fonte",
    "tipo",
    "olt",
    "slot_pon",
    "afetados",
    "template",
    "canal",
    "enviados",
    "entregues",
    "falhas",
    "sem_telefone",
    "ignorados",
    "estado",
    "proximo_envio_permitido",
    "comentario",
)


def history(conn: sqlite3.Connection, limit: int = 200) -> list[dict[str, Any]]:
    """Decisions with who, when, the incident snapshot, per-message counts, current state
    (`ATIVO` / `NORMALIZADO`) and the next time the same key may be dispatched."""
    rows = conn.execute(
        "SELECT d.*, c.ate AS proximo FROM hsm_decisions d LEFT JOIN hsm_cooldowns c ON c.chave = d.chave"
        " ORDER BY d.decidido_em DESC, d.id DESC LIMIT ?",
        (limit,),
    ).fetchall()
    return [_entry(conn, row) for row in rows]


def _entry(conn: sqlite3.Connection, row: sqlite3.Row) -> dict[str, Any]:
    snapshot = json.loads(row["snapshot"])
    counts = dict.fromkeys(("enviado", "pendente", "enviando", "falhou"), 0)
    for status, count in conn.execute(
        "SELECT o.status, COUNT(*) FROM hsm_recipients r JOIN outbox o ON o.id = r.outbox_id"
        " WHERE r.decision_id = ? GROUP BY o.status",
        (row["id"],),
    ):
        counts[status] = count
    active = row["normalizado_em"] is None and bool(snapshot.get("ativo", True))
    return {
        "id": row["id"],
        "incidente": row["incident_id"],
        "fonte": row["fonte"],
        "acao": row["acao"],
        "usuario": row["usuario"],
        "decidido_em": row["decidido_em"],
        "comentario": row["comentario"],
        "tipo": row["tipo"],
        "template": row["template"],
        "canal": row["canal"],
        "chave": row["chave"],
        "snapshot": snapshot,
        "contagens": {
            "enviados": row["enfileirados"] - counts["falhou"],
            "entregues": counts["enviado"],
            "pendentes": counts["pendente"] + counts["enviando"],
            "falhas": counts["falhou"],
            "sem_telefone": row["sem_telefone"],
            "ignorados": row["ignorados"],
        },
        "estado": "ATIVO" if active else "NORMALIZADO",
        "normalizado_em": row["normalizado_em"],
        "aviso_normalizacao": row["aviso_normalizacao"],
        "proximo_envio_permitido": row["proximo"] if row["acao"] == "aprovar" else None,
    }


def recipients(conn: sqlite3.Connection, decision_id: int) -> list[dict[str, Any]]:
    """Per-message outcome of one decision (phones as stored; the API is authenticated)."""
    return [
        dict(r)
        for r in conn.execute(
            "SELECT r.client_id, r.nome, r.telefone, r.resultado, o.status AS envio, o.last_error AS erro,"
            " o.sent_at AS enviado_em FROM hsm_recipients r LEFT JOIN outbox o ON o.id = r.outbox_id"
            " WHERE r.decision_id = ? ORDER BY r.id",
            (decision_id,),
        )
    ]


def to_csv(entries: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(CSV_COLUMNS)
    for e in entries:
        snap = e["snapshot"]
        flat = {**e, **e["contagens"], **{k: snap.get(k, "") for k in ("olt", "slot_pon", "afetados")}}
        writer.writerow(
            [flat.get(column, "") if flat.get(column) is not None else "" for column in CSV_COLUMNS]
        )
    return out.getvalue()
