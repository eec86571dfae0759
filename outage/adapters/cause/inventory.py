"""The OLT inventory: which OLT an ERP `id_transmissor` is, and how to reach it.

A JSON list in the file named by `OLT_INVENTORY` (default `data/olts.json`):
`{"id_transmissor": "1", "name": "OLT-CENTRO", "vendor": "huawei" | "zte", "model": "C600",
"host": "10.1.10.14", "port": 22, "username": "noc", "password": "..."}`;
`"password_env": "VAR"` may replace `password`; `model` is optional (a ZTE's family is
learned from `show version` when it is missing). Optional: `"backend": "ssh"` (default)
or another source of the registry (`olt_system`: ask the OLT management system;
`middleware`: ask the original monitor's OLT service) — then host and credentials are not needed.
For the network's alarms, optional: `"snmp_community"` (the community its traps carry),
`"snmp_read_community"` and `"snmp_port"` (161; to read its tables once), `"addresses"` (the
addresses its traps and syslog come from besides `host`, e.g. `["10.1.10.15"]`).
A missing file is an empty inventory.

Which vendors and sources exist is the registry's business (`registry.BACKENDS`): the
functions here take that table as `kinds`.
"""

from __future__ import annotations

import ipaddress
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from outage.http import register_secret

SSH = "ssh"


class KindRules(Protocol):
    """What the inventory needs to know about a kind (the registry's backend classes)."""

    @property
    def over_ssh(self) -> bool: ...

    def model_problem(self, model: str) -> str: ...


@dataclass(frozen=True)
class OltEntry:
    """One OLT of the inventory, credentials resolved."""

    id_transmissor: str
    name: str
    vendor: str = ""
    host: str = ""
    port: int = 22
    username: str = ""
    password: str = ""
    backend: str = SSH
    model: str = ""
    snmp_community: str = ""
    snmp_read_community: str = ""
    snmp_port: int = 161
    addresses: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        """The registry key: the vendor for SSH entries, else the backend."""
        return self.vendor if self.backend == SSH else self.backend

    def __repr__(self) -> str:  # never print the password
        return f"OltEntry({self.id_transmissor!r}, {self.name!r}, {self.kind}, {self.host}:{self.port})"


def _read(path: str) -> tuple[list[Any], list[str]]:
    """The raw list from the file, or the problems that prevent reading it."""
    if not os.path.exists(path):
        return [], []
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, UnicodeDecodeError) as exc:
        return [], [f"Inventário de OLTs {path}: não foi possível ler o arquivo ({exc})."]
    except json.JSONDecodeError as exc:
        return [], [f"Inventário de OLTs {path}: JSON inválido na linha {exc.lineno}, coluna {exc.colno}."]
    if not isinstance(data, list):
        return [], [f"Inventário de OLTs {path}: o arquivo deve conter uma lista de OLTs ([...])."]
    return data, []


def _entry_problems(
    raw: Any, label: str, env: Mapping[str, str], kinds: Mapping[str, KindRules]
) -> list[str]:
    if not isinstance(raw, dict):
        return [f"{label}: cada OLT deve ser um objeto JSON ({{...}})."]
    over_ssh = str(raw.get("backend", SSH)) == SSH
    problems = _kind_problems(raw, label, kinds)
    required = ["id_transmissor", "name"] + (["vendor", "host", "username"] if over_ssh else [])
    for key in required:
        if str(raw.get(key, "")).strip() == "":
            problems.append(f"{label}: falta o campo {key!r}.")
    port = raw.get("port", 22)
    if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
        problems.append(f"{label}: port {port!r} inválida; use um número entre 1 e 65535.")
    if over_ssh:
        problems += _password_problems(raw, label, env)
    return problems + _alarm_problems(raw, label)


def _alarm_problems(raw: dict[str, Any], label: str) -> list[str]:
    """The optional alarm fields: communities are text, addresses are IP addresses."""
    problems = [
        f"{label}: {key} deve ser um texto não vazio."
        for key in ("snmp_community", "snmp_read_community")
        if key in raw and (not isinstance(raw[key], str) or not raw[key].strip())
    ]
    port = raw.get("snmp_port", 161)
    if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
        problems.append(f"{label}: snmp_port {port!r} inválida; use um número entre 1 e 65535.")
    addresses = raw.get("addresses", [])
    if not isinstance(addresses, list) or not all(_is_ip(a) for a in addresses):
        problems.append(f'{label}: addresses deve ser uma lista de endereços IP, ex.: ["10.1.10.15"].')
    return problems


def _is_ip(value: Any) -> bool:
    try:
        ipaddress.ip_address(str(value))
    except ValueError:
        return False
    return isinstance(value, str)


def _kind_problems(raw: dict[str, Any], label: str, kinds: Mapping[str, KindRules]) -> list[str]:
    """An unknown backend or vendor, or a model its kind cannot use."""
    ssh_vendors = sorted(k for k, rules in kinds.items() if rules.over_ssh)
    sources = sorted(k for k, rules in kinds.items() if not rules.over_ssh)
    backend = str(raw.get("backend", SSH))
    vendor = str(raw.get("vendor") or "")
    kind = vendor if backend == SSH else backend
    if backend != SSH and backend not in sources:
        return [f"{label}: backend {backend!r} desconhecido; use {_choices([SSH, *sources])}."]
    if backend == SSH and vendor and vendor not in ssh_vendors:
        return [f"{label}: vendor {vendor!r} desconhecido; use {_choices(ssh_vendors)}."]
    problem = kinds[kind].model_problem(str(raw.get("model") or "")) if kind in kinds else ""
    return [f"{label}: {problem}"] if problem else []


def _choices(names: list[str]) -> str:
    return ", ".join(names[:-1]) + " ou " + names[-1] if len(names) > 1 else "".join(names)


def _password_problems(raw: dict[str, Any], label: str, env: Mapping[str, str]) -> list[str]:
    variable = raw.get("password_env")
    if variable:
        if not str(env.get(str(variable), "")).strip():
            return [
                f"{label}: password_env={variable} mas a variável de ambiente {variable} não está definida:"
                f" defina {variable}=<senha da OLT> no .env."
            ]
        return []
    if not raw.get("password"):
        return [f"{label}: informe password ou password_env (nome da variável de ambiente com a senha)."]
    return []


def _label(raw: Any, position: int) -> str:
    if isinstance(raw, dict) and (raw.get("name") or raw.get("id_transmissor")):
        return f"OLT {raw.get('name') or '?'} (id_transmissor {raw.get('id_transmissor', '?')})"
    return f"OLT nº {position} do inventário"


def validate(path: str, env: Mapping[str, str], kinds: Mapping[str, KindRules]) -> list[str]:
    """Every problem of the inventory file, in Portuguese, each naming its entry."""
    items, problems = _read(path)
    seen: dict[str, str] = {}
    for position, raw in enumerate(items, start=1):
        label = _label(raw, position)
        problems += _entry_problems(raw, label, env, kinds)
        ident = str(raw.get("id_transmissor", "")).strip() if isinstance(raw, dict) else ""
        if ident and ident in seen:
            problems.append(f"{label}: id_transmissor {ident} repetido (já usado por {seen[ident]}).")
        elif ident:
            seen[ident] = label
    return problems


def load(path: str, env: Mapping[str, str], kinds: Mapping[str, KindRules]) -> dict[str, OltEntry]:
    """The valid entries by `id_transmissor` (invalid ones are skipped; `validate` names them)."""
    items, _ = _read(path)
    entries: dict[str, OltEntry] = {}
    for position, raw in enumerate(items, start=1):
        if _entry_problems(raw, _label(raw, position), env, kinds):
            continue
        ident = str(raw["id_transmissor"]).strip()
        if ident in entries:
            continue
        variable = raw.get("password_env")
        entries[ident] = OltEntry(
            id_transmissor=ident,
            name=str(raw["name"]),
            vendor=str(raw.get("vendor", "")),
            host=str(raw.get("host", "")),
            port=int(raw.get("port", 22)),
            username=str(raw.get("username", "")),
            password=str(env.get(str(variable), "")) if variable else str(raw.get("password", "")),
            backend=str(raw.get("backend", SSH)),
            model=str(raw.get("model") or ""),
            snmp_community=str(raw.get("snmp_community", "")),
            snmp_read_community=str(raw.get("snmp_read_community", "")),
            snmp_port=int(raw.get("snmp_port", 161)),
            addresses=tuple(str(a) for a in raw.get("addresses", [])),
        )
        for secret in (
            entries[ident].password,
            entries[ident].snmp_community,
            entries[ident].snmp_read_community,
        ):
            register_secret(secret)  # netmiko and paramiko errors may echo it
    return entries
