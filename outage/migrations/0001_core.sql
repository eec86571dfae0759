-- Monitor core: events (the seed's columns kept exactly), per-login rows, the persisted
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
    atualizado_em REAL NOT NULL,
    anunciados INTEGER NOT NULL DEFAULT 0,
    alerta_suprimido INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX events_status ON events (status, timestamp);
CREATE INDEX events_conexao ON events (conexao, timestamp);
CREATE UNIQUE INDEX events_one_active_per_conexao ON events (conexao) WHERE status = 'ativo';

CREATE TABLE event_logins (
    event_id TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    login TEXT NOT NULL,
    id_cliente TEXT NOT NULL DEFAULT '',
    id_contrato TEXT NOT NULL DEFAULT '',
    id_transmissor TEXT NOT NULL DEFAULT '',
    onu_mac TEXT NOT NULL DEFAULT '',
    interface_transmissao TEXT NOT NULL DEFAULT '',
    id_caixa_ftth TEXT NOT NULL DEFAULT '',
    ultima_conexao_final TEXT NOT NULL DEFAULT '',
    caiu_em REAL NOT NULL,
    reconectou_em REAL,
    PRIMARY KEY (event_id, login)
);
CREATE INDEX event_logins_login ON event_logins (login);

CREATE TABLE offline_state (
    login TEXT PRIMARY KEY,
    id TEXT NOT NULL DEFAULT '',
    conexao TEXT NOT NULL,
    id_cliente TEXT NOT NULL DEFAULT '',
    id_contrato TEXT NOT NULL DEFAULT '',
    id_transmissor TEXT NOT NULL DEFAULT '',
    onu_mac TEXT NOT NULL DEFAULT '',
    interface_transmissao TEXT NOT NULL DEFAULT '',
    id_caixa_ftth TEXT NOT NULL DEFAULT '',
    ultima_conexao_final TEXT NOT NULL DEFAULT '',
    dropped_at REAL,
    event_id TEXT
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
