"""The payloads of the NOC alerts about incidents (rendered by `outage.adapters.channels.messages`).

One home for each payload, used by the poller's cycle and by an operator's manual close.
Times are epoch seconds; `ultima_conexao_final` is the ERP's text again, as the original
projects' services expect it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from outage.core.localtime import erp_text
from outage.core.model import CAUSE_UNKNOWN, Subscriber


def client_list(subs: Iterable[Subscriber]) -> list[dict[str, str]]:
    return [{"login": s.login, "ultima_conexao_final": erp_text(s.session_end)} for s in subs]


def opening(
    conexao: str, local: str, escopo: str, subs: list[Subscriber], started: float, *, with_logins: bool
) -> dict[str, Any]:
    return {
        "conexao": conexao,
        "local": local,
        "escopo": escopo,
        "total": len(subs),
        "motivo": CAUSE_UNKNOWN,
        "inicio": started,
        "logins": client_list(subs) if with_logins else [],
    }


def recurrence(
    conexao: str, local: str, total: int, count: int, window: float, started: float
) -> dict[str, Any]:
    return {
        "conexao": conexao,
        "local": local,
        "total": total,
        "vez": count,
        "janela": window,
        "inicio": started,
    }


def widening(
    conexao: str, local: str, previous_local: str, new: list[Subscriber], total: int
) -> dict[str, Any]:
    return {
        "conexao": conexao,
        "local": local,
        "local_anterior": previous_local,
        "novos": len(new),
        "total": total,
        "logins_novos": client_list(new),
    }


def normalization(
    conexao: str,
    local: str,
    total: int,
    started: float,
    now: float,
    back: list[str],
    stragglers: list[Subscriber],
    closed_by: str = "",
) -> dict[str, Any]:
    """`logins` are those back (only their login is at hand), `retardatarios` those still offline."""
    payload: dict[str, Any] = {
        "conexao": conexao,
        "local": local,
        "total": total,
        "de_volta": len(back),
        "inicio": started,
        "fim": now,
        "duracao": now - started,
        "logins": [{"login": login} for login in back],
        "retardatarios": client_list(stragglers),
    }
    if closed_by:
        payload["resolvido_por"] = closed_by
    return payload
