"""The OLT inventory: which OLT an ERP `id_transmissor` is, and how to reach it.

A JSON list in the file named by `OLT_INVENTORY` (default `data/olts.json`):
`{"id_transmissor": "1", "name": "OLT-CENTRO", "vendor": "huawei" | "zte", "host": "10.1.10.14",
"port": 22, "username": "noc", "password": "..."}`; `"password_env": "VAR"` may replace
`password`. Optional: `"backend": "ssh" (default) | "olt_system"` (ask the OLT management
system instead of the device; then host and credentials are not needed).
A missing file is an empty inventory.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from outage.http import register_secret

VENDORS = ("huawei", "zte")
BACKENDS = ("ssh", "olt_system")


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
    backend: str = "ssh"

    def __repr__(self) -> str:  # never print the password
        return f"OltEntry({self.id_transmissor!r}, {self.name!r}, {self.vendor}, {self.host}:{self.port})"


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


def _entry_problems(raw: Any, label: str, env: Mapping[str, str]) -> list[str]:
    if not isinstance(raw, dict):
        return [f"{label}: cada OLT deve ser um objeto JSON ({{...}})."]
    problems: list[str] = []
    backend = str(raw.get("backend", "ssh"))
    if backend not in BACKENDS:
        problems.append(f"{label}: backend {backend!r} desconhecido; use {' ou '.join(BACKENDS)}.")
    required = ["id_transmissor", "name"] + (["vendor", "host", "username"] if backend == "ssh" else [])
    for key in required:
        if str(raw.get(key, "")).strip() == "":
            problems.append(f"{label}: falta o campo {key!r}.")
    vendor = raw.get("vendor")
    if vendor not in (None, "") and vendor not in VENDORS:
        problems.append(f"{label}: vendor {vendor!r} desconhecido; use huawei ou zte.")
    port = raw.get("port", 22)
    if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
        problems.append(f"{label}: port {port!r} inválida; use um número entre 1 e 65535.")
    if backend == "ssh":
        problems += _password_problems(raw, label, env)
    return problems


def _password_problems(raw: dict[str, Any], label: str, env: Mapping[str, str]) -> list[str]:
    variable = raw.get("password_env")
    if variable:
        if not str(env.get(str(variable), "")).strip():
            return [
                f"{label}: password_env={variable} mas a variável de ambiente {variable} não está definida."
            ]
        return []
    if not raw.get("password"):
        return [f"{label}: informe password ou password_env (nome da variável de ambiente com a senha)."]
    return []


def _label(raw: Any, position: int) -> str:
    if isinstance(raw, dict) and (raw.get("name") or raw.get("id_transmissor")):
        return f"OLT {raw.get('name') or '?'} (id_transmissor {raw.get('id_transmissor', '?')})"
    return f"OLT nº {position} do inventário"


def validate(path: str, env: Mapping[str, str]) -> list[str]:
    """Every problem of the inventory file, in Portuguese, each naming its entry."""
    items, problems = _read(path)
    seen: dict[str, str] = {}
    for position, raw in enumerate(items, start=1):
        label = _label(raw, position)
        problems += _entry_problems(raw, label, env)
        ident = str(raw.get("id_transmissor", "")).strip() if isinstance(raw, dict) else ""
        if ident and ident in seen:
            problems.append(f"{label}: id_transmissor {ident} repetido (já usado por {seen[ident]}).")
        elif ident:
            seen[ident] = label
    return problems


def load(path: str, env: Mapping[str, str]) -> dict[str, OltEntry]:
    """The valid entries by `id_transmissor` (invalid ones are skipped; `validate` names them)."""
    items, _ = _read(path)
    entries: dict[str, OltEntry] = {}
    for position, raw in enumerate(items, start=1):
        if _entry_problems(raw, _label(raw, position), env):
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
            backend=str(raw.get("backend", "ssh")),
        )
        register_secret(entries[ident].password)  # netmiko and paramiko errors may echo it
    return entries
