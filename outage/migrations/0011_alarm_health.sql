-- What the alarm receivers counted, written by the process that polls and read by every web
-- process (`/healthz`, Saúde): one JSON report, with when it was written.
CREATE TABLE alarm_health (
    name TEXT PRIMARY KEY,
    relatorio TEXT NOT NULL,
    gravado_em REAL NOT NULL,
    gravado_mono REAL NOT NULL,
    boot_id TEXT NOT NULL
);
