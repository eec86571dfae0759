"""Benchmarks: run them all with `python -m bench`, or one with `python -m bench.<name>`."""

from __future__ import annotations

from typing import Any


def br(value: float, decimals: int | None = None) -> str:
    """`value` written the Brazilian way, thousands with `.` and decimals with `,`: `200.000`,
    `2,5`. With `decimals=None`, as many as the value needs (`3`, `0,5`)."""
    if decimals is None:
        text = f"{int(value):,}" if float(value).is_integer() else f"{value:,g}"
    else:
        text = f"{value:,.{decimals}f}"
    return text.translate(str.maketrans(",.", ".,"))


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
