"""Configuration: read once from the environment (and `.env`), typed, validated at once.

`load_settings()` never raises for bad values: it returns the settings it could build and
the list of every problem found, each with a hint, so the process can refuse to start
listing all of them (`python monitor_service.py --check-config`).

Each issue of the project owns one section below; add a field to your own section only.

A `.env` copied from either original project works: the names their code reads are
aliases of ours (`ORIGINAL_NAMES`, plus `IXCSOFT_HOST` and `API_TOKEN` below), and
`Settings.notes` says which one was used (printed at start-up and by `--check-config`).
Setting both names of one value to different values is a problem to fix.

`API_TOKEN` means what the original dispatch console meant -- the initial Bearer token of
the OLT management system -- when the `.env` is that console's (it names `BASE_URL_API`,
`HSM_URL` or `HSM_TOKEN`) or when `MONITOR_API_TOKEN` is set. Otherwise it is read, with a
note, as this API's own token (its old name here): `MONITOR_API_TOKEN` is the new one.

Each message channel and each ERP source reads and checks its own settings (`Section`): the
caller passes the channels (`outage.adapters.channels.registry.CHANNELS`) and the ERPs
(`outage.adapters.erp.ERPS`), and `Settings.channels` and `Settings.erps` hold what each
read, by its name (`own_section` gives it back). This module knows no channel and no ERP:
only that an ERP source must be configured (the first configured in the table is read), and
the ERP's time zone and request timeout, which every source uses.
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, TypeVar
from urllib.parse import urlparse

from outage import alarm_settings
from outage.core.localtime import zone

DEFAULT_SECRET_KEY = "troque-esta-chave"  # noqa: S105 - the placeholder we refuse
_INSTANCE_NAME = re.compile(r"[A-Za-z0-9._-]{1,63}")  # never a ":", the holder ids' separator

# Names the original projects' code reads -> ours (the original monitor's IXC service and
# the dispatch console's code; their READMEs name others).
ORIGINAL_NAMES = {
    "BASE_URL_API": "API_BASE_URL",
    "HSM_URL": "URL_HSM",
    "HSM_TOKEN": "TOKEN_HSM",
    "IXCSOFT_USUARIO": "IXC_USER",
    "IXCSOFT_TOKEN": "IXC_TOKEN",
}
# The words a yes/no setting accepts (one parser for every flag).
TRUE_WORDS = frozenset({"1", "true", "sim", "yes", "on", "s"})
FALSE_WORDS = frozenset({"0", "false", "nao", "não", "no", "off", "n"})

# Names only the dispatch console's `.env` has: with them, API_TOKEN is its OLT-system token.
DISPATCH_CONSOLE_NAMES = ("BASE_URL_API", "HSM_URL", "HSM_TOKEN")


class ConfigError(Exception):
    """Raised with every configuration problem when the process must not start (and the
    notes on how the configuration was read, which help to fix them)."""

    def __init__(self, problems: list[str], notes: tuple[str, ...] = ()) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems
        self.notes = notes


@dataclass(frozen=True)
class Settings:
    # --- monitor core -----------------------------------------------------------------
    threshold_offline_clients: int = 4
    max_clients_in_message: int = 50
    check_interval: int = 300
    onset_window: int = 300
    flap_window: int = 3600
    population_refresh: int = 3600
    resolve_quorum: float = 0.9
    # The ERP's, whichever source is read (`IXC_TIMEZONE`, `IXC_TIMEOUT`): the zone its dates
    # are written in, the longest wait for one answer (`--once` sizes its lease on it too).
    erp_timezone: str = "America/Sao_Paulo"
    erp_timeout: float = 30.0
    olt_service_url: str = ""
    database_path: str = "data/monitor_events.db"
    database_url: str = ""
    log_dir: str = "logs"
    log_level: str = "INFO"
    host: str = "0.0.0.0"
    port: int = 5010
    secret_key: str = ""
    api_token: str = ""
    app_env: str = "production"
    cause_timeout: float = 20.0
    # --- NOC alerts -------------------------------------------------------------------
    storm_threshold: int = 5
    # --- cause and place --------------------------------------------------------------
    olt_inventory: str = "data/olts.json"
    olt_sample_size: int = 5
    olt_timeout: float = 20.0
    # --- HSM dispatch console ---------------------------------------------------------
    api_base_url: str = ""
    api_auth_url: str = ""
    api_user: str = ""
    api_pass: str = ""
    hsm_cooldown_hours: float = 24.0
    hsm_enrich_concurrency: int = 32
    hsm_send_rate: float = 0.0
    olt_system_token: str = ""
    # --- dashboard --------------------------------------------------------------------
    admin_username: str = ""
    admin_password: str = ""
    session_cookie_secure: str = "auto"
    login_max_failures: int = 5
    session_idle_minutes: int = 60
    # --- deployment: web server, reverse proxy ----------------------------------------
    web_concurrency: int = 2
    gunicorn_threads: int = 4
    trusted_proxies: tuple[str, ...] = ()
    instance_name: str = field(default_factory=socket.gethostname)
    # --- demo -------------------------------------------------------------------------
    demo: bool = False
    demo_control_url: str = ""
    # --- network alarms (OLT traps and syslog, concentrator accounting) ---------------
    alarms: alarm_settings.AlarmSettings = field(default_factory=alarm_settings.AlarmSettings)
    # --- message channels: each one's own settings, by its name (see the module) -----
    channels: Mapping[str, object] = field(default_factory=dict)
    # --- ERP sources: each one's own settings, by its name (see the module) -----------
    erps: Mapping[str, object] = field(default_factory=dict)
    # Values that were set but are not settings (kept for diagnostics).
    extra: dict[str, str] = field(default_factory=dict)
    # What the operator should know about how the configuration was read (aliases used).
    notes: tuple[str, ...] = ()

    @property
    def database(self) -> str:
        """Where the data lives: PostgreSQL at `DATABASE_URL` when set, else SQLite at `DATABASE_PATH`."""
        return self.database_url or self.database_path

    @property
    def https_only(self) -> bool:
        """The session cookie is `Secure` (`SESSION_COOKIE_SECURE`; `auto` = production
        outside the demo): the panel then works only over HTTPS (and on localhost)."""
        value = self.session_cookie_secure
        if value in TRUE_WORDS | FALSE_WORDS:
            return value in TRUE_WORDS
        return self.app_env == "production" and not self.demo

    @property
    def olt_system_login(self) -> bool:
        """The OLT management system can be logged into (and a token renewed)."""
        return bool(self.api_auth_url and self.api_user and self.api_pass)

    @property
    def olt_system_enabled(self) -> bool:
        return bool(self.api_base_url and (self.olt_system_token or self.olt_system_login))


class Reader:
    """Reads typed values from a mapping, collecting problems instead of raising."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.problems: list[str] = []

    def raw(self, name: str) -> str | None:
        value = self.env.get(name)
        if value is None:
            return None
        value = value.strip()
        return value if value != "" else None

    def text(self, name: str, default: str) -> str:
        value = self.raw(name)
        return default if value is None else value

    def number(
        self,
        name: str,
        default: float,
        *,
        minimum: float,
        maximum: float | None = None,
        integer: bool = True,
        hint: str = "",
    ) -> Any:
        value = self.raw(name)
        if value is None:
            return default
        try:
            parsed: float = int(value) if integer else float(value)
        except ValueError:
            kind = "um número inteiro" if integer else "um número"
            self.problems.append(f"{name}={value!r} não é {kind}. {hint}".strip())
            return default
        if parsed < minimum or (maximum is not None and parsed > maximum):
            limits = f"entre {minimum:g} e {maximum:g}" if maximum is not None else f">= {minimum:g}"
            self.problems.append(f"{name}={value} fora do intervalo: use {limits}. {hint}".strip())
            return default
        return parsed

    def flag(self, name: str, default: bool) -> bool:
        value = self.raw(name)
        if value is None:
            return default
        lowered = value.lower()
        if lowered in TRUE_WORDS:
            return True
        if lowered in FALSE_WORDS:
            return False
        self.problems.append(f"{name}={value!r} não é booleano: use true ou false.")
        return default

    def url(self, name: str, default: str = "") -> str:
        value = self.raw(name)
        if value is None:
            return default
        parsed = urlparse(value)
        if parsed.scheme not in {"http", "https"} or not parsed.netloc:
            self.problems.append(
                f"{name}={value!r} não é uma URL válida: use http(s)://host[:porta][/caminho]."
            )
            return default
        return value.rstrip("/")

    def database_url(self, name: str) -> str:
        """A PostgreSQL address (`postgresql://user:password@host:5432/database`), "" when unset."""
        value = self.raw(name)
        if not value:
            return ""
        parsed = urlparse(value)
        if parsed.scheme not in {"postgresql", "postgres"} or not parsed.hostname or len(parsed.path) < 2:
            shown = value.replace(f":{parsed.password}@", ":***@") if parsed.password else value
            self.problems.append(
                f"{name}={shown!r} não é um endereço PostgreSQL válido: use "
                "postgresql://usuario:senha@host:5432/banco (sem DATABASE_URL, o SQLite em DATABASE_PATH)."
            )
            return ""
        return value

    def items(self, name: str, check: Callable[[str], bool] | None = None, hint: str = "") -> tuple[str, ...]:
        value = self.raw(name)
        if value is None:
            return ()
        parts = tuple(p.strip() for p in value.split(",") if p.strip())
        bad = [p for p in parts if check is not None and not check(p)]
        if bad:
            self.problems.append(f"{name}: valores inválidos {', '.join(bad)}. {hint}".strip())
        return tuple(p for p in parts if p not in bad)


def _is_network(value: str) -> bool:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        return False
    return True


class Section(Protocol):
    """What `load_settings` needs of a part that reads its own settings (a message channel's
    `ChannelKind`, see `outage.adapters.channels.base`; an ERP source's `ErpKind`, see
    `outage.adapters.erp.base`): its name, how it reads its own settings (appending their
    problems to the reader), and its rules that involve other settings."""

    @property
    def name(self) -> str: ...

    @property
    def read(self) -> Callable[[Reader], object]: ...

    @property
    def cross_checks(self) -> Callable[[Settings], list[str]]: ...


class ErpSection(Section, Protocol):
    """An ERP source, as `load_settings` also needs it: its name for the operator ("IXCSoft
    (acesso direto)"), what turns it on, for hints ("IXCSOFT_SERVICE_URL (serviço
    intermediário)"), and whether the settings do."""

    @property
    def label(self) -> str: ...

    @property
    def setup(self) -> str: ...

    @property
    def enabled(self) -> Callable[[Settings], bool]: ...


S = TypeVar("S")


def own_section(sections: Mapping[str, object], name: str, kind: type[S]) -> S:
    """The settings `name` read into `sections` (`Settings.channels` or `Settings.erps`);
    `kind`'s defaults (that part off) when the settings were built without them."""
    found = sections.get(name)
    if found is None:
        return kind()
    if not isinstance(found, kind):
        raise TypeError(f"{name}: settings of type {type(found).__name__}, not {kind.__name__}")
    return found


def load_settings(
    env: Mapping[str, str] | None = None,
    *,
    demo: bool = False,
    channels: Sequence[Section],
    erps: Sequence[ErpSection],
) -> tuple[Settings, list[str]]:
    """Build the settings from `env` (default: the process environment), each of `channels`
    and of `erps` reading its own, and list every problem (theirs too)."""
    resolved, notes, alias_problems = _resolve_original_names(os.environ if env is None else env)
    r = Reader(resolved)
    r.problems.extend(alias_problems)
    num = r.number
    api_token, olt_token, token_note = _api_tokens(r)
    s = Settings(
        threshold_offline_clients=num(
            "THRESHOLD_OFFLINE_CLIENTS", 4, minimum=1, hint="Quantas quedas numa conexão abrem um evento."
        ),
        max_clients_in_message=num("MAX_CLIENTS_IN_MESSAGE", 50, minimum=1, maximum=500),
        check_interval=num("CHECK_INTERVAL", 300, minimum=5, hint="Segundos entre ciclos (ex.: 300)."),
        onset_window=num(
            "ONSET_WINDOW",
            300,
            minimum=30,
            maximum=3600,
            hint="Segundos em que as quedas de um mesmo local contam como uma só (ex.: 300).",
        ),
        flap_window=num("FLAP_WINDOW", 3600, minimum=0, hint="Segundos (ex.: 3600)."),
        population_refresh=num("POPULATION_REFRESH", 3600, minimum=60, hint="Segundos (ex.: 3600)."),
        resolve_quorum=num(
            "RESOLVE_QUORUM",
            0.9,
            minimum=0.5,
            maximum=1.0,
            integer=False,
            hint="Fração dos clientes de volta que normaliza um incidente (ex.: 0.9).",
        ),
        erp_timezone=r.text("IXC_TIMEZONE", "America/Sao_Paulo"),
        erp_timeout=num("IXC_TIMEOUT", 30.0, minimum=1, maximum=600, integer=False),
        olt_service_url=r.url("OLT_SERVICE_URL"),
        database_path=r.text("DATABASE_PATH", "data/monitor_events.db"),
        database_url=r.database_url("DATABASE_URL"),
        log_dir=r.text("LOG_DIR", "logs"),
        log_level=r.text("LOG_LEVEL", "INFO").upper(),
        host=r.text("HOST", "0.0.0.0"),
        port=num("PORT", 5010, minimum=1, maximum=65535),
        secret_key=r.text("SECRET_KEY", ""),
        api_token=api_token,
        app_env=r.text("APP_ENV", "production").lower(),
        cause_timeout=num("CAUSE_TIMEOUT", 20.0, minimum=1, maximum=300, integer=False),
        storm_threshold=num("STORM_THRESHOLD", 5, minimum=1),
        olt_inventory=r.text("OLT_INVENTORY", "data/olts.json"),
        olt_sample_size=num("OLT_SAMPLE_SIZE", 5, minimum=1, maximum=64),
        olt_timeout=num("OLT_TIMEOUT", 20.0, minimum=1, maximum=300, integer=False),
        api_base_url=r.url("API_BASE_URL"),
        api_auth_url=r.url("API_AUTH_URL"),
        api_user=r.text("API_USER", ""),
        api_pass=r.text("API_PASS", ""),
        hsm_cooldown_hours=num("HSM_COOLDOWN_HOURS", 24.0, minimum=0, integer=False),
        hsm_enrich_concurrency=num("HSM_ENRICH_CONCURRENCY", 32, minimum=1, maximum=256),
        hsm_send_rate=num(
            "HSM_SEND_RATE",
            0.0,
            minimum=0,
            maximum=1000,
            integer=False,
            hint="Avisos por segundo ao provedor (0 = padrão do provedor: HSM 1000/s, API oficial 80/s).",
        ),
        olt_system_token=olt_token,
        admin_username=r.text("ADMIN_USERNAME", ""),
        admin_password=r.text("ADMIN_PASSWORD", ""),
        session_cookie_secure=r.text("SESSION_COOKIE_SECURE", "auto").lower(),
        login_max_failures=num("LOGIN_MAX_FAILURES", 5, minimum=1, maximum=100),
        session_idle_minutes=num(
            "SESSION_IDLE_MINUTES",
            60,
            minimum=1,
            maximum=10080,
            hint="Minutos sem uso até a sessão do painel expirar (ex.: 60).",
        ),
        web_concurrency=num(
            "WEB_CONCURRENCY", 2, minimum=1, maximum=64, hint="Processos do gunicorn (ex.: 2)."
        ),
        gunicorn_threads=num(
            "GUNICORN_THREADS", 4, minimum=1, maximum=64, hint="Threads por processo (ex.: 4)."
        ),
        trusted_proxies=r.items(
            "TRUSTED_PROXIES",
            _is_network,
            "Use endereços IP ou redes (ex.: 127.0.0.1, 172.18.0.0/16), separados por vírgula.",
        ),
        instance_name=_instance_name(r),
        demo=demo,
        demo_control_url=r.url("DEMO_CONTROL_URL"),
        alarms=alarm_settings.read(r),
        channels={channel.name: channel.read(r) for channel in channels},
        erps={source.name: source.read(r) for source in erps},
        notes=tuple(notes + token_note),
    )
    r.problems.extend(_erp_source_problems(s, erps))
    r.problems.extend(_cross_checks(s))
    r.problems.extend(problem for section in (*channels, *erps) for problem in section.cross_checks(s))
    return replace(s, notes=s.notes + tuple(_erp_source_notes(s, erps) + _derived_notes(s))), r.problems


def _instance_name(r: Reader) -> str:
    """INSTANCE_NAME, the host name unless set: the first part of this instance's lease holder ids."""
    value = r.text("INSTANCE_NAME", "")
    if not value:
        return socket.gethostname()
    if not _INSTANCE_NAME.fullmatch(value):
        r.problems.append(
            f"INSTANCE_NAME={value!r} inválido: use até 63 letras, números, '.', '_' ou '-' (ex.: monitor-a)."
        )
        return socket.gethostname()
    return value


def _erp_source_problems(s: Settings, erps: Sequence[ErpSection]) -> list[str]:
    """An ERP source is required: without one, the hint names what configures each and `--demo`."""
    if any(source.enabled(s) for source in erps):
        return []
    return [
        f"Nenhuma fonte do ERP configurada: defina {' ou '.join(source.setup for source in erps)}. "
        "Para conhecer o sistema sem ERP, rode: python monitor_service.py --demo"
    ]


def _erp_source_notes(s: Settings, erps: Sequence[ErpSection]) -> list[str]:
    """The first configured ERP source is read: the others configured are said to be unused."""
    configured = [source for source in erps if source.enabled(s)]
    return [f"Fonte do ERP: {configured[0].label}; {unused.setup} não é usado." for unused in configured[1:]]


def _derived_notes(s: Settings) -> list[str]:
    """How overlapping settings are combined."""
    notes = []
    if s.olt_system_enabled and not s.olt_system_login:
        notes.append(
            "Sistema de gerência de OLT só com o token inicial (API_TOKEN): sem API_AUTH_URL, API_USER e "
            "API_PASS ele não é renovado quando expirar."
        )
    return notes


def _resolve_original_names(env: Mapping[str, str]) -> tuple[dict[str, str], list[str], list[str]]:
    """`env` with the originals' names copied to ours; (env, notes, problems)."""
    resolved = dict(env)
    notes: list[str] = []
    problems: list[str] = []
    names = {**ORIGINAL_NAMES, "IXCSOFT_HOST": "IXC_URL"}
    for original, ours in names.items():
        value = (env.get(original) or "").strip()
        if not value:
            continue
        if original == "IXCSOFT_HOST" and "://" not in value:
            value = f"https://{value}"  # the original's IXC service wrote https://{IXCSOFT_HOST}
        current = (env.get(ours) or "").strip()
        if not current:
            resolved[ours] = value
            notes.append(f"{original} (nome do sistema original) lido como {ours}.")
        elif current != value:
            problems.append(f"{original} e {ours} definidos com valores diferentes: deixe só {ours}.")
    return resolved, notes, problems


def _api_tokens(r: Reader) -> tuple[str, str, list[str]]:
    """(this API's token, the OLT management system's initial token, notes); see the module."""
    ours = r.text("MONITOR_API_TOKEN", "")
    legacy = r.text("API_TOKEN", "")
    if ours or not legacy:
        return ours, legacy, []
    if any(r.raw(name) for name in DISPATCH_CONSOLE_NAMES):
        note = (
            "API_TOKEN lido como no sistema de disparo original: token inicial (Bearer) do sistema de "
            "gerência de OLT. O token desta API é MONITOR_API_TOKEN."
        )
        return "", legacy, [note]
    note = (
        "API_TOKEN usado como token desta API (nome antigo): renomeie para MONITOR_API_TOKEN. No sistema "
        "de disparo original, API_TOKEN é o token do sistema de gerência de OLT."
    )
    return legacy, "", [note]


def _cross_checks(s: Settings) -> list[str]:
    """Rules that involve more than one variable."""
    problems: list[str] = []
    if zone(s.erp_timezone) is None:
        problems.append(
            f"IXC_TIMEZONE={s.erp_timezone!r} não é um fuso conhecido: use o do servidor do IXCSoft, "
            "ex.: America/Sao_Paulo, America/Cuiaba, America/Manaus ou America/Rio_Branco."
        )
    if s.log_level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
        problems.append(f"LOG_LEVEL={s.log_level!r} inválido: use DEBUG, INFO, WARNING ou ERROR.")
    if s.app_env not in {"production", "development"}:
        problems.append(f"APP_ENV={s.app_env!r} inválido: use production ou development.")
    if s.session_cookie_secure not in TRUE_WORDS | FALSE_WORDS | {"auto"}:
        problems.append(
            f"SESSION_COOKIE_SECURE={s.session_cookie_secure!r} inválido: use auto (só HTTPS em production), "
            "true ou false."
        )
    if s.app_env == "production" and not s.demo and s.secret_key in {"", DEFAULT_SECRET_KEY}:
        problems.append(
            "SECRET_KEY ausente ou com o valor de exemplo: gere uma com "
            "python -c 'import secrets; print(secrets.token_hex(32))'."
        )
    olt_api = [s.api_base_url, s.api_auth_url, s.api_user, s.api_pass]
    if s.olt_system_token and not any(olt_api):
        problems.append(
            "API_TOKEN (token do sistema de gerência de OLT, como no sistema de disparo original) definido "
            "sem API_BASE_URL: informe a URL do sistema ou remova API_TOKEN (o token desta API é "
            "MONITOR_API_TOKEN)."
        )
    elif any(olt_api) and not s.olt_system_enabled:
        problems.append(
            "Sistema de gerência de OLT incompleto: defina API_BASE_URL com API_AUTH_URL, API_USER e API_PASS "
            "(ou com o token inicial API_TOKEN, como no sistema de disparo original)."
        )
    if bool(s.admin_username) != bool(s.admin_password):
        problems.append("ADMIN_USERNAME e ADMIN_PASSWORD devem ser definidos juntos.")
    if s.admin_password and len(s.admin_password) < 8:
        problems.append("ADMIN_PASSWORD muito curta: use ao menos 8 caracteres.")
    return problems


def load_dotenv_file(path: str = ".env") -> None:
    """Load `.env` into the process environment without overriding what is already set."""
    from dotenv import load_dotenv

    load_dotenv(path, override=False)
