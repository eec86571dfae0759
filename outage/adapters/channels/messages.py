"""NOC alert wording: payloads rendered through the Jinja2 templates in `templates/alerts/`.

Payloads (written by the monitor core, times as epoch floats):
- `abertura`: conexao, local, escopo, total, ativos (active logins there, 0 when unknown),
  motivo, explicacao, inicio, logins [{login, ultima_conexao_final}], relacionado (the open
  incident at the same OLT or connection: local, total, inicio, nivel `olt`/`conexao`)
- `recorrencia`: conexao, local, total, vez (the n-th opening at the place), janela (s), inicio
- `crescimento` (the incident widened): conexao, local, local_anterior, novos, total,
  logins_novos [{login, ultima_conexao_final}], and once its cause is known motivo_parte,
  local_parte (the part that joined), motivo and explicacao (the incident's)
- `causa`: conexao, motivo, explicacao, local, total
- `normalizacao`: conexao, local, total, de_volta, inicio, fim, duracao (seconds),
  logins [{login}] (back), retardatarios [{login, ultima_conexao_final}] (still offline),
  resolvido_por (closed by hand)
- `resumo`: eventos [{id, conexao, total, motivo, local}], total_clientes

Any payload may carry `repeticao: true` (set by the sender on an alert sent again after a
crash): the message then starts with the `*_repeticao` template's line.

Telegram messages are HTML (every value escaped by autoescape) and always fit 4,096
characters: the client list is cut to `max_clients` and then to what fits, followed by
"… e mais N clientes". Every text from outside (connection and place names, logins) is
clipped to `MAX_VALUE` characters with "…" before it is escaped, so no value can push a
message past its limit and no cut falls inside an HTML entity or tag. WhatsApp texts are
one line (template parameters may not hold line breaks) and short; `escape_markdown` makes
one safe for Telegram's legacy Markdown (the original alert service's format).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2

TEMPLATES_DIR = Path(__file__).resolve().parents[3] / "templates" / "alerts"
TIMEZONE = ZoneInfo("America/Sao_Paulo")
TELEGRAM_LIMIT = 4096
WHATSAPP_PARAM_LIMIT = 1000
MAX_VALUE = 200  # characters of one outside value in a message (a connection name, a login)
CAUSE_WORDS = {
    "energia": "Energia",
    "loss": "Rompimento de fibra (LOS)",
    "concentrador": "Concentrador / transporte (ONUs online)",
    "indeterminado": "Indeterminado",
    "misto": "Mista",
}
# kind -> (payload field with the list to cut to fit, its name in the template)
_LIST_FIELD = {
    "abertura": ("logins", "logins"),
    "crescimento": ("logins_novos", "logins"),
    "normalizacao": ("retardatarios", "retardatarios"),
    "resumo": ("eventos", "eventos"),
}
_MARKDOWN_SPECIAL = re.compile(r"([_*`\[])")


def clip(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, ending in "…" when it was cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def clip_values(value: Any, limit: int = MAX_VALUE) -> Any:
    """A copy of `value` with every string inside it (through dicts and lists) clipped."""
    if isinstance(value, str):
        return clip(value, limit)
    if isinstance(value, Mapping):
        return {key: clip_values(item, limit) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [clip_values(item, limit) for item in value]
    return value


def br_number(value: Any) -> str:
    """`3000` -> `3.000` (Brazilian thousands separator)."""
    try:
        return f"{int(value):,}".replace(",", ".")
    except (TypeError, ValueError):
        return str(value)


def plural(count: int, one: str, many: str) -> str:
    """The count (Brazilian thousands separator) and the words agreeing with it: `1 aviso
    enviado`, `0 avisos enviados`, `1.200 avisos enviados`."""
    return f"{br_number(count)} {one if count == 1 else many}"


def br_time(value: Any) -> str:
    """Epoch seconds (or an IXC `YYYY-MM-DD HH:MM:SS` string) -> `22/11 03:10` in São Paulo."""
    if value in (None, "") or str(value).startswith("0000"):
        return "—"
    if isinstance(value, int | float):
        return datetime.fromtimestamp(float(value), TIMEZONE).strftime("%d/%m %H:%M")
    try:
        return datetime.strptime(str(value)[:19], "%Y-%m-%d %H:%M:%S").strftime("%d/%m %H:%M")
    except ValueError:
        return str(value)


def br_duration(seconds: Any) -> str:
    """`8100` -> `2h 15min`; `2700` -> `45min`; `97200` -> `1d 3h`."""
    try:
        total = max(0, int(float(seconds)))
    except (TypeError, ValueError):
        return "—"
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}min" if minutes else f"{hours}h"
    return f"{minutes}min" if minutes else f"{total}s"


def cause_words(motivo: Any) -> str:
    return CAUSE_WORDS.get(str(motivo or "indeterminado"), str(motivo))


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.ChainableUndefined,
        keep_trailing_newline=False,
    )
    env.filters.update(numero=br_number, horario=br_time, duracao=br_duration, causa=cause_words)
    return env


def telegram_length(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units), a safe upper bound for the limit."""
    return len(text.encode("utf-16-le")) // 2


def render_telegram(kind: str, payload: Mapping[str, Any], max_clients: int = 50) -> str:
    """The HTML message for one alert, guaranteed to fit `TELEGRAM_LIMIT`."""
    template = _environment().get_template(f"telegram_{kind}.html")
    items = _items(kind, payload)
    shown = _fitting_count(lambda n: _render(template, kind, payload, items, n), min(max_clients, len(items)))
    return _render(template, kind, payload, items, shown)


def render_text(kind: str, payload: Mapping[str, Any]) -> str:
    """A one-line plain text of the alert (WhatsApp template parameter), at most 1,000 chars."""
    template = _environment().get_template(f"whatsapp_{kind}.txt")
    items = _items(kind, payload)
    shown = min(10, len(items))
    text = " ".join(_render(template, kind, payload, items, shown).split())
    return text if len(text) <= WHATSAPP_PARAM_LIMIT else text[: WHATSAPP_PARAM_LIMIT - 1] + "…"


def escape_markdown(text: str) -> str:
    """Text shown as written in Telegram's legacy Markdown (`_`, `*`, backtick, `[` escaped)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def _items(kind: str, payload: Mapping[str, Any]) -> list[Any]:
    field = _LIST_FIELD.get(kind)
    return list(payload.get(field[0], None) or []) if field else []


def _render(
    template: jinja2.Template, kind: str, payload: Mapping[str, Any], items: list[Any], shown: int
) -> str:
    context = clip_values(dict(payload))
    field = _LIST_FIELD.get(kind)
    if field is not None:
        context.pop(field[0], None)
        context[field[1]] = clip_values(items[:shown])
    context["restantes"] = len(items) - shown
    context["itens_total"] = len(items)
    context["eventos_total"] = len(items)
    text = template.render(**context)
    if payload.get("repeticao"):
        name = (
            "telegram_repeticao.html"
            if str(template.name).startswith("telegram_")
            else "whatsapp_repeticao.txt"
        )
        text = _environment().get_template(name).render() + "\n" + text
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _fitting_count(render: Any, upper: int) -> int:
    """The largest n <= upper whose rendering fits Telegram's limit (binary search)."""
    if telegram_length(render(upper)) <= TELEGRAM_LIMIT:
        return upper
    low, high = 0, upper
    while low < high:
        mid = (low + high + 1) // 2
        if telegram_length(render(mid)) <= TELEGRAM_LIMIT:
            low = mid
        else:
            high = mid - 1
    return low
