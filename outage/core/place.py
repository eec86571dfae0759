"""Where a login is, as the narrowest topology the data gives (pure functions).

Levels, narrowest first:

- `cto` — the splitter box, IXC `id_caixa_ftth` (8–16 customers);
- `pon` — one port of an OLT: `id_transmissor` + `interface_transmissao` (Huawei `0/1/2`,
  ZTE `gpon-olt_1/2/1` or `gpon_olt-1/4/1`, all read as `F/S/P`);
- `olt` — `id_transmissor`;
- `conexao` — the ERP connection, when nothing else is known (the original project's
  middleware gives only seven fields: `id_transmissor` and `conexao` are all it has).

A place is a string key (`cto:12`, `pon:3:0/1/2`, `olt:3`, `conexao:OLT-HW-CENTRO-01`),
cheap to hash and store. `path_of(sub)` lists a login's places narrowest first; each place's
parent is the next one on the path. Unknown links (`""` or `"0"`, IXC's "no link") are
skipped, so a login without a CTO starts at its PON.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from outage.core.model import Subscriber, cto_label

CTO = "cto"
PON = "pon"
OLT = "olt"
CONEXAO = "conexao"
LEVELS = (CTO, PON, OLT, CONEXAO)
RANK = {level: rank for rank, level in enumerate(LEVELS)}
MAX_PONS_LISTED = 4

Path = tuple[str, ...]


_FSP = re.compile(r"(\d+)\s*/\s*(\d+)\s*/\s*(\d+)")


def normalize_fsp(text: str) -> str:
    """`0/ 1/0`, `GPON 0/1/0`, `gpon-olt_1/2/1`, `gpon_olt-1/4/1` or an ONU index → `0/1/0` / `1/2/1`."""
    match = _FSP.search(text or "")
    if not match:
        return ""
    return "/".join(str(int(part)) for part in match.groups())


def _known(value: str) -> str:
    value = value.strip()
    return "" if value in ("", "0") else value


@lru_cache(maxsize=65536)
def place_path(cto: str, olt: str, interface: str, conexao: str) -> Path:
    """The places of a login in that CTO (`id_caixa_ftth`), OLT, interface and connection."""
    keys = []
    if _known(cto):
        keys.append(f"{CTO}:{_known(cto)}")
    fsp = normalize_fsp(interface) if _known(olt) else ""
    if fsp:
        keys.append(f"{PON}:{_known(olt)}:{fsp}")
    if _known(olt):
        keys.append(f"{OLT}:{_known(olt)}")
    keys.append(f"{CONEXAO}:{conexao}")
    return tuple(keys)


def path_of(sub: Subscriber) -> Path:
    """The login's places, narrowest first, always ending with its `conexao`."""
    return place_path(sub.id_caixa_ftth, sub.id_transmissor, sub.interface_transmissao, sub.conexao)


def count_places(paths: Iterable[Path], counts: dict[str, int] | None = None) -> dict[str, int]:
    """Logins per place, from each login's path, added to `counts` when given."""
    counts = {} if counts is None else counts
    for path in paths:
        for key in path:
            counts[key] = counts.get(key, 0) + 1
    return counts


def level_of(key: str) -> str:
    return key.partition(":")[0]


def rank_of(key: str) -> int:
    return RANK[level_of(key)]


def ancestors(path: Path, key: str) -> Path:
    """The places above `key` on `path` (empty when `key` is not on it or is the widest)."""
    try:
        return path[path.index(key) + 1 :]
    except ValueError:
        return ()


def within(path: Path, key: str) -> bool:
    """True when a login with this path is inside place `key`."""
    return key in path


def common_place(first: Path, second: Path) -> str | None:
    """The narrowest place on both paths (their lowest common ancestor), or None."""
    others = set(second)
    return next((key for key in first if key in others), None)


def trim(path: Path, key: str) -> Path:
    """`path` from `key` upwards (the path of the place `key` itself)."""
    return path[path.index(key) :] if key in path else (key,)


def child_on(path: Path, key: str) -> str | None:
    """The place just below `key` on `path`, or None when `key` is the narrowest there."""
    try:
        index = path.index(key)
    except ValueError:
        return None
    return path[index - 1] if index > 0 else None


def olt_id(key: str) -> str:
    """The `id_transmissor` named by a `pon:` or `olt:` key ("" for the others)."""
    level, _, rest = key.partition(":")
    if level == PON:
        return rest.partition(":")[0]
    return rest if level == OLT else ""


def pon_name(key: str) -> str:
    return key.split(":", 2)[2] if level_of(key) == PON else ""


def _olt_text(ident: str, names: Mapping[str, str]) -> str:
    return names.get(ident) or f"OLT {ident}"


def _pon_order(fsp: str) -> tuple[int, ...]:
    return tuple(int(part) for part in fsp.split("/") if part.isdigit())


def describe(
    key: str, path: Path, units: Iterable[str], names: Mapping[str, str]
) -> tuple[str, dict[str, Any]]:
    """(`local` in Portuguese, `local_detalhe` as data) of an incident at `key`.

    `units` are the places just below `key` that the incident took (its PONs when it is an
    OLT, its OLTs or PONs when it is a connection); `names` maps `id_transmissor` to the
    OLT's name from the inventory.
    """
    level, _, rest = key.partition(":")
    above = {level_of(k): k for k in ancestors(path, key)}
    olt = olt_id(above.get(OLT, "")) or olt_id(key)
    olt_name = _olt_text(olt, names) if olt else ""
    pons = sorted({pon_name(u) for u in units if level_of(u) == PON}, key=_pon_order)
    detail: dict[str, Any] = {"nivel": level}
    if olt_name:
        detail["olt"] = olt_name
    if level == CTO:
        pon = pon_name(above.get(PON, ""))
        detail.update(cto=rest, **({"pon": pon} if pon else {}))
        where = f"PON {pon} da {olt_name}" if pon and olt_name else olt_name
        return (cto_label(rest) + (f" ({where})" if where else "")), detail
    if level == PON:
        pon = pon_name(key)
        detail["pon"] = pon
        return f"PON {pon} da {olt_name}", detail
    if level == OLT:
        detail["pons"] = pons
        if not pons:
            return f"{olt_name} (PON desconhecida)", detail
        if len(pons) == 1:
            return f"PON {pons[0]} da {olt_name}", detail
        if len(pons) <= MAX_PONS_LISTED:
            return f"PONs {', '.join(pons[:-1])} e {pons[-1]} da {olt_name}", detail
        return f"{olt_name} — {len(pons)} PONs", detail
    olts = sorted({_olt_text(olt_id(u), names) for u in units if level_of(u) in (OLT, PON)})
    detail.update(conexao=rest, olts=olts, pons=pons)
    if len(olts) > 1:
        return f"conexão {rest} — {len(olts)} OLTs", detail
    return f"conexão {rest}", detail


def describe_group(paths: Sequence[Path], names: Mapping[str, str]) -> tuple[str, str]:
    """(place key, text) of a group of logins: their narrowest common place, with the parts of
    it they are in ("PONs 0/1/2 e 0/1/3 da OLT-X", "conexão BNG-1 — 2 OLTs")."""
    if not paths:
        return "", ""
    shared = set(paths[0]).intersection(*map(set, paths[1:]))
    key = next((k for k in paths[0] if k in shared), paths[0][-1])
    units = {unit for path in paths if (unit := child_on(path, key)) is not None}
    return key, describe(key, trim(paths[0], key), units, names)[0]
