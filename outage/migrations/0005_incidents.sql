-- Incidents by place and time: an event is a set of logins that went down together in one
-- place (CTO, PON, OLT or connection), so several can be active on one connection.
DROP INDEX events_one_active_per_conexao;

-- Where the incident is: `escopo` is the level (cto / pon / olt / conexao), `chave_local`
-- the place key (see outage/place.py) and `chave_abertura` the one it opened at (they differ
-- once it widens), `caminho` the place and those above it (JSON list), `unidades` the places
-- just below it that the incident took (JSON list).
ALTER TABLE events ADD COLUMN escopo TEXT NOT NULL DEFAULT 'conexao';
ALTER TABLE events ADD COLUMN chave_local TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN chave_abertura TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN caminho TEXT NOT NULL DEFAULT '[]';
ALTER TABLE events ADD COLUMN unidades TEXT NOT NULL DEFAULT '[]';
-- The drop times of its first and latest member (epoch seconds).
ALTER TABLE events ADD COLUMN primeira_queda REAL;
ALTER TABLE events ADD COLUMN ultima_queda REAL;
-- What the NOC was told when it opened: 'abertura', 'recorrencia', or '' (held back, the
-- reason in held_alerts); the widest level announced (0 cto … 3 conexao); the how-many-th
-- opening at its place within FLAP_WINDOW; its size when it opened.
ALTER TABLE events ADD COLUMN aviso TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN nivel_anunciado INTEGER NOT NULL DEFAULT 3;
ALTER TABLE events ADD COLUMN recorrencia INTEGER NOT NULL DEFAULT 1;
ALTER TABLE events ADD COLUMN tamanho_abertura INTEGER NOT NULL DEFAULT 0;
-- Logins still offline when it was normalized by quorum (JSON list).
ALTER TABLE events ADD COLUMN retardatarios TEXT NOT NULL DEFAULT '[]';

-- Events of the previous model were one per connection: they stay active, at the
-- connection's scope, and close by the new rules.
UPDATE events SET
    chave_local = 'conexao:' || conexao,
    chave_abertura = 'conexao:' || conexao,
    caminho = json_array('conexao:' || conexao),
    primeira_queda = timestamp,
    ultima_queda = timestamp,
    aviso = CASE alerta_suprimido WHEN 0 THEN 'abertura' ELSE '' END,
    tamanho_abertura = anunciados;
CREATE INDEX events_opened_at_place ON events (chave_abertura, timestamp);

-- Every alert held back, and why (in Portuguese, for the API and the dashboard).
CREATE TABLE held_alerts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    motivo TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX held_alerts_event ON held_alerts (event_id);

-- Churn learned per place (see outage/rates.py): a decayed count of drops that joined no
-- incident, as of `updated_at`. The decayed observed time is meta `rates_exposure`.
CREATE TABLE place_rates (
    key TEXT PRIMARY KEY,
    count REAL NOT NULL,
    updated_at REAL NOT NULL
) WITHOUT ROWID;

-- Flap damping is per place now (events.chave_local), not per connection.
DROP TABLE opening_alerts;
