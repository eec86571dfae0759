-- HSM dispatch console (issue 5): decisions, their recipients, flap damping.
-- One decision per incident (UNIQUE incident_id): a second approval of the same incident,
-- concurrent or retried, finds the row and changes nothing. The decision, its recipients
-- and its outbox rows are written in one transaction.
CREATE TABLE hsm_decisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id TEXT NOT NULL UNIQUE,
    fonte TEXT NOT NULL,
    acao TEXT NOT NULL CHECK (acao IN ('aprovar', 'negar')),
    usuario TEXT NOT NULL,
    decidido_em REAL NOT NULL,
    comentario TEXT NOT NULL DEFAULT '',
    chave TEXT NOT NULL,
    tipo TEXT NOT NULL,
    template TEXT NOT NULL DEFAULT '',
    canal TEXT NOT NULL DEFAULT '',
    snapshot TEXT NOT NULL DEFAULT '{}',
    enfileirados INTEGER NOT NULL DEFAULT 0,
    sem_telefone INTEGER NOT NULL DEFAULT 0,
    ignorados INTEGER NOT NULL DEFAULT 0,
    normalizado_em REAL,
    aviso_normalizacao INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX hsm_decisions_time ON hsm_decisions (decidido_em);

-- Every customer of an approved incident and what happened to them: `enfileirado` (an
-- outbox row, see outbox_id for the per-message outcome), `sem_telefone`, `ignorado_24h`
-- (the phone had a notice in the last 24 h) or `duplicado` (phone shared in this incident).
CREATE TABLE hsm_recipients (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    decision_id INTEGER NOT NULL REFERENCES hsm_decisions (id),
    client_id TEXT NOT NULL DEFAULT '',
    nome TEXT NOT NULL DEFAULT '',
    telefone TEXT NOT NULL DEFAULT '',
    resultado TEXT NOT NULL,
    outbox_id INTEGER
);
CREATE INDEX hsm_recipients_decision ON hsm_recipients (decision_id);

-- Flap damping: key OLT|PON|type blocked until `ate` after an approval.
CREATE TABLE hsm_cooldowns (
    chave TEXT PRIMARY KEY,
    ate REAL NOT NULL,
    decision_id INTEGER NOT NULL
);

-- The last outage notice per phone (a phone gets at most one per 24 h across incidents).
CREATE TABLE hsm_phone_notices (
    telefone TEXT PRIMARY KEY,
    ultimo_aviso REAL NOT NULL,
    decision_id INTEGER NOT NULL
) WITHOUT ROWID;
