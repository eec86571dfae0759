"""The schema the numbered SQLite scripts 0001-0013 leave, on either database.

A new database gets it from here; a SQLite file of the numbered scripts runs the ones it
lacks and is then stamped with this revision instead (see `outage.migrations`). Tables,
columns (in the scripts' order), defaults, constraints and indexes are the scripts' own,
so both kinds of SQLite file are alike; on SQLite it also sets `user_version` to the last
script's number, as a file of the scripts has it.

Types: TEXT; REAL for times and rates (DOUBLE PRECISION on PostgreSQL); INTEGER, 64-bit
on SQLite, BIGINT on PostgreSQL (ids numbered by the database are BIGSERIAL there).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import sqlite

revision = "baseline"
down_revision = None
branch_labels = None
depends_on = None

LAST_NUMBERED = 13  # the numbered script this revision equals
INTEGER: sa.types.TypeEngine[int] = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
REAL: sa.types.TypeEngine[float] = sa.Double().with_variant(sqlite.REAL(), "sqlite")


def text(name: str, default: str | None = None, *, null: bool = False) -> sa.Column[str]:
    return sa.Column(
        name, sa.Text(), nullable=null, server_default=None if default is None else sa.text(f"'{default}'")
    )


def real(name: str, default: str | None = None, *, null: bool = False) -> sa.Column[float]:
    return sa.Column(name, REAL, nullable=null, server_default=None if default is None else sa.text(default))


def integer(name: str, default: int | None = None, *, null: bool = False) -> sa.Column[int]:
    server_default = None if default is None else sa.text(str(default))
    return sa.Column(name, INTEGER, nullable=null, server_default=server_default)


def key(name: str) -> sa.Column[str]:
    """A one-column TEXT primary key as the scripts write it (`name TEXT PRIMARY KEY`): no
    NOT NULL of its own (PostgreSQL's primary key implies it, SQLite's WITHOUT ROWID too)."""
    return sa.Column(name, sa.Text(), primary_key=True, nullable=True)


def serial(name: str = "id") -> sa.Column[int]:
    """An id the database numbers and never reuses: `INTEGER PRIMARY KEY AUTOINCREMENT` on
    SQLite (with the table's `sqlite_autoincrement=True`), BIGSERIAL on PostgreSQL."""
    return sa.Column(name, INTEGER, primary_key=True, nullable=True, autoincrement=True)


def partial_index(name: str, table: str, columns: list[str], where: str) -> None:
    """An index of the rows that meet `where` only, on both databases."""
    condition = sa.text(where)
    op.create_index(name, table, columns, sqlite_where=condition, postgresql_where=condition)


def upgrade() -> None:
    _incidents()
    _cycles()
    _outbox()
    _hsm()
    _users()
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"PRAGMA user_version = {LAST_NUMBERED}")


def _incidents() -> None:
    op.create_table(
        "events",
        key("id"),
        text("conexao"),
        real("timestamp"),
        text("status"),
        text("logins", "[]"),
        text("motivo", "indeterminado"),
        text("causa_status", "pendente"),
        text("local", ""),
        text("local_detalhe", "{}"),
        text("evidencias", "[]"),
        text("votos", "{}"),
        real("resolvido_em", null=True),
        text("resolvido_por", null=True),
        real("atualizado_em"),
        integer("anunciados", 0),
        integer("alerta_suprimido", 0),
        text("clientes", ""),
        text("escopo", "conexao"),
        text("chave_local", ""),
        text("chave_abertura", ""),
        text("caminho", "[]"),
        text("unidades", "[]"),
        real("primeira_queda", null=True),
        real("ultima_queda", null=True),
        text("aviso", ""),
        integer("nivel_anunciado", 3),
        integer("recorrencia", 1),
        integer("tamanho_abertura", 0),
        text("retardatarios", "[]"),
        text("causas", "[]"),
        text("causa_explicacao", ""),
        text("relacionado", ""),
        real("fim_abertura", null=True),
        text("cobertura", "[]"),
        text("origem", "erp"),
        sa.CheckConstraint("status IN ('ativo', 'resolvido')"),
    )
    op.create_index("events_status", "events", ["status", "timestamp"])
    op.create_index("events_conexao", "events", ["conexao", "timestamp"])
    op.create_index("events_opened_at_place", "events", ["chave_abertura", "timestamp"])
    op.create_table(
        "event_reconnections",
        sa.Column("event_id", sa.Text(), sa.ForeignKey("events.id", ondelete="CASCADE"), nullable=False),
        text("login"),
        real("reconectou_em"),
        sa.PrimaryKeyConstraint("event_id", "login"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "offline_state", key("login"), text("data"), real("dropped_at", null=True), sqlite_with_rowid=False
    )
    op.create_table("meta", key("key"), text("value"))
    op.create_table(
        "held_alerts",
        serial(),
        text("event_id"),
        text("kind"),
        text("motivo"),
        real("created_at"),
        sqlite_autoincrement=True,
    )
    op.create_index("held_alerts_event", "held_alerts", ["event_id"])
    op.create_table("place_rates", key("key"), real("count"), real("updated_at"), sqlite_with_rowid=False)
    op.create_table(
        "incident_numbers",
        serial("numero"),
        text("event_id"),
        sa.UniqueConstraint("event_id"),
        sqlite_autoincrement=True,
    )
    op.create_table("place_population", key("chave"), integer("logins"), sqlite_with_rowid=False)
    op.create_table("alarm_drops", key("login"), real("caiu_em"), text("causa", ""), sqlite_with_rowid=False)


def _cycles() -> None:
    op.create_table(
        "cycles",
        serial(),
        real("started_at"),
        real("finished_at", null=True),
        integer("ok", 0),
        text("erro", null=True),
        integer("offline", 0),
        integer("novas_quedas", 0),
        integer("reconectados", 0),
        integer("abertos", 0),
        integer("crescidos", 0),
        integer("resolvidos", 0),
        real("duracao", null=True),
        text("holder", ""),
        sqlite_autoincrement=True,
    )
    op.create_index("cycles_started", "cycles", ["started_at"])
    op.create_table(
        "leases",
        key("name"),
        text("holder"),
        real("expires_at"),
        real("acquired_at"),
        real("ttl", "30"),
    )
    op.create_table(
        "poller_heartbeat",
        key("name"),
        text("holder"),
        text("boot_id"),
        real("cycle_started_mono", null=True),
        real("cycle_started_wall", null=True),
        integer("cycles_before", 0),
        integer("running", 0),
        real("last_ok_mono", null=True),
        real("last_ok_wall", null=True),
        integer("last_ok_cycle", null=True),
        text("last_error", null=True),
        real("last_error_wall", null=True),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "alarm_health",
        key("name"),
        text("relatorio"),
        real("gravado_em"),
        real("gravado_mono"),
        text("boot_id"),
    )


def _outbox() -> None:
    op.create_table(
        "outbox",
        serial(),
        text("channel"),
        text("kind"),
        text("event_id", null=True),
        text("payload"),
        text("status", "pendente"),
        integer("attempts", 0),
        real("next_attempt_at"),
        text("claimed_by", null=True),
        real("claimed_at", null=True),
        real("created_at"),
        real("sent_at", null=True),
        text("provider_message_id", null=True),
        text("last_error", null=True),
        integer("repete", 0),
        real("uncertain_at", null=True),
        sa.CheckConstraint("status IN ('pendente', 'enviando', 'enviado', 'falhou', 'incerto')"),
        sqlite_autoincrement=True,
    )
    op.create_index("outbox_due", "outbox", ["status", "next_attempt_at"])
    op.create_index("outbox_event", "outbox", ["event_id", "kind"])
    partial_index("outbox_live", "outbox", ["channel", "id"], "status IN ('pendente', 'enviando')")
    partial_index(
        "outbox_provider_message", "outbox", ["provider_message_id"], "provider_message_id IS NOT NULL"
    )
    op.create_table(
        "whatsapp_statuses",
        key("wamid"),
        text("recipient"),
        text("status"),
        real("at"),
        text("erro", null=True),
        real("received_at"),
        text("reference", null=True),
    )
    op.create_index("whatsapp_statuses_recipient", "whatsapp_statuses", ["recipient", "at"])
    partial_index("whatsapp_statuses_reference", "whatsapp_statuses", ["reference"], "reference IS NOT NULL")


def _hsm() -> None:
    op.create_table(
        "hsm_decisions",
        serial(),
        text("incident_id"),
        text("fonte"),
        text("acao"),
        text("usuario"),
        real("decidido_em"),
        text("comentario", ""),
        text("chave"),
        text("tipo"),
        text("template", ""),
        text("canal", ""),
        text("snapshot", "{}"),
        integer("enfileirados", 0),
        integer("sem_telefone", 0),
        integer("ignorados", 0),
        real("normalizado_em", null=True),
        integer("aviso_normalizacao", 0),
        sa.UniqueConstraint("incident_id"),
        sa.CheckConstraint("acao IN ('aprovar', 'negar')"),
        sqlite_autoincrement=True,
    )
    op.create_index("hsm_decisions_time", "hsm_decisions", ["decidido_em"])
    op.create_table(
        "hsm_recipients",
        serial(),
        sa.Column("decision_id", INTEGER, sa.ForeignKey("hsm_decisions.id"), nullable=False),
        text("client_id", ""),
        text("nome", ""),
        text("telefone", ""),
        text("resultado"),
        integer("outbox_id", null=True),
        sqlite_autoincrement=True,
    )
    op.create_index("hsm_recipients_decision", "hsm_recipients", ["decision_id"])
    op.create_table("hsm_cooldowns", key("chave"), real("ate"), integer("decision_id"))
    op.create_table(
        "hsm_phone_notices",
        key("telefone"),
        real("ultimo_aviso"),
        integer("decision_id"),
        sqlite_with_rowid=False,
    )


def _users() -> None:
    op.create_table(
        "users",
        key("username"),
        text("password_hash"),
        text("role"),
        real("created_at"),
        real("last_login_at", null=True),
        sa.CheckConstraint("role IN ('leitura', 'operador', 'admin')"),
    )
    op.create_table(
        "sessions",
        key("id"),
        sa.Column("username", sa.Text(), sa.ForeignKey("users.username", ondelete="CASCADE"), nullable=False),
        text("csrf"),
        text("address", ""),
        real("created_at"),
        real("last_seen_at"),
        real("visto_mono", null=True),
        text("boot", ""),
        sqlite_with_rowid=False,
    )
    op.create_index("sessions_username", "sessions", ["username"])
    op.create_table(
        "login_throttle",
        key("key"),
        integer("failures"),
        real("last_at"),
        real("blocked_until"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "login_known_addresses",
        sa.Column("username", sa.Text(), sa.ForeignKey("users.username", ondelete="CASCADE"), nullable=False),
        text("address"),
        real("last_login_at"),
        sa.PrimaryKeyConstraint("username", "address"),
        sqlite_with_rowid=False,
    )
