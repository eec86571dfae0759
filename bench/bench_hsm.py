"""HSM dispatch console benchmarks, against the fakes on 127.0.0.1.

    python -m bench.bench_hsm            500 customers per details page, 1,000 per approval
    python -m bench.bench_hsm --quick    the same sizes (each scenario takes about a second)

- details of an incident with 500 customers whose lookups take 100 ms each: from the ERP
  (`cliente` read in batches with `oper: IN`), target <= 1.0 s; through the OLT system's
  per-client route at the default concurrency (32), target <= 2.0 s;
- approval of an incident with 1,000 customers, provider answering in 50 ms: time from
  the approval until the provider accepted all of them (`dispatch.approve` + the fast path
  of `outage.hsm.delivery`, as `POST /api/acao` runs them), target <= 3 s, zero duplicates
  counted at the fake.
"""

from __future__ import annotations

import json
import math
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from flask import request

from bench import br, figure

LOOKUP_DELAY = 0.1
PROVIDER_DELAY = 0.05


API_TOKEN = "bench-token"
AUTH = {"Authorization": f"Bearer {API_TOKEN}"}


def _settings(tmp: str, **env: str) -> Any:
    from outage.adapters.channels.registry import CHANNELS
    from outage.adapters.erp import ERPS
    from outage.config import load_settings

    base = {
        "DATABASE_PATH": str(Path(tmp) / "hsm.db"),
        "SECRET_KEY": "k" * 32,
        "IXC_URL": "http://127.0.0.1:9",
        "MONITOR_API_TOKEN": API_TOKEN,
    }
    base.update({"IXC_TOKEN": "8:fake-token", **env})
    settings, problems = load_settings(base, channels=CHANNELS, erps=ERPS)
    assert not problems, problems
    return settings


def _add_event(db_path: str, total: int) -> str:
    from outage.core.model import Subscriber, pack_members
    from outage.db import open_database

    subs = [
        Subscriber(login=f"c{n}", conexao="OLT-A", id=str(n), id_cliente=str(10_000 + n))
        for n in range(total)
    ]
    event_id = str(uuid.uuid4())
    conn = open_database(db_path)
    now = time.time()
    conn.execute(
        "INSERT INTO events (id, conexao, timestamp, status, logins, motivo, atualizado_em, clientes)"
        " VALUES (?, 'OLT-A', ?, 'ativo', ?, 'loss', ?, ?)",
        (event_id, now, json.dumps([s.login for s in subs]), now, pack_members((s, now) for s in subs)),
    )
    conn.close()
    return "ev-" + event_id


def details_from_erp(total: int = 500) -> float:
    """Seconds for `/api/detalhes` of a monitor event whose customers come from the ERP."""
    from outage.web.app import create_app
    from simulator.ixc import FakeIXC

    records = [
        {
            "id": str(10_000 + n),
            "razao": f"Cliente {n}",
            "telefone_celular": f"119{n:08d}",
            "fone": "",
            "whatsapp": "",
        }
        for n in range(total)
    ]
    with tempfile.TemporaryDirectory() as tmp, FakeIXC(page_delay=LOOKUP_DELAY) as ixc:
        ixc.set_records("cliente", records)
        settings = _settings(tmp, IXC_URL=ixc.url, IXC_TOKEN=ixc.token_as_shown)
        client = create_app(settings).test_client()
        incident = _add_event(settings.database_path, total)
        started = time.perf_counter()
        body = json.loads(
            client.get(f"/api/detalhes/{incident}", headers=AUTH).data
        )  # the app's loader caps requests
        elapsed = time.perf_counter() - started
    assert sum(1 for c in body["clientes"] if c["contact"]) == total, "contatos faltando"
    return elapsed


def _serve_olt(total: int, ready: Any, stop: Any) -> None:
    """The OLT system fake in its own process (a remote system does not share our CPU)."""
    from simulator.olt_system import OltSystemFake

    fake = OltSystemFake()

    @fake.app.before_request
    def slow_client_route() -> None:
        if request.path.startswith("/api/v2/client/"):
            time.sleep(LOOKUP_DELAY)

    with fake:
        devices = []
        for n in range(total):
            fake.set_client(n, f"Cliente {n}", f"119{n:08d}")
            devices.append({"client_id": n, "sn_onu": f"HWTC{n:08X}", "client_name": "", "status": "offline"})
        alert = fake.add_alert({"alert_type": "pon_loss", "olt_name": "OLT-A", "slot_pon": "0/1/1"}, devices)
        ready.put((fake.url, fake.auth_url, fake.username, fake.password, alert))
        stop.wait()


def details_from_olt_system(total: int = 500) -> float:
    """Seconds for `/api/detalhes` of an OLT alert: one client lookup (100 ms) per customer."""
    import multiprocessing

    from outage.web.app import create_app

    context = multiprocessing.get_context("fork")
    ready, stop = context.Queue(), context.Event()
    server = context.Process(target=_serve_olt, args=(total, ready, stop), daemon=True)
    server.start()
    try:
        url, auth_url, user, password, alert = ready.get(timeout=30)
        with tempfile.TemporaryDirectory() as tmp:
            settings = _settings(
                tmp, API_BASE_URL=url, API_AUTH_URL=auth_url, API_USER=user, API_PASS=password
            )
            client = create_app(settings).test_client()
            client.get("/api/incidentes", headers=AUTH)  # log in first, as an open console would have
            started = time.perf_counter()
            body = json.loads(client.get(f"/api/detalhes/{alert}", headers=AUTH).data)
            elapsed = time.perf_counter() - started
    finally:
        stop.set()
        server.join(timeout=10)
    assert sum(1 for c in body["clientes"] if c["contact"]) == total, "contatos faltando"
    return elapsed


def _serve_hsm(ready: Any, stop: Any, phones: Any) -> None:
    """The HSM provider fake in its own process; sends back the phones it accepted."""
    from simulator.whatsapp import FakeHSMProvider

    with FakeHSMProvider(latency=PROVIDER_DELAY) as hsm:
        ready.put((hsm.send_url, hsm.token))
        stop.wait()
        phones.put([m["contato"]["telefone"] for m in hsm.messages])


def approval(total: int = 1000) -> dict[str, Any]:
    """Approval of `total` customers with distinct phones; provider answering in 50 ms."""
    import multiprocessing

    from outage.db import open_database
    from outage.hsm import dispatch
    from outage.hsm.delivery import deliver_rows
    from outage.hsm.enrich import Customer
    from outage.hsm.incidents import Incident

    context = multiprocessing.get_context("fork")
    ready, stop, accepted = context.Queue(), context.Event(), context.Queue()
    server = context.Process(target=_serve_hsm, args=(ready, stop, accepted), daemon=True)
    server.start()
    send_url, token = ready.get(timeout=30)
    with tempfile.TemporaryDirectory() as tmp:
        settings = _settings(tmp, URL_HSM=send_url, TOKEN_HSM=token)
        conn = open_database(settings.database_path)
        incident = Incident("1", "olt", "LOS", "OLT-A", "0/1/1", total, time.time(), "", "")
        customers = [
            Customer(str(n), "", f"Cliente {n}", "offline", "0/1/1", f"55119{n:08d}") for n in range(total)
        ]
        template = dispatch.choose_template(settings, incident, None)
        started = time.perf_counter()
        outcome = dispatch.approve(conn, settings, incident, customers, template, "bench", "", time.time())
        report = deliver_rows(settings.database_path, settings, outcome.row_ids, max_wait=30.0)
        elapsed = time.perf_counter() - started
        again = dispatch.approve(conn, settings, incident, customers, template, "bench", "", time.time())
        conn.close()
    stop.set()
    phones = accepted.get(timeout=30)
    server.join(timeout=10)
    return {
        "segundos": elapsed,
        "aceitos": len(phones),
        "duplicados": len(phones) - len(set(phones)),
        "falhas": report.failed,
        "segunda_aprovacao_repetida": again.repetido,
    }


def rig_baseline(total: int = 1000, concurrency: int = 32) -> float:
    """Seconds for bare POSTs of `total` messages to the same fake provider, `concurrency` at once.

    The floor the measuring rig itself sets on this machine (Python client + Python fake):
    the approval cannot hand messages over faster than plain requests can.
    """
    import multiprocessing
    from concurrent.futures import ThreadPoolExecutor

    from outage.http import new_session

    context = multiprocessing.get_context("fork")
    ready, stop, accepted = context.Queue(), context.Event(), context.Queue()
    server = context.Process(target=_serve_hsm, args=(ready, stop, accepted), daemon=True)
    server.start()
    send_url, token = ready.get(timeout=30)
    session = new_session(concurrency)
    body = {
        "cod_conta": 1,
        "hsm": 114,
        "tipo_envio": 2,
        "contato": {"nome": "x", "telefone": "5511900000000"},
    }

    def post(_: int) -> int:
        return session.post(send_url, json=body, headers={"Authorization": token}, timeout=10).status_code

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(post, range(total)))
    elapsed = time.perf_counter() - started
    stop.set()
    accepted.get(timeout=30)
    server.join(timeout=10)
    return elapsed


def run(quick: bool) -> dict[str, Any]:
    """Both sizes are the issue's; `quick` changes nothing (the whole run takes ~5 s)."""
    erp = details_from_erp()
    olt = details_from_olt_system()
    sent = approval()
    from outage.hsm.delivery import CONCURRENCY

    rig = rig_baseline(concurrency=CONCURRENCY)
    olt_floor = math.ceil(500 / 32) * LOOKUP_DELAY
    figures = [
        figure(
            "detalhes de 500 clientes via ERP (lotes IN, 100 ms/consulta)", erp, "s", "<= 1.0 s", erp <= 1.0
        ),
        figure(
            "detalhes de 500 clientes via sistema de OLT (100 ms/consulta)",
            olt,
            "s",
            "<= 2.0 s",
            olt <= 2.0,
            f"mín. {br(olt_floor, 1)} s (16 rodadas de 32 consultas)",
        ),
        figure(
            "aprovação de 1.000 clientes até o provedor (50 ms/mensagem)",
            sent["segundos"],
            "s",
            "<= 3.0 s",
            sent["segundos"] <= 3.0 and sent["aceitos"] == 1000,
            f"mín. {br(max(1000 / CONCURRENCY * 0.05, rig), 2)} s (só POSTs ao mesmo simulador, {CONCURRENCY} de cada vez:"
            f" {br(rig, 2)} s)",
        ),
        figure(
            "mensagens duplicadas no provedor", sent["duplicados"], "mensagens", "0", sent["duplicados"] == 0
        ),
    ]
    return {"figuras": figures, "detalhes": {"aprovacao": sent}}


if __name__ == "__main__":
    print(json.dumps(run(quick="--quick" in sys.argv), indent=2, ensure_ascii=False))
