"""Benchmarks: run them all with `python -m bench`, or one with `python -m bench.<name>`."""

from __future__ import annotations

from typing import Any


def figure(name: str, value: float, unit: str, target: str, ok: bool, limit: str = "") -> dict[str, Any]:
    """One row of the report: the figure next to its target and its limit."""
    return {
        "nome": name,
        "valor": round(value, 3),
        "unidade": unit,
        "meta": target,
        "limite": limit,
        "ok": ok,
    }
