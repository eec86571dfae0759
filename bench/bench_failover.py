"""Failover: two instances of the monitor on one database, the active one killed with SIGKILL
over and over while outages happen in the ERP and an operator approves customer notices.

    python -m bench.bench_failover                 20 kills, the production lease (20 s): ~12 minutes
    python -m bench.bench_failover --quick         2 kills
    python -m bench.bench_failover --kills 5 --database-url postgresql://...

Both instances are `python monitor_service.py` as operators run it (`INSTANCE_NAME` a and b,
each on its own port) against the simulator's fakes in this process: the ERP (`FakeIXC`,
with background churn: single logins dropping and coming back in places of their own), the
NOC's Telegram and the HSM provider. The database is a shared SQLite file unless a
PostgreSQL URL is given (`DATABASE_URL` for both instances).

Each round ends the previous outage in the ERP, starts a new one (an OLT of 8 customers),
and kills the active instance (the one `/healthz` says is `ativa`) at one of three moments,
in turn: seconds after the outage appears in the ERP (its cycle may be running); while its
console hands the round's notices to the provider (the operator approves through it, and
approves again through the restarted instance); or right after the operator approved
through the standby's console. The killed instance is started again at once, so there are
always two.

Measured from the database, not from logs: failover time (the kill -> the first cycle a
surviving process started, from `cycles`) and the lease takeover (`leases.acquired_at`).
From the fakes: every outage's opening and normalization told to the NOC once (lost: never;
doubled: more than once without the repeat line a resend after a crash carries), and no
phone given the same notice twice (a notice the kill left uncertain is never resent by
itself). Targets: 0 lost, 0 doubled, failover <= 30 s (`FAILOVER_GOAL`).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import requests

from bench import br, figure
from outage.service import LEASE_TTL, TAKEOVER_MARGIN
from simulator.ixc import FakeIXC
from simulator.ports import free_port
from simulator.telegram import TOKEN as TELEGRAM_TOKEN
from simulator.telegram import FakeTelegram
from simulator.whatsapp import HSM_TOKEN, FakeHSMProvider

ROOT = Path(__file__).resolve().parent.parent
API_TOKEN = "failover-token"
AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
CHECK_INTERVAL = 5
FAILOVER_GOAL = 30.0  # seconds from the active's death to the standby's first cycle
CUSTOMERS_PER_OUTAGE = 8
CHURN_LOGINS = 60
CHURN_OFFLINE = 3  # churn logins offline at any time, each alone in its place
MOMENTS = ("logo após a queda", "durante a aprovação", "após a aprovação")
REPEAT_LINE = "Reenvio após uma falha do monitor"
TZ = ZoneInfo("America/Sao_Paulo")


def erp_now() -> str:
    return datetime.now(TZ).strftime("%Y-%m-%d %H:%M:%S")


def login_record(number: int, place: str, online: bool, ended: str, client: int) -> dict[str, str]:
    """A `radusuarios` row alone in `place` (its OLT, CTO, concentrator and transmitter)."""
    return {
        "id": str(number),
        "ativo": "S",
        "online": "S" if online else "N",
        "login": f"cliente{number}",
        "id_cliente": str(client),
        "id_contrato": str(20000 + number),
        "conexao": place,
        "concentrador": f"10.{number // 250}.{number % 250}.1" if place.startswith("CHURN") else "10.0.0.1",
        "id_transmissor": place,
        "interface_transmissao": "0/1/0",
        "id_caixa_ftth": place,
        "ftth_porta": str(number % 16 + 1),
        "onu_mac": f"48575443{number:08X}",
        "modelo_tranmissor": "HW",
        "ultima_conexao_inicial": "2026-01-01 08:00:00",
        "ultima_conexao_final": ended,
        "motivo_desconexao": "",
        "count_desconexao": "0",
        "latitude": "",
        "longitude": "",
        "ultima_atualizacao": "2026-01-01 03:00:00",
    }


def outage_name(round_number: int) -> str:
    return f"OLT-{round_number:02d}"


def phone_of(customer: int) -> tuple[str, str]:
    """A customer's phone as the ERP holds it and as the provider receives it."""
    return f"(11) 9{customer:04d}-{customer:04d}", f"55119{customer:04d}{customer:04d}"


class Erp:
    """The fake ERP's records: outages by OLT, and churn that never makes an incident."""

    def __init__(self, ixc: FakeIXC, seed: int) -> None:
        self.ixc = ixc
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.down: dict[int, str] = {}  # outage round -> when its logins went down
        self.rounds: list[int] = []
        self.churn_down: dict[int, str] = {}
        self.ended: dict[int, str] = {n: "2026-01-01 07:00:00" for n in range(CHURN_LOGINS)}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._churn, name="churn", daemon=True)

    def customers(self, round_number: int) -> range:
        first = 1 + round_number * CUSTOMERS_PER_OUTAGE
        return range(first, first + CUSTOMERS_PER_OUTAGE)

    def start_outage(self, round_number: int) -> None:
        with self.lock:
            self.rounds.append(round_number)
            self.down[round_number] = erp_now()
            self.publish()

    def end_outage(self, round_number: int) -> None:
        with self.lock:
            self.down.pop(round_number, None)
            self.publish()

    def publish(self) -> None:
        rows = []
        clients = []
        for n in range(CHURN_LOGINS):
            rows.append(login_record(n, f"CHURN-{n:02d}", n not in self.churn_down, self.ended[n], 9000 + n))
        for r in self.rounds:
            for customer in self.customers(r):
                ended = self.down.get(r, "2026-01-01 07:00:00")
                rows.append(
                    login_record(1000 + customer, outage_name(r), r not in self.down, ended, 5000 + customer)
                )
                clients.append(
                    {
                        "id": str(5000 + customer),
                        "razao": f"Cliente {customer}",
                        "telefone_celular": phone_of(customer)[0],
                    }
                )
        self.ixc.set_records("radusuarios", rows)
        self.ixc.set_records("cliente", clients)

    def _churn(self) -> None:
        """One churn login changes every second: at most `CHURN_OFFLINE` down, each in its own place."""
        while not self.stop.wait(1.0):
            with self.lock:
                if len(self.churn_down) >= CHURN_OFFLINE or (self.churn_down and self.random.random() < 0.5):
                    back = self.random.choice(sorted(self.churn_down))
                    del self.churn_down[back]
                else:
                    fell = self.random.choice([n for n in range(CHURN_LOGINS) if n not in self.churn_down])
                    self.churn_down[fell] = self.ended[fell] = erp_now()
                self.publish()


class Database:
    """The shared database as the harness reads it: SQLite at a path, or PostgreSQL at a URL."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = dict(env)

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        url = self.env.get("DATABASE_URL")
        if url:
            import psycopg

            with psycopg.connect(url) as server:
                return [tuple(row) for row in server.execute(sql).fetchall()]
        conn = sqlite3.connect(self.env["DATABASE_PATH"], timeout=10)
        try:
            return conn.execute(sql).fetchall()
        finally:
            conn.close()

    def first_cycle_after(self, moment: float, killed: str) -> float | None:
        """When the first cycle a process other than `killed` started after `moment` began."""
        found = self.rows(
            f"SELECT MIN(started_at) FROM cycles WHERE started_at > {moment!r} AND holder != '{killed}'"  # noqa: S608
        )
        return None if not found or found[0][0] is None else float(found[0][0])

    def lease(self) -> tuple[str, float] | None:
        found = self.rows("SELECT holder, acquired_at FROM leases WHERE name = 'poller'")
        return None if not found else (str(found[0][0]), float(found[0][1]))


@dataclass
class Instance:
    """One `python monitor_service.py` process and how to start it again."""

    name: str
    port: int
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, str(ROOT / "monitor_service.py")],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=out,
            )

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def health(self) -> dict[str, Any]:
        return dict(requests.get(f"{self.base}/healthz", headers=AUTH, timeout=5).json())


def wait_until(condition: Callable[[], Any], timeout: float, what: str, step: float = 0.2) -> Any:
    """`condition()`'s first truthy value; AssertionError naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            found = condition()
        except (requests.RequestException, sqlite3.Error, OSError, KeyError):
            found = None
        if found:
            return found
        time.sleep(step)
    raise AssertionError(f"tempo esgotado esperando {what}")


@dataclass
class Round:
    number: int
    moment: str
    killed: str = ""
    failover_s: float = 0.0
    takeover_s: float = 0.0


@dataclass
class Harness:
    """The fakes, the two instances and the rounds; `run()` returns the measured figures."""

    kills: int
    database: dict[str, str]
    workdir: Path
    seed: int = 1
    ixc: FakeIXC = field(default_factory=FakeIXC)
    telegram: FakeTelegram = field(default_factory=FakeTelegram)
    provider: FakeHSMProvider = field(default_factory=lambda: FakeHSMProvider(latency=0.02))
    rounds: list[Round] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.erp = Erp(self.ixc, self.seed)
        self.db = Database(self.database)
        self.random = random.Random(self.seed)
        self.instances: list[Instance] = []

    def env(self, name: str, port: int) -> dict[str, str]:
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.workdir),
            **self.database,
            "INSTANCE_NAME": name,
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "LOG_DIR": str(self.workdir / f"logs-{name}"),
            "SECRET_KEY": "f" * 40,
            "CHECK_INTERVAL": str(CHECK_INTERVAL),
            "THRESHOLD_OFFLINE_CLIENTS": "4",
            "IXC_URL": self.ixc.url,
            "IXC_TOKEN": self.ixc.token_as_shown,
            "TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN,
            "TELEGRAM_CHAT_ID": "-1001",
            "TELEGRAM_API_URL": self.telegram.url,
            "URL_HSM": self.provider.send_url,
            "TOKEN_HSM": HSM_TOKEN,
            "MONITOR_API_TOKEN": API_TOKEN,
            "OLT_INVENTORY": str(self.workdir / "olts.json"),
        }

    @contextmanager
    def running(self) -> Iterator[Harness]:
        with self.ixc, self.telegram, self.provider:
            self.erp.publish()
            self.erp.thread.start()
            try:
                for name in ("a", "b"):
                    port = free_port()
                    instance = Instance(
                        name, port, self.env(name, port), self.workdir / f"instance-{name}.log"
                    )
                    instance.start()
                    self.instances.append(instance)
                    wait_until(instance.health, 60, f"a instância {name} responder")
                yield self
            finally:
                self.erp.stop.set()
                for instance in self.instances:
                    instance.stop()

    def active(self) -> tuple[Instance, Instance]:
        """(the active instance, the standby) as their `/healthz` tell it."""

        def found() -> tuple[Instance, Instance] | None:
            roles = {i.name: i.health()["instancia"]["papel"] for i in self.instances}
            actives = [i for i in self.instances if roles[i.name] == "ativa"]
            if len(actives) != 1:
                return None
            return actives[0], next(i for i in self.instances if i is not actives[0])

        return wait_until(found, 3 * LEASE_TTL, "uma instância ativa")

    def incident(self, round_number: int, via: Instance) -> str:
        """The id (`ev-<event>`) of the round's incident, as `via`'s console lists it."""
        name = outage_name(round_number)

        def listed() -> str | None:
            for incident in requests.get(f"{via.base}/api/incidentes", headers=AUTH, timeout=5).json():
                if name in str(incident.get("olt", "")).split():
                    return str(incident["incidente"])
            return None

        return wait_until(listed, 3 * LEASE_TTL + 4 * CHECK_INTERVAL, f"o incidente da {name}")

    def approve(self, incident: str, via: Instance) -> dict[str, Any]:
        answer = requests.post(
            f"{via.base}/api/acao",
            json={"id": incident, "acao": "aprovar", "template": "LOS"},
            headers=AUTH,
            timeout=60,
        )
        return dict(answer.json())

    def play(self, round_number: int) -> Round:
        """One round: the previous outage ends, a new one starts, the active instance is killed."""
        moment = MOMENTS[(round_number - 1) % len(MOMENTS)]
        played = Round(round_number, moment)
        self.erp.end_outage(round_number - 1)
        active, standby = self.active()
        played.killed = active.health()["instancia"]["esta"]
        self.erp.start_outage(round_number)
        if moment == MOMENTS[0]:
            time.sleep(self.random.uniform(0, CHECK_INTERVAL))
            killed_at = self._kill(active)
            self.approve(self.incident(round_number, standby), standby)
        elif moment == MOMENTS[1]:
            incident = self.incident(round_number, active)
            before = len(self.provider.messages)
            clicked = threading.Thread(target=self._approve_quietly, args=(incident, active), daemon=True)
            clicked.start()
            wait_until(lambda: len(self.provider.messages) > before, 30, "o primeiro aviso", step=0.005)
            killed_at = self._kill(active)
            clicked.join(30)
            wait_until(active.health, 60, "a instância reiniciada responder")
            self.approve(incident, active)  # the operator clicks again, on the restarted instance
        else:
            self.approve(self.incident(round_number, standby), standby)
            killed_at = self._kill(active)
        first = wait_until(
            lambda: self.db.first_cycle_after(killed_at, played.killed), 4 * LEASE_TTL, "o failover"
        )
        played.failover_s = first - killed_at
        lease = self.db.lease()
        played.takeover_s = lease[1] - killed_at if lease and lease[0] != played.killed else played.failover_s
        self.rounds.append(played)
        print(
            f"rodada {round_number} ({moment}): {played.killed} morta; primeiro ciclo da outra em "
            f"{br(played.failover_s, 1)} s",
            file=sys.stderr,
            flush=True,
        )
        return played

    def _approve_quietly(self, incident: str, via: Instance) -> None:
        with contextlib.suppress(requests.RequestException):  # it died under the request: clicked again
            self.approve(incident, via)

    def _kill(self, instance: Instance) -> float:
        killed_at = time.time()
        instance.kill()
        instance.start()
        return killed_at

    def settle(self) -> None:
        """The last outage ends; wait until every NOC alert and notice has been dealt with."""
        self.erp.end_outage(self.kills)
        last = outage_name(self.kills)
        wait_until(
            lambda: any("Normalizado" in t and f"<b>{last}</b>" in t for t in self.telegram.texts()),
            4 * LEASE_TTL,
            "a normalização da última queda",
        )
        wait_until(
            lambda: not self.db.rows("SELECT 1 FROM outbox WHERE status IN ('pendente', 'enviando')"),
            5 * LEASE_TTL,
            "a fila de envio esvaziar",
        )

    def score(self) -> dict[str, Any]:
        texts = self.telegram.texts()
        told: dict[str, dict[str, int]] = {}
        for kind, marker in (("abertura", "Queda massiva"), ("normalizacao", "Normalizado")):
            for r in range(1, self.kills + 1):
                about = [t for t in texts if marker in t and f"<b>{outage_name(r)}</b>" in t]
                plain = sum(REPEAT_LINE not in t for t in about)
                told[f"{kind} {outage_name(r)}"] = {"vezes": plain, "reenvios_marcados": len(about) - plain}
        phones = Counter(m["contato"]["telefone"] for m in self.provider.messages)
        uncertain = self.db.rows("SELECT COUNT(*) FROM outbox WHERE status = 'incerto'")[0][0]
        expected = {phone_of(c)[1] for r in range(1, self.kills + 1) for c in self.erp.customers(r)}
        false_events = self.db.rows("SELECT COUNT(*) FROM events WHERE conexao LIKE 'CHURN%'")[0][0]
        failovers = [r.failover_s for r in self.rounds]
        return {
            "mortes": len(self.rounds),
            "banco": "PostgreSQL" if self.database.get("DATABASE_URL") else "SQLite",
            "failover_s": {
                "min": round(min(failovers), 1),
                "mediana": round(statistics.median(failovers), 1),
                "max": round(max(failovers), 1),
            },
            "assumir_lease_s_max": round(max(r.takeover_s for r in self.rounds), 1),
            "alertas_perdidos": sum(1 for v in told.values() if v["vezes"] + v["reenvios_marcados"] == 0),
            "alertas_dobrados": sum(max(0, v["vezes"] - 1) for v in told.values()),
            "reenvios_marcados": sum(v["reenvios_marcados"] for v in told.values()),
            "avisos_dobrados": sum(1 for n in phones.values() if n > 1),
            "avisos_recebidos": sum(phones.values()),
            "avisos_incertos": int(uncertain),
            "avisos_esperados": len(expected),
            "avisos_fora_do_esperado": len(set(phones) - expected),
            "incidentes_falsos": int(false_events),
            "rodadas": [r.__dict__ for r in self.rounds],
            "alertas": told,
        }


def run_failover(kills: int, database: Mapping[str, str] | None = None, seed: int = 1) -> dict[str, Any]:
    """Play `kills` rounds on `database` (instances' env: DATABASE_PATH or DATABASE_URL; default
    a SQLite file in a temporary folder) and return the score."""
    with tempfile.TemporaryDirectory(prefix="failover-") as tmp:
        workdir = Path(tmp)
        env = dict(database or {"DATABASE_PATH": str(workdir / "monitor.db")})
        harness = Harness(kills, env, workdir, seed)
        with harness.running():
            for number in range(1, kills + 1):
                harness.play(number)
            harness.settle()
            return harness.score()


def failover_bound() -> float:
    """The slowest failover allowed: `FAILOVER_GOAL`, which the design keeps with room to spare
    (the lease's term after the last renewal, the standby's retry margin, one interval)."""
    assert LEASE_TTL + TAKEOVER_MARGIN + CHECK_INTERVAL < FAILOVER_GOAL
    return FAILOVER_GOAL


def figures(result: dict[str, Any]) -> list[dict[str, Any]]:
    kills = f"{result['mortes']} kill -9 da ativa ({result['banco']})"
    times = result["failover_s"]
    bound = failover_bound()
    return [
        figure(
            f"failover, {kills}: da morte ao 1º ciclo da outra (mediana)",
            times["mediana"],
            "s",
            f"<= {br(bound)}",
            times["max"] <= bound,
            f"mín. {br(times['min'], 1)} s, máx. {br(times['max'], 1)} s; lease {br(LEASE_TTL)} s",
        ),
        figure(
            f"failover, {kills}: alertas ao NOC perdidos / dobrados",
            result["alertas_perdidos"] + result["alertas_dobrados"],
            "",
            "0 / 0",
            result["alertas_perdidos"] == 0 and result["alertas_dobrados"] == 0,
            f"{result['alertas_perdidos']} perdidos, {result['alertas_dobrados']} dobrados; "
            f"{result['reenvios_marcados']} reenvios marcados como tal",
        ),
        figure(
            f"failover, {kills}: avisos a clientes dobrados",
            result["avisos_dobrados"],
            "",
            "0",
            result["avisos_dobrados"] == 0 and result["avisos_fora_do_esperado"] == 0,
            f"{result['avisos_recebidos']} recebidos, {result['avisos_incertos']} incertos, "
            f"{result['avisos_esperados']} clientes",
        ),
        figure(
            f"failover, {kills}: incidentes falsos do churn",
            result["incidentes_falsos"],
            "",
            "0",
            result["incidentes_falsos"] == 0,
        ),
    ]


def run(quick: bool) -> dict[str, Any]:
    url = os.environ.get("FAILOVER_DATABASE_URL", "")
    result = run_failover(2 if quick else 20, {"DATABASE_URL": url} if url else None)
    return {"figuras": figures(result), "detalhes": result}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.bench_failover", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="2 mortes em vez de 20")
    parser.add_argument("--kills", type=int, default=None, help="quantas vezes matar a ativa")
    parser.add_argument(
        "--database-url", default="", help="PostgreSQL compartilhado (padrão: um arquivo SQLite)"
    )
    args = parser.parse_args(argv)
    kills = args.kills or (2 if args.quick else 20)
    result = run_failover(kills, {"DATABASE_URL": args.database_url} if args.database_url else None)
    from bench.run import table

    print(json.dumps(result, indent=2, ensure_ascii=False))
    print(table(figures(result)))
    return 0 if all(row["ok"] for row in figures(result)) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
