"""Where an outage is: the narrowest element every dropped ONU shares (pure function).

Levels, narrowest first: one CTO (`id_caixa_ftth`), one PON, several PONs of one OLT,
a whole OLT, several OLTs. The PON comes from the ERP (`interface_transmissao`) or, for
sampled ONUs, from what the OLT said. Fallback when the ERP lacks CTO data (the dispatch
original dispatch console's rule): a loss on one PON with at most 16 ONUs is probably one CTO.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from outage.core.model import CAUSE_LOS, Subscriber, cto_label
from outage.core.place import normalize_fsp

PROBABLE_CTO_MAX_ONUS = 16
MAX_PONS_LISTED = 4


def _known(value: str) -> str:
    return "" if value.strip() in ("", "0") else value.strip()


def olt_label(id_transmissor: str, names: Mapping[str, str]) -> str:
    ident = _known(id_transmissor)
    return names.get(ident) or (f"OLT {ident}" if ident else "")


def describe_place(
    subscribers: Sequence[Subscriber],
    evidences: Sequence[Mapping[str, Any]],
    olt_names: Mapping[str, str],
    motivo: str,
) -> tuple[str, dict[str, Any]]:
    """(`local` in Portuguese, `local_detalhe` as data) for an event's dropped subscribers."""
    if not subscribers:
        return "", {"nivel": "desconhecido"}
    found = {str(e.get("login")): e for e in evidences}
    ctos = {
        _known(s.id_caixa_ftth) or _known(str(found.get(s.login, {}).get("cto", ""))) for s in subscribers
    }
    olts = {
        olt_label(s.id_transmissor, olt_names) or str(found.get(s.login, {}).get("olt", ""))
        for s in subscribers
    }
    pons = {_pon(s, found.get(s.login, {})) for s in subscribers}
    total = len(subscribers)
    if len(ctos) == 1 and "" not in ctos:
        cto = ctos.pop()
        detail: dict[str, Any] = {"nivel": "cto", "cto": cto, "onus": total}
        if len(olts) == 1 and "" not in olts:
            detail["olt"] = next(iter(olts))
        if len(pons) == 1 and "" not in pons:
            detail["pon"] = next(iter(pons))
        return cto_label(cto), detail
    if len(olts) != 1 or "" in olts:
        named = sorted(o for o in olts if o)
        if len(named) > 1:
            return f"{len(named)} OLTs: {', '.join(named)}", {"nivel": "olts", "olts": named, "onus": total}
        return "Local indeterminado", {"nivel": "desconhecido", "onus": total}
    return _within_olt(next(iter(olts)), pons, total, motivo, evidences)


def _pon(subscriber: Subscriber, evidence: Mapping[str, Any]) -> str:
    return normalize_fsp(subscriber.interface_transmissao) or normalize_fsp(str(evidence.get("pon", "")))


def _within_olt(
    olt: str, pons: set[str], total: int, motivo: str, evidences: Sequence[Mapping[str, Any]]
) -> tuple[str, dict[str, Any]]:
    known = pons - {""}
    if not known:
        return f"{olt} (PON desconhecida)", {"nivel": "olt", "olt": olt, "onus": total}
    if len(known) < len(pons):
        # Only the sampled ONUs' PONs are known (from the OLT): say so.
        partial_text, partial = _within_olt(olt, known, total, motivo, evidences)
        return f"{partial_text} (pela amostra)", {**partial, "pon_pela_amostra": True}
    if len(pons) == 1:
        pon = next(iter(pons))
        detail: dict[str, Any] = {"nivel": "pon", "olt": olt, "pon": pon, "onus": total}
        text = f"PON {pon} da {olt}"
        if motivo == CAUSE_LOS and _probably_one_cto(total, evidences):
            detail["provavel_cto"] = True
            text += f" (provavelmente uma CTO: até {PROBABLE_CTO_MAX_ONUS} ONUs)"
        return text, detail
    ordered = sorted(pons, key=lambda p: tuple(int(x) for x in p.split("/")))
    if len(ordered) > MAX_PONS_LISTED:
        return f"{olt} inteira ({len(ordered)} PONs)", {
            "nivel": "olt",
            "olt": olt,
            "pons": ordered,
            "onus": total,
        }
    listed = ", ".join(ordered[:-1]) + " e " + ordered[-1]
    return f"PONs {listed} da {olt}", {"nivel": "pons", "olt": olt, "pons": ordered, "onus": total}


def _probably_one_cto(total: int, evidences: Sequence[Mapping[str, Any]]) -> bool:
    """The original dispatch console's rule, on the OLT system's alert size when known, else the event's."""
    sizes = [int(e["onus_no_alerta"]) for e in evidences if isinstance(e.get("onus_no_alerta"), int)]
    return (max(sizes) if sizes else total) <= PROBABLE_CTO_MAX_ONUS
