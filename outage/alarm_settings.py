"""The alarm receivers' settings: read with the configuration's reader, every problem listed.

Every receiver is off until its port is set. The OLTs' communities and addresses live in the
OLT inventory (`snmp_community`, `addresses`); the concentrators are listed here.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any, Protocol

BNG_LOG_FORMATS = ("accel-ppp", "mikrotik")


class Reader(Protocol):
    """The part of the configuration's reader used here (`outage.config.Reader`)."""

    problems: list[str]

    def text(self, name: str, default: str) -> str: ...

    def number(
        self,
        name: str,
        default: float,
        *,
        minimum: float,
        maximum: float | None = None,
        integer: bool = True,
        hint: str = "",
    ) -> Any: ...

    def items(self, name: str, check: Any = None, hint: str = "") -> tuple[str, ...]: ...


@dataclass(frozen=True)
class AlarmSettings:
    """Ports (0 = off), who may send, how much, and what counts as silence."""

    listen: str = "0.0.0.0"
    snmp_port: int = 0
    syslog_port: int = 0
    radius_port: int = 0
    radius_secret: str = ""
    snmp_community: str = ""
    concentrators: tuple[str, ...] = ()
    user_request_suspect: tuple[str, ...] = ()
    bng_logs: tuple[str, ...] = ("accel-ppp",)
    bng_log_pattern: str = ""
    queue_size: int = 50_000
    rate_per_source: float = 2_500.0
    burst_per_source: int = 5_000
    silent_after: float = 21_600.0

    @property
    def enabled(self) -> bool:
        return bool(self.snmp_port or self.syslog_port or self.radius_port)

    def __repr__(self) -> str:  # never print the secrets
        return (
            f"AlarmSettings(snmp={self.snmp_port}, syslog={self.syslog_port}, radius={self.radius_port}, "
            f"concentrators={len(self.concentrators)})"
        )


def is_address(value: str) -> bool:
    """An IPv4/IPv6 address or network (`10.0.0.1`, `10.0.0.0/24`)."""
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        return False
    return True


def read(r: Reader) -> AlarmSettings:
    """The alarm settings from the environment; problems appended to `r.problems`."""
    port_hint = "Use 0 (desligado) ou uma porta UDP livre, ex.: 10162."
    addresses_hint = "Use endereços IP ou redes (ex.: 10.0.0.1, 10.0.0.0/24) separados por vírgula."
    s = AlarmSettings(
        listen=r.text("ALARM_LISTEN_ADDRESS", "0.0.0.0"),
        snmp_port=r.number("ALARM_SNMP_PORT", 0, minimum=0, maximum=65535, hint=port_hint),
        syslog_port=r.number("ALARM_SYSLOG_PORT", 0, minimum=0, maximum=65535, hint=port_hint),
        radius_port=r.number("ALARM_RADIUS_PORT", 0, minimum=0, maximum=65535, hint=port_hint),
        radius_secret=r.text("ALARM_RADIUS_SECRET", ""),
        snmp_community=r.text("ALARM_SNMP_COMMUNITY", ""),
        concentrators=r.items("ALARM_CONCENTRATORS", is_address, addresses_hint),
        user_request_suspect=r.items("ALARM_RADIUS_USER_REQUEST_SUSPECT", is_address, addresses_hint),
        bng_logs=r.items(
            "ALARM_BNG_LOGS",
            lambda v: v in BNG_LOG_FORMATS,
            f"Use {', '.join(BNG_LOG_FORMATS)} (separados por vírgula).",
        )
        or ("accel-ppp",),
        bng_log_pattern=r.text("ALARM_BNG_LOG_PATTERN", ""),
        queue_size=r.number("ALARM_QUEUE_SIZE", 50_000, minimum=100, maximum=10_000_000),
        rate_per_source=r.number(
            "ALARM_RATE_PER_SOURCE",
            2_500.0,
            minimum=1,
            maximum=1_000_000,
            integer=False,
            hint="Alarmes por segundo aceitos de cada equipamento (ex.: 2500).",
        ),
        burst_per_source=r.number(
            "ALARM_BURST_PER_SOURCE",
            5_000,
            minimum=1,
            maximum=10_000_000,
            hint="Rajada aceita de um equipamento de uma vez (ex.: 5000: uma OLT inteira).",
        ),
        silent_after=r.number(
            "ALARM_SILENT_AFTER",
            21_600.0,
            minimum=0,
            integer=False,
            hint="Segundos sem alarme de uma OLT até ela aparecer como silenciosa (0 = nunca).",
        ),
    )
    r.problems.extend(problems(s))
    return s


def problems(s: AlarmSettings) -> list[str]:
    """Rules that involve more than one alarm setting."""
    found: list[str] = []
    if not is_address(s.listen):
        found.append(f"ALARM_LISTEN_ADDRESS={s.listen!r} não é um endereço IP (ex.: 0.0.0.0).")
    udp = [(name, port) for name, port in (("ALARM_SNMP_PORT", s.snmp_port), ("ALARM_SYSLOG_PORT", s.syslog_port), ("ALARM_RADIUS_PORT", s.radius_port)) if port]  # fmt: skip
    for n, (name, port) in enumerate(udp):
        for other, other_port in udp[n + 1 :]:
            if port == other_port:
                found.append(f"{name} e {other} usam a mesma porta UDP {port}: use portas diferentes.")
    if s.radius_port and not s.radius_secret:
        found.append(
            "ALARM_RADIUS_PORT definido sem ALARM_RADIUS_SECRET: use o segredo configurado no concentrador."
        )
    if s.radius_port and not s.concentrators:
        found.append(
            "ALARM_RADIUS_PORT definido sem ALARM_CONCENTRATORS: liste os endereços dos concentradores que "
            "enviam contabilidade."
        )
    if s.bng_log_pattern:
        found += _pattern_problems(s.bng_log_pattern)
    return found


def _pattern_problems(pattern: str) -> list[str]:
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        return [f"ALARM_BNG_LOG_PATTERN não é uma expressão regular válida ({exc})."]
    if "login" not in compiled.groupindex:
        return ["ALARM_BNG_LOG_PATTERN precisa do grupo (?P<login>...) que captura o login PPPoE."]
    return []
