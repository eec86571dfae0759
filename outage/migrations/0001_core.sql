-- Monitor core: events (the original monitor's columns kept exactly), per-login rows, the persisted
-- offline state, cycles, the poller lease and small key/value metadata.
CREATE TABLE events (
    id TEXT PRIMARY KEY,
    conexao TEXT NOT NULL,
    timestamp REAL NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('ativo', 'resolvido')),
    logins TEXT NOT NULL DEFAULT '[]',
    motivo TEXT NOT NULL DEFAULT 'indeterminado',
    causa_status TEXT NOT NULL DEFAULT 'pendente',
    local TEXT NOT NULL DEFAULT '',
    local_detalhe TEXT NOT NULL DEFAULT '{}',
    evidencias TEXT NOT NULL DEFAULT '[]',
    votos TEXT NOT NULL DEFAULT '{}',
    resolvido_em REAL,
    resolvido_por TEXT,
    atualizado_em REAL NOT NULL,
    anunciados INTEGER NOT NULL DEFAULT 0,
    alerta_suprimido INTEGER NOT NULL DEFAULT 0,
    clientes TEXT NOT NULL DEFAULT ''
);
CREATE INDEX events_status ON events (status, timestamp);
CREATE INDEX events_conexao ON events (conexao, timestamp);
CREATE UNIQUE INDEX events_one_active_per_conexao ON events (conexao) WHERE status = 'ativo';

-- Subscriber fields are packed as text: the values of outage.model.SUBSCRIBER_FIELDS joined
-- by U+001F (unit separator).
--
-- The offline state is split in two, so a mass drop writes one text per event rather than
-- one row per login (a concentrator failure drops 200k logins in one cycle):
-- * `events.clientes` holds every login an event affected, each record followed by U+001F
--   and the epoch it dropped, records joined by U+001E; a member is offline unless
--   `event_reconnections` says it came back;
-- * `offline_state` holds the offline logins that are in no event (the baseline, drops
--   below the threshold, sessions that ended long ago).
CREATE TABLE event_reconnections (
    event_id TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    login TEXT NOT NULL,
    reconectou_em REAL NOT NULL,
    PRIMARY KEY (event_id, login)
) WITHOUT ROWID;

CREATE TABLE offline_state (
    login TEXT PRIMARY KEY,
    data TEXT NOT NULL,
    dropped_at REAL
) WITHOUT ROWID;

CREATE TABLE cycles (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at REAL NOT NULL,
    finished_at REAL,
    ok INTEGER NOT NULL DEFAULT 0,
    erro TEXT,
    offline INTEGER NOT NULL DEFAULT 0,
    novas_quedas INTEGER NOT NULL DEFAULT 0,
    reconectados INTEGER NOT NULL DEFAULT 0,
    abertos INTEGER NOT NULL DEFAULT 0,
    crescidos INTEGER NOT NULL DEFAULT 0,
    resolvidos INTEGER NOT NULL DEFAULT 0,
    duracao REAL,
    holder TEXT NOT NULL DEFAULT ''
);
CREATE INDEX cycles_started ON cycles (started_at);

CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at REAL NOT NULL,
    acquired_at REAL NOT NULL
);

CREATE TABLE opening_alerts (
    conexao TEXT PRIMARY KEY,
    last_alert_at REAL NOT NULL
);

CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
