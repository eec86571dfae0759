-- A database written by the monitor at schema 4 (one event per connection), before the
-- incidents migration: OLT-A active (6 logins, 1 back), OLT-B resolved, alerts pending.
PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
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
INSERT INTO events VALUES('fc857dfb-01d8-410e-9bfd-0ec4389814cc','OLT-A',1790000300.0,'ativo','["olt-a-1", "olt-a-2", "olt-a-3", "olt-a-4", "olt-a-5", "olt-a-6"]','indeterminado','pendente','','{}','[]','{}',NULL,NULL,1790000600.0,6,0,'olt-a-5OLT-A5100530/1/2412026-09-21 11:11:401790000300.0olt-a-3OLT-A3100330/1/2412026-09-21 11:11:401790000300.0olt-a-6OLT-A6100630/1/2402026-09-21 11:11:401790000300.0olt-a-2OLT-A2100230/1/2402026-09-21 11:11:401790000300.0olt-a-4OLT-A4100430/1/2402026-09-21 11:11:401790000300.0olt-a-1OLT-A1100130/1/2412026-09-21 11:11:401790000300.0');
INSERT INTO events VALUES('b5adb10b-4f10-4d79-b871-e8352891f586','OLT-B',1790000300.0,'resolvido','["olt-b-1", "olt-b-2", "olt-b-3", "olt-b-4", "olt-b-5"]','indeterminado','pendente','','{}','[]','{}',1790000600.0,NULL,1790000600.0,5,0,'olt-b-2OLT-B2100230/1/2402026-09-21 11:12:101790000300.0olt-b-5OLT-B5100530/1/2412026-09-21 11:12:101790000300.0olt-b-1OLT-B1100130/1/2412026-09-21 11:12:101790000300.0olt-b-3OLT-B3100330/1/2412026-09-21 11:12:101790000300.0olt-b-4OLT-B4100430/1/2402026-09-21 11:12:101790000300.0');
CREATE TABLE event_reconnections (
    event_id TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    login TEXT NOT NULL,
    reconectou_em REAL NOT NULL,
    PRIMARY KEY (event_id, login)
) WITHOUT ROWID;
INSERT INTO event_reconnections VALUES('b5adb10b-4f10-4d79-b871-e8352891f586','olt-b-1',1790000600.0);
INSERT INTO event_reconnections VALUES('b5adb10b-4f10-4d79-b871-e8352891f586','olt-b-2',1790000600.0);
INSERT INTO event_reconnections VALUES('b5adb10b-4f10-4d79-b871-e8352891f586','olt-b-3',1790000600.0);
INSERT INTO event_reconnections VALUES('b5adb10b-4f10-4d79-b871-e8352891f586','olt-b-4',1790000600.0);
INSERT INTO event_reconnections VALUES('b5adb10b-4f10-4d79-b871-e8352891f586','olt-b-5',1790000600.0);
INSERT INTO event_reconnections VALUES('fc857dfb-01d8-410e-9bfd-0ec4389814cc','olt-a-1',1790000600.0);
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
INSERT INTO cycles VALUES(1,1790000000.0,1790000000.0002892017,1,NULL,0,0,0,0,0,0,0.00051643899860209785401,'local');
INSERT INTO cycles VALUES(2,1790000300.0,1790000300.0002248287,1,NULL,11,11,0,2,0,0,0.00058513799922366160899,'local');
INSERT INTO cycles VALUES(3,1790000600.0,1790000600.0001325607,1,NULL,5,0,6,0,0,1,0.00042643100096029229462,'local');
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
INSERT INTO opening_alerts VALUES('OLT-A',1790000300.0);
INSERT INTO opening_alerts VALUES('OLT-B',1790000300.0);
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO meta VALUES('baseline_done','1');
INSERT INTO meta VALUES('state_version','3');
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    channel TEXT NOT NULL,
    kind TEXT NOT NULL,
    event_id TEXT,
    payload TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pendente'
        CHECK (status IN ('pendente', 'enviando', 'enviado', 'falhou')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    claimed_by TEXT,
    claimed_at REAL,
    created_at REAL NOT NULL,
    sent_at REAL,
    provider_message_id TEXT,
    last_error TEXT
);
INSERT INTO outbox VALUES(1,'telegram:-1001','abertura','fc857dfb-01d8-410e-9bfd-0ec4389814cc','{"conexao": "OLT-A", "total": 6, "motivo": "indeterminado", "local": "", "inicio": 1790000300.0, "logins": [{"login": "olt-a-5", "ultima_conexao_final": "2026-09-21 11:11:40"}, {"login": "olt-a-3", "ultima_conexao_final": "2026-09-21 11:11:40"}, {"login": "olt-a-6", "ultima_conexao_final": "2026-09-21 11:11:40"}, {"login": "olt-a-2", "ultima_conexao_final": "2026-09-21 11:11:40"}, {"login": "olt-a-4", "ultima_conexao_final": "2026-09-21 11:11:40"}, {"login": "olt-a-1", "ultima_conexao_final": "2026-09-21 11:11:40"}]}','pendente',0,1790000300.0,NULL,NULL,1790000300.0,NULL,NULL,NULL);
INSERT INTO outbox VALUES(2,'telegram:-1001','abertura','b5adb10b-4f10-4d79-b871-e8352891f586','{"conexao": "OLT-B", "total": 5, "motivo": "indeterminado", "local": "", "inicio": 1790000300.0, "logins": [{"login": "olt-b-2", "ultima_conexao_final": "2026-09-21 11:12:10"}, {"login": "olt-b-5", "ultima_conexao_final": "2026-09-21 11:12:10"}, {"login": "olt-b-1", "ultima_conexao_final": "2026-09-21 11:12:10"}, {"login": "olt-b-3", "ultima_conexao_final": "2026-09-21 11:12:10"}, {"login": "olt-b-4", "ultima_conexao_final": "2026-09-21 11:12:10"}]}','pendente',0,1790000300.0,NULL,NULL,1790000300.0,NULL,NULL,NULL);
INSERT INTO outbox VALUES(3,'telegram:-1001','normalizacao','b5adb10b-4f10-4d79-b871-e8352891f586','{"conexao": "OLT-B", "total": 5, "inicio": 1790000300.0, "fim": 1790000600.0, "duracao": 300.0}','pendente',0,1790000600.0,NULL,NULL,1790000600.0,NULL,NULL,NULL);
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
CREATE TABLE hsm_recipients (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    decision_id INTEGER NOT NULL REFERENCES hsm_decisions (id),
    client_id TEXT NOT NULL DEFAULT '',
    nome TEXT NOT NULL DEFAULT '',
    telefone TEXT NOT NULL DEFAULT '',
    resultado TEXT NOT NULL,
    outbox_id INTEGER
);
CREATE TABLE hsm_cooldowns (
    chave TEXT PRIMARY KEY,
    ate REAL NOT NULL,
    decision_id INTEGER NOT NULL
);
CREATE TABLE hsm_phone_notices (
    telefone TEXT PRIMARY KEY,
    ultimo_aviso REAL NOT NULL,
    decision_id INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE users (
    username TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('leitura', 'operador', 'admin')),
    created_at REAL NOT NULL,
    last_login_at REAL
);
CREATE TABLE login_failures (
    key TEXT NOT NULL,
    at REAL NOT NULL
);
DELETE FROM sqlite_sequence;
INSERT INTO sqlite_sequence VALUES('cycles',3);
INSERT INTO sqlite_sequence VALUES('outbox',3);
CREATE INDEX events_status ON events (status, timestamp);
CREATE INDEX events_conexao ON events (conexao, timestamp);
CREATE UNIQUE INDEX events_one_active_per_conexao ON events (conexao) WHERE status = 'ativo';
CREATE INDEX cycles_started ON cycles (started_at);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_event ON outbox (event_id, kind);
CREATE INDEX hsm_decisions_time ON hsm_decisions (decidido_em);
CREATE INDEX hsm_recipients_decision ON hsm_recipients (decision_id);
CREATE INDEX login_failures_key ON login_failures (key, at);
COMMIT;
PRAGMA user_version=4;
