"""The copy of a SQLite installation into PostgreSQL (`--copy-database`), timed.

    python -m bench.bench_copy                     200,000 offline logins, 50,000 events and cycles
    python -m bench.bench_copy --quick             a tenth of that
    python -m bench.bench_copy postgresql://...    into that (empty) database instead

Without an address the copy goes into a throwaway local PostgreSQL server (the tests' own,
`simulator/postgres.py`). `fill` writes rows in every table of the schema; the tests use it too.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import br, figure

FULL = {"offline": 200_000, "events": 50_000, "cycles": 50_000}
QUICK = {"offline": 20_000, "events": 5_000, "cycles": 5_000}
TARGET_ROWS_PER_S = 50_000


def fill(
    conn: sqlite3.Connection, *, offline: int, events: int, cycles: int, now: float | None = None
) -> None:
    """Rows in every table of the schema, as the monitor writes them: `offline` logins offline,
    `events` incidents (each with a reconnection, a number, an alert and a WhatsApp status),
    `cycles` poll cycles, and a few rows in each other table, all before `now` (default: the
    wall clock). One transaction."""
    now = time.time() if now is None else now
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO offline_state (login, data, dropped_at) VALUES (?, ?, ?)",
        ((f"cliente{n}", json.dumps(_subscriber(n)), now - n) for n in range(offline)),
    )
    conn.executemany(
        "INSERT INTO events (id, conexao, timestamp, status, logins, motivo, local_detalhe, atualizado_em,"
        " resolvido_em, anunciados, clientes) VALUES (?, ?, ?, ?, ?, 'energia', ?, ?, ?, ?, ?)",
        (
            (
                f"ev{n}",
                f"OLT-{n % 40}",
                now - 600 * n,
                "ativo" if n % 50 == 0 else "resolvido",
                json.dumps([f"cliente{n * 4 + i}" for i in range(4)]),
                json.dumps({"olt": f"OLT-{n % 40}", "pon": f"0/1/{n % 16}"}),
                now - 600 * n + 30,
                None if n % 50 == 0 else now - 600 * n + 1800,
                4,
                ";".join(f"cliente{n * 4 + i}|{1000 + n}" for i in range(4)),
            )
            for n in range(events)
        ),
    )
    conn.executemany(
        "INSERT INTO event_reconnections (event_id, login, reconectou_em) VALUES (?, ?, ?)",
        ((f"ev{n}", f"cliente{n * 4}", now - 600 * n + 900) for n in range(events)),
    )
    conn.executemany(
        "INSERT INTO incident_numbers (event_id) VALUES (?)", ((f"ev{n}",) for n in range(events))
    )
    conn.executemany(
        "INSERT INTO outbox (channel, kind, event_id, payload, status, attempts, next_attempt_at, created_at,"
        " sent_at, provider_message_id) VALUES (?, 'abertura', ?, ?, 'enviado', 1, ?, ?, ?, ?)",
        (
            (
                "telegram",
                f"ev{n}",
                json.dumps({"texto": f"Queda em OLT-{n % 40}: 4 clientes"}),
                t,
                t,
                t + 1,
                f"m{n}",
            )
            for n in range(events)
            for t in [now - 600 * n]
        ),
    )
    conn.executemany(
        "INSERT INTO whatsapp_statuses (wamid, recipient, status, at, received_at, reference)"
        " VALUES (?, ?, 'delivered', ?, ?, ?)",
        ((f"wamid.{n}", f"5511{n:09d}", now - n, now - n + 1, f"m{n}") for n in range(events)),
    )
    conn.executemany(
        "INSERT INTO cycles (started_at, finished_at, ok, holder, offline, novas_quedas, duracao)"
        " VALUES (?, ?, 1, 'host:1', ?, ?, ?)",
        ((now - 300 * n, now - 300 * n + 2.5, 1000 + n % 97, n % 3, 2.5) for n in range(cycles)),
    )
    _fill_the_rest(conn, now)
    conn.execute("COMMIT")


def _subscriber(n: int) -> dict[str, Any]:
    return {
        "login": f"cliente{n}",
        "conexao": f"OLT-{n % 40}",
        "id": str(n),
        "id_cliente": str(100_000 + n),
        "id_contrato": str(200_000 + n),
        "concentrador": "10.0.0.1",
        "interface_transmissao": f"0/1/{n % 16}",
        "id_caixa_ftth": str(n % 500),
        "onu_mac": f"48575443{n:08X}",
        "ultima_conexao_final": "2026-11-22 03:10:00",
    }


def _fill_the_rest(conn: sqlite3.Connection, now: float) -> None:
    """A few rows in each of the other tables."""
    conn.execute("INSERT INTO meta (key, value) VALUES ('baseline_done', '1'), ('state_version', '7')")
    conn.execute(
        "INSERT INTO held_alerts (event_id, kind, motivo, created_at) VALUES ('ev1', 'abertura', 'causa', ?)",
        (now,),
    )
    conn.execute("INSERT INTO place_rates (key, count, updated_at) VALUES ('olt:OLT-1', 0.25, ?)", (now,))
    conn.execute(
        "INSERT INTO place_population (chave, logins) VALUES ('olt:OLT-1', 5000), ('pon:OLT-1/0/1/1', 64)"
    )
    conn.execute(
        "INSERT INTO alarm_drops (login, caiu_em, causa) VALUES ('cliente3', ?, 'dying gasp')", (now,)
    )
    conn.execute(
        "INSERT INTO leases (name, holder, expires_at, acquired_at, ttl) VALUES ('poller', 'host:1', ?, ?, 30)",
        (now - 3600, now - 7200),
    )
    conn.execute(
        "INSERT INTO poller_heartbeat (name, holder, boot_id, cycle_started_wall, running, last_ok_wall,"
        " last_ok_cycle) VALUES ('poller', 'host:1', 'boot-1', ?, 0, ?, 12)",
        (now, now),
    )
    conn.execute(
        "INSERT INTO alarm_health (name, relatorio, gravado_em, gravado_mono, boot_id)"
        " VALUES ('alarmes', '{\"traps\": 3}', ?, 12.5, 'boot-1')",
        (now,),
    )
    conn.execute(
        "INSERT INTO hsm_decisions (incident_id, fonte, acao, usuario, decidido_em, chave, tipo, snapshot,"
        " enfileirados) VALUES ('-1', 'monitor', 'aprovar', 'ana', ?, 'olt:OLT-1', 'massiva', '{\"clientes\": 2}', 2),"
        " ('-2', 'monitor', 'negar', 'ana', ?, 'olt:OLT-2', 'massiva', '{}', 0)",
        (now, now),
    )
    conn.execute(
        "INSERT INTO hsm_recipients (decision_id, client_id, nome, telefone, resultado, outbox_id)"
        " VALUES (1, '1001', 'Maria', '5511999990001', 'enfileirado', 1), (1, '1002', 'José', '', 'sem telefone', NULL)"
    )
    conn.execute(
        "INSERT INTO hsm_cooldowns (chave, ate, decision_id) VALUES ('olt:OLT-1', ?, 1)", (now + 3600,)
    )
    conn.execute(
        "INSERT INTO hsm_phone_notices (telefone, ultimo_aviso, decision_id) VALUES ('5511999990001', ?, 1)",
        (now,),
    )
    conn.execute(
        "INSERT INTO users (username, password_hash, role, created_at, last_login_at)"
        " VALUES ('ana', 'scrypt:x', 'admin', ?, ?), ('bia', 'scrypt:y', 'leitura', ?, NULL)",
        (now, now, now),
    )
    conn.execute(
        "INSERT INTO sessions (id, username, csrf, address, created_at, last_seen_at, visto_mono, boot)"
        " VALUES ('s1', 'ana', 'c1', '10.0.0.9', ?, ?, 40.5, 'boot-1')",
        (now, now),
    )
    conn.execute(
        "INSERT INTO login_throttle (key, failures, last_at, blocked_until) VALUES ('ip:10.0.0.7', 3, ?, ?)",
        (now, now + 60),
    )
    conn.execute(
        "INSERT INTO login_known_addresses (username, address, last_login_at) VALUES ('ana', '10.0.0.9', ?)",
        (now,),
    )


def copy_speed(url: str, sizes: dict[str, int]) -> dict[str, Any]:
    """Fill a new SQLite file with `sizes`, copy it into the empty database at `url`; the rows
    and seconds of the copy (migrations included)."""
    from outage.db import connect_sqlite, migrate
    from outage.storage.copy import copy_database

    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "monitor.db")
        conn = connect_sqlite(path)
        migrate(conn)
        fill(conn, **sizes)
        conn.close()
        result = copy_database(path, url, time.time())
    return {"linhas": result.rows, "segundos": round(result.seconds, 2), "tabelas": dict(result.tables)}


def run(quick: bool, url: str | None = None) -> dict[str, Any]:
    sizes = QUICK if quick else FULL
    if url is not None:
        measured = copy_speed(url, sizes)
    else:
        from simulator.postgres import throwaway_cluster

        with throwaway_cluster() as cluster:
            measured = copy_speed(cluster.url(), sizes)
    speed = measured["linhas"] / measured["segundos"]
    name = (
        f"cópia SQLite → PostgreSQL ({br(sizes['offline'])} offline, {br(sizes['events'])} eventos,"
        f" {br(sizes['cycles'])} ciclos; {br(measured['linhas'])} linhas)"
    )
    return {
        "figuras": [
            figure(name, speed, "linhas/s", f">= {br(TARGET_ROWS_PER_S)}", speed >= TARGET_ROWS_PER_S),
            figure("tempo da cópia (com as migrações)", measured["segundos"], "s", "—", True),
        ],
        "detalhes": measured,
    }


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--quick"]
    report = run("--quick" in sys.argv, args[0] if args else None)
    print(json.dumps(report, indent=2, ensure_ascii=False))
