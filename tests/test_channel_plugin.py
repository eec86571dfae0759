"""A channel or an ERP is its module and one line in its table: one declared here reads and
checks its own settings (no field of `Settings`, nothing in `outage/config.py`) and is
validated, built, redacted and shown on the Saúde page; the channel, over a real local HTTP
server, is also sent through and chosen by the dispatch console, with nothing else changed."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from outage import checks
from outage.adapters import erp
from outage.adapters.channels import registry
from outage.adapters.channels.base import ChannelKind, CustomerNotices, HealthLine, Receipt, own_settings
from outage.adapters.channels.messages import render_text
from outage.adapters.erp.base import ErpKind, Observation
from outage.alerts.sender import Sender
from outage.config import Reader, Settings, load_settings
from outage.db import open_database, transaction
from outage.hsm.dispatch import DispatchRefused, choose_template
from outage.hsm.incidents import Incident
from outage.http import TransportError, call, redact
from outage.storage.outbox import Alert, enqueue
from outage.web.app import create_app

TOKEN = "pager-token-0123456789"
ADMIN = {"ADMIN_USERNAME": "chefe", "ADMIN_PASSWORD": "senha-do-admin-1"}
ERP = {"IXC_URL": "http://127.0.0.1:9", "IXC_USER": "1", "IXC_TOKEN": "x"}


class PagerServer:
    """A paging gateway on 127.0.0.1: `POST /enviar` with `Authorization: <token>` and
    `{"para", "texto"}`, answering `{"id": n}`; anything else is 401."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                ok = self.path == "/enviar" and self.headers.get("Authorization") == TOKEN
                if ok:
                    server.received.append(body)
                answer = json.dumps({"id": len(server.received)} if ok else {"erro": "token"}).encode()
                self.send_response(200 if ok else 401)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


class PagerChannel:
    provider = "pager"
    target_interval = 0.0
    provider_interval = 0.0

    def __init__(self, url: str, token: str, session: requests.Session | None) -> None:
        self._url = f"{url}/enviar"
        self._headers = {"Authorization": token}
        self._session = session

    def send(self, target: str, kind: str, payload: Mapping[str, Any]) -> Receipt:
        text = str(payload.get("template")) if kind == "hsm_cliente" else render_text(kind, payload)
        response = call(
            "POST",
            self._url,
            session=self._session,
            timeout=5,
            retries=0,
            json={"para": target, "texto": text},
            headers=self._headers,
        )
        if response.status_code != 200:
            raise TransportError(f"pager recusou (HTTP {response.status_code})", permanent=True)
        return Receipt(provider_message_id=str(response.json()["id"]))


@dataclass(frozen=True)
class PagerSettings:
    """What a new channel's module declares: its own settings, their defaults leaving it off."""

    url: str = ""
    token: str = field(default="", repr=False)
    number: str = ""
    template_los: str = "aviso_fibra"
    template_power: str = "aviso_energia"


def read_pager(r: Reader) -> PagerSettings:
    """Its settings read with the configuration's reader, its problems appended to it."""
    s = PagerSettings(
        url=r.url("PAGER_URL"),
        token=r.text("PAGER_TOKEN", ""),
        number=r.text("PAGER_NUMBER", ""),
        template_los=r.text("PAGER_LOS", "aviso_fibra"),
        template_power=r.text("PAGER_POWER", "aviso_energia"),
    )
    if s.token and len(s.token) < 16:
        r.problems.append("PAGER_TOKEN curto demais.")
    return s


def pager_settings(settings: Settings) -> PagerSettings:
    return own_settings(settings, "pager", PagerSettings)


def pager_warnings(settings: Settings) -> list[str]:
    return (
        ["PAGER_URL sem HTTPS: use só na rede local."]
        if pager_settings(settings).url.startswith("http:")
        else []
    )


def pager_templates(settings: Settings) -> dict[str, str]:
    s = pager_settings(settings)
    return {"LOS": s.template_los, "POWER": s.template_power, "CONCENTRADOR": ""}


PAGER = ChannelKind(
    name="pager",
    label="Pager do plantão",
    settings=("PAGER_URL", "PAGER_TOKEN", "PAGER_NUMBER", "PAGER_LOS", "PAGER_POWER"),
    read=read_pager,
    setup="PAGER_URL e PAGER_TOKEN",
    enabled=lambda settings: bool(pager_settings(settings).url and pager_settings(settings).token),
    build=lambda settings, session: PagerChannel(
        pager_settings(settings).url, pager_settings(settings).token, session
    ),
    destinations=lambda settings: [n for n in (pager_settings(settings).number,) if n],
    health=lambda settings: (
        HealthLine(True, "1 número do plantão") if pager_settings(settings).number else None
    ),
    warnings=pager_warnings,
    secrets=lambda settings: (pager_settings(settings).token,),
    customers=CustomerNotices(
        "pager do plantão",
        pager_templates,
        {"LOS": "PAGER_LOS", "POWER": "PAGER_POWER", "CONCENTRADOR": "PAGER_CONCENTRADOR"},
    ),
    phone_targets=True,
)


@pytest.fixture
def pager(monkeypatch: pytest.MonkeyPatch) -> Iterator[PagerServer]:
    """The pager as the only channel: its module and its line in the table, nothing else."""
    server = PagerServer()
    monkeypatch.setattr(registry, "CHANNELS", (PAGER,))
    yield server
    server.httpd.shutdown()


def pager_env(server: PagerServer, **changes: str) -> dict[str, str]:
    return {"PAGER_URL": server.url, "PAGER_TOKEN": TOKEN, "PAGER_NUMBER": "5511912345678", **changes}


def test_an_added_channel_reads_its_own_settings_and_is_validated_and_warned_about(
    pager: PagerServer, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(**ERP, **pager_env(pager))
    assert pager_settings(settings) == PagerSettings(pager.url, TOKEN, "5511912345678")
    assert checks.channel_warnings(settings) == ["PAGER_URL sem HTTPS: use só na rede local."]
    _, problems = load_settings(
        {**ERP, "SECRET_KEY": "k" * 32, **pager_env(pager, PAGER_TOKEN="curto")},
        channels=registry.CHANNELS,
        erps=erp.ERPS,
    )
    assert problems == ["PAGER_TOKEN curto demais."]


def test_a_channels_problem_is_listed_with_those_of_the_main_configuration(pager: PagerServer) -> None:
    env = {**ERP, "CHECK_INTERVAL": "cinco", **pager_env(pager, PAGER_URL="pager.local", PAGER_TOKEN="curto")}
    _, problems = load_settings(env, channels=registry.CHANNELS, erps=erp.ERPS)
    text = "\n".join(problems)
    for expected in (
        "CHECK_INTERVAL",
        "SECRET_KEY",
        "PAGER_URL='pager.local' não é uma URL válida",
        "PAGER_TOKEN curto demais.",
    ):
        assert expected in text, problems


def test_an_added_channel_gets_every_noc_alert_through_the_sender(
    pager: PagerServer, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(**ERP, **pager_env(pager))
    conn = open_database(settings.database)
    alert = Alert("abertura", {"conexao": "OLT-NORTE", "total": 12, "motivo": "energia", "logins": []})
    with transaction(conn):
        enqueue(conn, [alert], registry.configured_channels(settings), 1_732_256_000.0)
    stats = Sender(settings.database, settings).deliver_due(max_wait=5)
    assert stats.sent == 1
    [message] = pager.received
    assert message["para"] == "5511912345678" and "OLT-NORTE" in message["texto"]
    row = conn.execute("SELECT channel, status, provider_message_id FROM outbox").fetchone()
    assert tuple(row) == ("pager:5511912345678", "enviado", "1")
    assert registry.shown_target("pager", "5511912345678") == "pager:5511*****5678"


def test_an_added_channel_has_its_row_on_the_health_page_and_its_secret_redacted(
    pager: PagerServer, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(**ERP, **ADMIN, **pager_env(pager))
    app = create_app(replace(settings, session_cookie_secure="false"))
    assert redact(f"resposta do pager: {TOKEN}") == "resposta do pager: ***"
    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/entrar").get_data(as_text=True))
    assert token is not None
    client.post(
        "/entrar", data={"usuario": "chefe", "senha": ADMIN["ADMIN_PASSWORD"], "csrf_token": token[1]}
    )
    components = {c["nome"]: c for c in client.get("/api/saude").get_json()["componentes"]}
    assert components["Pager do plantão"] == {
        "nome": "Pager do plantão",
        "estado": "ok",
        "detalhe": "1 número do plantão",
    }
    customers = components["Avisos aos clientes"]
    assert customers["detalhe"] == "pager do plantão, modelos aviso_fibra (LOS) e aviso_energia (energia)"


def test_an_added_channel_that_reaches_customers_sends_the_consoles_notices(
    pager: PagerServer, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(**ERP, **pager_env(pager, PAGER_POWER="aviso_de_energia"))
    incident = Incident("ev-1", "monitor", "POWER", "OLT-NORTE", "0/1/0", 40, 1_732_256_000.0, "energia", "")
    template = choose_template(settings, incident, None)
    assert (template.channel, template.name) == ("pager", "aviso_de_energia")
    with pytest.raises(DispatchRefused, match="PAGER_URL e PAGER_TOKEN"):
        choose_template(Settings(), incident, None)  # without its settings it is off


@dataclass(frozen=True)
class ListSettings:
    """What a new ERP's module declares: its own settings, their defaults leaving it off."""

    url: str = ""
    token: str = field(default="", repr=False)


def read_list(r: Reader) -> ListSettings:
    """Its settings read with the configuration's reader, its problems appended to it."""
    s = ListSettings(url=r.url("LISTA_URL"), token=r.text("LISTA_TOKEN", ""))
    if s.token and len(s.token) < 16:
        r.problems.append("LISTA_TOKEN curto demais.")
    return s


def list_settings(settings: Settings) -> ListSettings:
    return erp.base.own_settings(settings, "lista", ListSettings)


class ListReader:
    """An ERP that answers from a list: what a new ERP module's reader would do over HTTP."""

    contacts_unavailable = "ERP de teste sem cadastro"

    def __init__(self, settings: Settings) -> None:
        own = list_settings(settings)
        self.url, self.token, self.timeout = own.url, own.token, settings.erp_timeout

    def read(self, candidates: Mapping[str, str]) -> Observation:
        return Observation(offline={})

    def read_population(self, each: Any = None) -> dict[str, int]:
        return {}

    def read_contacts(self, client_ids: Any) -> dict[str, Any]:
        return {}


LIST_ERP = ErpKind(
    name="lista",
    label="ERP de teste",
    settings=("LISTA_URL", "LISTA_TOKEN"),
    read=read_list,
    setup="LISTA_URL e LISTA_TOKEN (ERP de teste)",
    enabled=lambda settings: bool(list_settings(settings).url),
    build=ListReader,
    secrets=lambda settings: (list_settings(settings).token,),
)
LIST_ENV = {"LISTA_URL": "http://127.0.0.1:9/lista", "LISTA_TOKEN": "segredo-do-erp-de-teste"}


@pytest.fixture
def list_erp(monkeypatch: pytest.MonkeyPatch) -> None:
    """The listed ERP as the only one: its module and its line in the table, nothing else."""
    monkeypatch.setattr(erp, "ERPS", (LIST_ERP,))


@pytest.mark.usefixtures("list_erp")
def test_an_added_erp_reads_its_own_settings_and_is_validated(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(**LIST_ENV, IXC_TIMEOUT="7")
    assert list_settings(settings) == ListSettings(LIST_ENV["LISTA_URL"], LIST_ENV["LISTA_TOKEN"])
    reader = erp.build_reader(settings)
    assert isinstance(reader, ListReader)
    assert (reader.url, reader.token, reader.timeout) == (LIST_ENV["LISTA_URL"], LIST_ENV["LISTA_TOKEN"], 7.0)
    _, problems = load_settings(
        {"SECRET_KEY": "k" * 32, **LIST_ENV, "LISTA_TOKEN": "curto"},
        channels=registry.CHANNELS,
        erps=erp.ERPS,
    )
    assert problems == ["LISTA_TOKEN curto demais."]


@pytest.mark.usefixtures("list_erp")
def test_an_erps_problem_is_listed_with_those_of_the_main_configuration() -> None:
    env = {"CHECK_INTERVAL": "cinco", "LISTA_URL": "lista.local", "LISTA_TOKEN": "curto"}
    _, problems = load_settings(env, channels=registry.CHANNELS, erps=erp.ERPS)
    text = "\n".join(problems)
    for expected in (
        "CHECK_INTERVAL",
        "SECRET_KEY",
        "LISTA_URL='lista.local' não é uma URL válida",
        "LISTA_TOKEN curto demais.",
        "Nenhuma fonte do ERP configurada: defina LISTA_URL e LISTA_TOKEN (ERP de teste). Para conhecer "
        "o sistema sem ERP, rode: python monitor_service.py --demo",
    ):
        assert expected in text, problems


@pytest.mark.usefixtures("list_erp")
def test_an_added_erp_is_chosen_built_and_named_on_the_health_page(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(**LIST_ENV, **ADMIN)
    assert erp.configured_erp(settings) is LIST_ERP and isinstance(erp.build_reader(settings), ListReader)
    app = create_app(replace(settings, session_cookie_secure="false"))
    assert redact("segredo-do-erp-de-teste") == "***"
    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/entrar").get_data(as_text=True))
    assert token is not None
    client.post(
        "/entrar", data={"usuario": "chefe", "senha": ADMIN["ADMIN_PASSWORD"], "csrf_token": token[1]}
    )
    components = {c["nome"]: c for c in client.get("/api/saude").get_json()["componentes"]}
    assert components["ERP"]["detalhe"] == "ERP de teste: nenhum ciclo ainda"


def test_the_web_process_masks_every_channels_secrets_the_hsm_cookie_too(make_settings) -> None:
    cookie = "PHPSESSID=cookie-do-provedor-hsm-42"
    settings = make_settings(
        IXC_URL="http://127.0.0.1:9",
        IXC_USER="1",
        IXC_TOKEN="x",
        URL_HSM="http://127.0.0.1:9/enviar",
        TOKEN_HSM="t" * 20,
        HSM_COOKIE=cookie,
    )
    create_app(settings)
    assert redact(f"o provedor respondeu com {cookie}") == "o provedor respondeu com ***"
