"""The whole simulated ISP, wired for the demo, the end-to-end tests and the benchmarks.

    sim = DemoSimulator("data/demo", customers=2000, seed=1).start()
    env = sim.env(port=5010)          # the environment the app needs (IXC_URL, TELEGRAM_*, ...)
    sim.scenario.trigger("fiber_cut") # an incident now (recovers by itself later)
    sim.messages()                    # what customers and the NOC would have received
    sim.stop()

One `Network` is the truth for every fake: `FakeIXC` serves its ERP side, one `OltEmulator`
per OLT (Huawei or ZTE, SSH on 127.0.0.1) serves its ONU side live, the OLT management system
fake gets an alert per incident (`simulator.scenario.Incidents`). Telegram, WhatsApp Cloud and
the HSM provider are sinks that record what they accept; the original monitor's three middleware
services run too (their URLs in `sim.urls`, not used by the app's env).

The network lives on wall time: the scheduler thread calls `network.advance()` every `TICK`
seconds, so background churn (on by default, at any size), session ends after the
concentrator's keepalive lag and returns show up as they happen. The dispatch block
(`HSM_COOLDOWN_HOURS`) keeps its real default of 24 h.

A small control endpoint (`sim.control_url`) lets other processes drive the simulator:
`POST /incidente {"tipo": "fiber_cut"}`, `GET /incidentes`, `GET /mensagens`. A running demo
registers itself (`sim.register(port)`) as `<data_dir>/demos/<port>.json`, so
`python -m simulator trigger <tipo> [--port N]` finds it (`read_control_url`) while others
run too. Every server listens on a free port, so two demos never collide.
"""

from __future__ import annotations

import html
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Self

from flask import Flask, jsonify, request
from flask.typing import ResponseReturnValue

from simulator.alarms import AlarmTargets, NetworkAlarms, olt_address
from simulator.httpserver import FakeHTTPServer
from simulator.ixc import FakeIXC
from simulator.middleware import FakeAlertMiddleware, FakeIxcMiddleware, FakeOltMiddleware
from simulator.network import DEFAULT_CHURN, REALISTIC, Network, Timing, format_local
from simulator.olt_cli import OltEmulator
from simulator.olt_system import OltSystemFake
from simulator.ports import free_port
from simulator.scenario import CALM_GAP, DEFAULT_THRESHOLD, KINDS, Incidents, Scenario, Scheduler
from simulator.snmp_agent import SnmpAgent, olt_rows
from simulator.telegram import FakeTelegram
from simulator.whatsapp import FakeHSMProvider, FakeWhatsAppCloud

log = logging.getLogger(__name__)

NOC_CHAT_ID = "-1001234567890"
NOC_WHATSAPP = "5511900000001"
PHONE_NUMBER_ID = "109876543210"
OLT_USER = "noc"
OLT_PASSWORD = "noc-demo"  # the fake OLTs' password, only on 127.0.0.1
REGISTRY_DIR = "demos"
# What the customer reads for each template: a real provider holds these texts and the app
# sends only the template's id or name and the customer's name.
TEMPLATE_TEXTS = {
    "114": (
        "Olá, {nome}! Identificamos um rompimento de fibra que afeta a internet na sua região. "
        "Nossa equipe técnica já está trabalhando no reparo e avisaremos quando normalizar."
    ),
    "116": (
        "Olá, {nome}! Uma falta de energia na sua região está afetando a internet. "
        "Assim que a energia voltar, sua conexão deve normalizar sozinha."
    ),
    "120": "Olá, {nome}! Sua conexão foi normalizada. Obrigado pela paciência.",
}
TEMPLATE_TEXTS["queda_massiva_los"] = TEMPLATE_TEXTS["114"]
TEMPLATE_TEXTS["queda_massiva_energia"] = TEMPLATE_TEXTS["116"]
TICK = 1.0


def _stamp(epoch: float) -> str:
    """Local time of São Paulo, like every time the ERP and the app show."""
    return format_local(epoch)


def _quietly(action: Callable[[], None]) -> None:
    try:
        action()
    except Exception:
        log.exception("simulador: falha ao parar um servidor")


class _TimedHSM(FakeHSMProvider):
    """The HSM provider fake, also noting when each message arrived."""

    def _record(self, body: dict[str, Any]) -> int:
        return super()._record({**body, "_recebido_em": time.time()})


class _TimedCloud(FakeWhatsAppCloud):
    """The WhatsApp Cloud fake, also noting when each message arrived."""

    def _record(self, body: dict[str, Any]) -> int:
        return super()._record({**body, "_recebido_em": time.time()})


class _OnuFeed:
    """The live ONU list of one OLT for its emulator, rebuilt only when the network changed."""

    def __init__(self, network: Network, olt_id: str) -> None:
        self.network = network
        self.customers = [c for c in network.customers if c.olt.id == olt_id]
        self._version = -1
        self._views: list[dict[str, Any]] = []

    def __call__(self) -> list[dict[str, Any]]:
        with self.network.lock:
            if self._version != self.network.version:
                self._views = [self.network.onu_view(c) for c in self.customers]
                self._version = self.network.version
            return self._views


class DemoSimulator:
    """Every fake of the demo, started and stopped together. See the module docstring.

    `DemoSimulator(data_dir, *, customers=2000, seed=1, scenario=True, random_incidents=True,
    churn=True, timing=REALISTIC, threshold=4, alarms=True)`: with `scenario=False` no incident starts by
    itself (tests trigger them explicitly); `random_incidents=False` keeps the scripted fiber
    cut and drops the random incidents that follow it (a calm one every 8-15 minutes); `churn` is the network's background churn; `timing` how long
    changes take to show (`INSTANT` for tests about formats); `threshold` is the app's
    `THRESHOLD_OFFLINE_CLIENTS` and the smallest place a triggered incident picks; `alarms`:
    the OLTs send traps and syslog alarms and the concentrators accounting to the app's
    receivers (on free ports), each OLT's tables served over SNMP for the app to read.
    """

    def __init__(
        self,
        data_dir: str | Path = "data/demo",
        *,
        customers: int = 2000,
        seed: int = 1,
        scenario: bool = True,
        random_incidents: bool = True,
        churn: bool = True,
        timing: Timing = REALISTIC,
        threshold: int = DEFAULT_THRESHOLD,
        alarms: bool = True,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.threshold = threshold
        self.network = Network(
            customers=customers, seed=seed, churn=DEFAULT_CHURN if churn else None, timing=timing
        )
        self.ixc = FakeIXC(self.network, user="8", token="d3m0a1b2c3d4e5f6")
        self.telegram = FakeTelegram()
        self.whatsapp = _TimedCloud()
        self.hsm = _TimedHSM()
        self.olt_system = OltSystemFake("demo", "demo-secret", page_size=50)
        self.middlewares = {
            "ixc": FakeIxcMiddleware(self.network),
            "alerta": FakeAlertMiddleware(),
            "olt": FakeOltMiddleware(self.network),
        }
        self.olts = {
            olt.id: OltEmulator(
                olt.vendor,
                _OnuFeed(self.network, olt.id),
                model=olt.model,
                username=OLT_USER,
                password=OLT_PASSWORD,
                hostname=olt.name,
            )
            for olt in self.network.olts
        }
        self.alarm_targets = (
            AlarmTargets.on_free_ports("demo-radius-" + os.urandom(4).hex(), "demo-traps") if alarms else None
        )
        self.snmp_agent = SnmpAgent(
            {
                f"ler-{olt.id}": olt_rows(olt.vendor, olt.model, _OnuFeed(self.network, olt.id))
                for olt in self.network.olts
            }
        )
        self.incidents = Incidents(self.network, self.olt_system, seed, threshold)
        self.scheduler = Scheduler()
        self.scenario = Scenario(
            self.incidents,
            self.scheduler,
            seed=seed,
            first_after=20.0 if scenario else None,
            gap=CALM_GAP if scenario and random_incidents else None,
        )
        self.control = FakeHTTPServer(self._control_app())
        self._stoppers: list[Callable[[], None]] = []
        self._registration: Path | None = None

    # --- lifecycle -------------------------------------------------------------------

    @property
    def control_url(self) -> str:
        return self.control.url

    @property
    def urls(self) -> dict[str, str]:
        """Where each fake listens (for people and for the startup banner)."""
        return {
            "ixc": self.ixc.url,
            "olt_system": self.olt_system.url,
            "telegram": self.telegram.url,
            "whatsapp_cloud": self.whatsapp.api_url,
            "hsm": self.hsm.send_url,
            "middleware_ixc": self.middlewares["ixc"].url,
            "middleware_alerta": self.middlewares["alerta"].url,
            "middleware_olt": self.middlewares["olt"].url,
            "controle": self.control.url,
        }

    def start(self) -> Self:
        """Start every server, write the OLT inventory, then the scenario; stop all on failure."""
        logging.getLogger("paramiko").setLevel(logging.WARNING)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        try:
            servers: list[Any] = [self.ixc, self.telegram, self.whatsapp, self.hsm, self.olt_system]
            servers += [*self.middlewares.values(), *self.olts.values(), self.control]
            for server in servers:
                server.start()
                self._stoppers.append(server.stop)
            self.scheduler.start()
            self._stoppers.append(self.scheduler.stop)
            self.scheduler.every(TICK, self.network.advance)
            if self.alarm_targets is not None:
                self.snmp_agent.start()
                self._stoppers.append(self.snmp_agent.stop)
                sender = NetworkAlarms(self.alarm_targets).start()
                self.network.alarms = sender
                self._stoppers.append(sender.stop)
            self.write_inventory()
            self.scenario.start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop everything started, newest first; safe to call twice."""
        stoppers, self._stoppers = self._stoppers, []
        threads = [threading.Thread(target=_quietly, args=(stopper,), daemon=True) for stopper in stoppers]
        for thread in threads:  # in parallel: each HTTP server takes up to half a second to notice
            thread.start()
        for thread in threads:
            thread.join(timeout=10)
        self.inventory_path.unlink(missing_ok=True)
        if self._registration is not None:
            self._registration.unlink(missing_ok=True)
            self._registration = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- what the app needs ----------------------------------------------------------

    @property
    def inventory_path(self) -> Path:
        """`<data_dir>/olts-<pid>-<id>.json`: one per running simulator."""
        return self.data_dir / f"olts-{os.getpid()}-{id(self):x}.json"

    def write_inventory(self) -> Path:
        """The OLT inventory JSON pointing at the SSH emulators (one entry per OLT)."""
        entries = [
            {
                "id_transmissor": olt.id,
                "name": olt.name,
                "vendor": olt.vendor,
                "model": olt.model,
                "host": "127.0.0.1",
                "port": self.olts[olt.id].port,
                "username": OLT_USER,
                "password": OLT_PASSWORD,
                **self._alarm_fields(olt.id),
            }
            for olt in self.network.olts
        ]
        self.inventory_path.write_text(json.dumps(entries, indent=2), encoding="utf-8")
        return self.inventory_path

    def _alarm_fields(self, olt_id: str) -> dict[str, Any]:
        """An OLT's inventory fields for the receivers: where its alarms come from, their
        community, and where its tables are read."""
        if self.alarm_targets is None:
            return {}
        return {
            "addresses": [olt_address(olt_id)],
            "snmp_community": self.alarm_targets.community,
            "snmp_read_community": f"ler-{olt_id}",
            "snmp_port": self.snmp_agent.port,
        }

    def alarm_env(self) -> dict[str, str]:
        """The receivers' settings: on 127.0.0.1 at the ports the devices send to."""
        targets = self.alarm_targets
        if targets is None:
            return {}
        return targets.receiver_env(olt.concentrador for olt in self.network.olts)

    def env(self, *, port: int, database_path: str | Path | None = None) -> dict[str, str]:
        """The environment for `load_settings(env, demo=True, ...)`: every setting points at a fake."""
        database = database_path or self.data_dir / f"demo-{port}.db"
        return {
            "IXC_URL": self.ixc.url,
            "IXC_TOKEN": self.ixc.token_as_shown,
            "IXC_PAGE_SIZE": "1000",
            "CHECK_INTERVAL": "15",
            "FLAP_WINDOW": "600",
            "THRESHOLD_OFFLINE_CLIENTS": str(self.threshold),
            "DATABASE_PATH": str(database),
            "LOG_DIR": str(self.data_dir / "logs"),
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "APP_ENV": "development",
            "SECRET_KEY": "demo-" + os.urandom(8).hex(),
            "OLT_INVENTORY": str(self.inventory_path),
            "OLT_TIMEOUT": "10",
            "CAUSE_TIMEOUT": "20",
            "TELEGRAM_BOT_TOKEN": self.telegram.token,
            "TELEGRAM_CHAT_ID": NOC_CHAT_ID,
            "TELEGRAM_API_URL": self.telegram.url,
            "TELEGRAM_PER_CHAT_PER_MINUTE": "60",
            "WHATSAPP_TOKEN": self.whatsapp.token,
            "WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
            "WHATSAPP_API_URL": self.whatsapp.api_url,
            "WHATSAPP_NOC_NUMBERS": NOC_WHATSAPP,
            "URL_HSM": self.hsm.send_url,
            "TOKEN_HSM": self.hsm.token,
            "API_BASE_URL": self.olt_system.url,
            "API_AUTH_URL": self.olt_system.auth_url,
            "API_USER": self.olt_system.username,
            "API_PASS": self.olt_system.password,
            "DEMO_CONTROL_URL": self.control.url,
            **self.alarm_env(),
        }

    # --- what was sent ---------------------------------------------------------------

    def messages(self) -> dict[str, list[dict[str, Any]]]:
        """`{"clientes": [{telefone, nome, template, canal, texto, quando}], "noc": [{canal, texto,
        quando}]}`, newest first; `texto` of a customer is what the template reads to them."""
        clients: list[dict[str, Any]] = []
        noc: list[dict[str, Any]] = []
        for body in list(self.hsm.messages):
            contact = body.get("contato") or {}
            clients.append(
                {
                    "telefone": str(contact.get("telefone", "")),
                    "nome": str(contact.get("nome", "")),
                    "template": str(body.get("hsm", "")),
                    "canal": "hsm",
                    "texto": customer_text(str(body.get("hsm", "")), str(contact.get("nome", ""))),
                    "quando": _stamp(body.get("_recebido_em", 0)),
                }
            )
        for body in list(self.whatsapp.messages):
            template = body.get("template") or {}
            texts = [
                p.get("text", "") for c in template.get("components", []) for p in c.get("parameters", [])
            ]
            when = _stamp(body.get("_recebido_em", 0))
            if body.get("to") == NOC_WHATSAPP:
                noc.append({"canal": "whatsapp", "texto": " | ".join(texts), "quando": when})
            else:
                nome = texts[0] if texts else ""
                clients.append(
                    {
                        "telefone": str(body.get("to", "")),
                        "nome": nome,
                        "template": str(template.get("name", "")),
                        "canal": "whatsapp_cloud",
                        "texto": customer_text(str(template.get("name", "")), nome),
                        "quando": when,
                    }
                )
        offset = time.time() - time.monotonic()
        for message in list(self.telegram.messages):
            noc.append(
                {
                    "canal": "telegram",
                    "texto": telegram_as_seen(message["text"]),
                    "quando": _stamp(message["at"] + offset),
                }
            )
        for messages in (clients, noc):  # newest first; within one second, the later one first
            messages.reverse()
            messages.sort(key=lambda m: m["quando"], reverse=True)
        return {"clientes": clients, "noc": noc}

    # --- control endpoint ------------------------------------------------------------

    def register(self, port: int) -> Path:
        """Record this demo, served on `port`, among the running ones (removed by `stop`)."""
        entry = {
            "porta": port,
            "painel": f"http://127.0.0.1:{port}/",
            "url": self.control.url,
            "pid": os.getpid(),
            "iniciado_em": _stamp(time.time()),
        }
        folder = self.data_dir / REGISTRY_DIR
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{port}.json"
        path.write_text(json.dumps(entry), encoding="utf-8")
        self._registration = path
        return path

    def _control_app(self) -> Flask:
        app = Flask("simulador_controle")

        @app.post("/incidente")
        def incident() -> ResponseReturnValue:
            body = request.get_json(silent=True) or {}
            kind = str(body.get("tipo") or request.args.get("tipo") or "fiber_cut")
            if kind not in KINDS:
                return jsonify({"erro": f"tipo desconhecido {kind!r}; use um de: {', '.join(KINDS)}"}), 400
            try:
                return jsonify(self.scenario.trigger(kind)), 201
            except LookupError as exc:
                return jsonify({"erro": f"não há onde provocar {kind}: {exc}"}), 409

        @app.get("/incidentes")
        def incidents() -> ResponseReturnValue:
            return jsonify({"incidentes": self.incidents.listing()})

        @app.post("/normalizar")
        def recover_all() -> ResponseReturnValue:
            self.incidents.recover_all()
            return jsonify({"status": "ok"})

        @app.get("/mensagens")
        def messages() -> ResponseReturnValue:
            return jsonify(self.messages())

        return app


def customer_text(template: str, name: str) -> str:
    """The text a customer reads for `template`, with their first name."""
    text = TEMPLATE_TEXTS.get(template)
    if text is None:
        return f"(modelo {template}: texto não cadastrado no simulador)"
    return text.format(nome=name.split(" ")[0] if name.strip() else "cliente")


def telegram_as_seen(text: str) -> str:
    """A Telegram HTML message as the chat shows it: tags applied (dropped), entities decoded."""
    return html.unescape(_TAG.sub("", text))


_TAG = re.compile(r"</?(?:b|i|u|s|code|pre|a)(?:\s[^<>]*)?>")


def running_demos(data_dir: str | Path = "data/demo") -> list[dict[str, Any]]:
    """The demos registered under `data_dir` whose process still runs, by port; entries
    left by a demo that died without stopping are removed."""
    found = []
    for path in sorted((Path(data_dir) / REGISTRY_DIR).glob("*.json")):
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
            alive = _process_alive(int(entry["pid"]))
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if alive:
            found.append(entry)
        else:
            path.unlink(missing_ok=True)
    return sorted(found, key=lambda e: int(e["porta"]))


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_control_url(data_dir: str | Path = "data/demo", port: int | None = None) -> str:
    """The control URL of the demo to drive: `DEMO_CONTROL_URL`, else the running demo served
    on `port`, else the only running one. LookupError (in Portuguese, listing the running
    demos) when there is none, when `port` is not among them, or when several run and no
    port was given."""
    url = os.environ.get("DEMO_CONTROL_URL", "").strip()
    if url:
        return url.rstrip("/")
    demos = running_demos(data_dir)
    if not demos:
        raise LookupError(
            "Nenhuma demonstração rodando: inicie com python monitor_service.py --demo "
            "(ou defina DEMO_CONTROL_URL)."
        )
    listed = "; ".join(
        f"porta {d['porta']} (painel {d['painel']}, iniciada em {d['iniciado_em']})" for d in demos
    )
    if port is not None:
        chosen = [d for d in demos if int(d["porta"]) == port]
        if not chosen:
            raise LookupError(f"Nenhuma demonstração na porta {port}. Rodando: {listed}.")
        return str(chosen[0]["url"])
    if len(demos) > 1:
        raise LookupError(f"Há {len(demos)} demonstrações rodando: {listed}. Escolha uma com --port.")
    return str(demos[0]["url"])


def _fresh_database(path: Path) -> None:
    """A demo always starts from an empty database (the network is generated anew)."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _create_admin(settings: Any) -> None:
    """The demo admin, through the dashboard's accounts module."""
    from outage.db import open_database
    from outage.web.auth import ensure_first_admin

    conn = open_database(settings.database_path)  # the users tables come with the migrations
    try:
        ensure_first_admin(conn, settings, time.time())
    finally:
        conn.close()


def demo_settings(sim: DemoSimulator, port: int) -> tuple[Any, dict[str, str]]:
    """Validated `Settings` for the demo (fresh database, admin credentials) and the env used."""
    import secrets

    from outage.adapters.channels.registry import CHANNELS
    from outage.adapters.erp import ERPS
    from outage.config import ConfigError, load_settings

    env = sim.env(port=port)
    env["ADMIN_USERNAME"] = "admin"
    env["ADMIN_PASSWORD"] = "demo-" + secrets.token_hex(4)
    env["MONITOR_API_TOKEN"] = "demo-api-" + secrets.token_hex(8)
    _fresh_database(Path(env["DATABASE_PATH"]))
    settings, problems = load_settings(env, demo=True, channels=CHANNELS, erps=ERPS)
    if problems:
        raise ConfigError(problems)
    return settings, env


def _banner(sim: DemoSimulator, env: dict[str, str]) -> str:
    url = f"http://127.0.0.1:{env['PORT']}"
    return "\n".join(
        [
            "",
            "=" * 72,
            " Monitor de quedas em massa — DEMONSTRAÇÃO (ISP simulado, nada real é contatado)",
            "=" * 72,
            f"  Painel:   {url}/",
            f"  Usuário:  {env['ADMIN_USERNAME']}",
            f"  Senha:    {env['ADMIN_PASSWORD']}",
            f"  API:      curl -H 'Authorization: Bearer {env['MONITOR_API_TOKEN']}' {url}/eventos/ativos",
            f"  Mensagens que clientes e NOC receberiam: {url}/api/demo/mensagens",
            f"  Rede simulada: {len(sim.network.customers)} clientes em {len(sim.network.olts)} OLTs",
            f"  Ciclo a cada {env['CHECK_INTERVAL']} s; um rompimento de fibra acontece em ~20 s.",
            "  Provocar um incidente agora: python -m simulator trigger fiber_cut",
            "    (tipos: fiber_cut, power_outage, cto_failure, concentrator_failure, churn, flap)",
            f"  Banco da demonstração: {env['DATABASE_PATH']}",
            "  Ctrl-C encerra tudo.",
            "=" * 72,
            "",
        ]
    )


def run_demo(
    serve: Callable[[Any], int],
    *,
    port: int | None = None,
    customers: int = 2000,
    seed: int = 1,
    data_dir: str | Path = "data/demo",
    random_incidents: bool = True,
) -> int:
    """Start the simulator, build the demo settings, print how to get in, and `serve` until a signal.

    `port`: the app's port as given (0: any free one; None: PORT from the environment or 5010
    when free, else any free one).
    """
    from outage.logs import setup_logging

    wanted = port if port is not None else int(os.environ.get("PORT") or 5010)
    chosen = wanted if port else free_port(wanted)  # --port 0: any free port
    print(f"Iniciando o ISP simulado ({customers} clientes)...", flush=True)
    with DemoSimulator(data_dir, customers=customers, seed=seed, random_incidents=random_incidents) as sim:
        settings, env = demo_settings(sim, chosen)
        sim.register(chosen)
        setup_logging(settings.log_dir, settings.log_level)
        logging.getLogger("paramiko.transport").setLevel(logging.CRITICAL)  # the OLT emulators' disconnects
        _create_admin(settings)
        print(_banner(sim, env), flush=True)
        result = serve(settings)
        print("Demonstração encerrada.", flush=True)
        return result
