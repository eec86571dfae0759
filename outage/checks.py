"""What a valid configuration still leaves off, said once at start-up and by `--check-config`.

Problems stop the process (`outage.config`); these are warnings, each with its fix: a
part that is silently off (no OLT inventory: no cause analysis; no channel for the NOC or
for the customers), a part configured
halfway (a WhatsApp account nobody uses), a panel that takes logins over plain HTTP, a
panel that only takes HTTPS with no proxy trusted to say so.
"""

from __future__ import annotations

import json
from pathlib import Path

from outage.adapters.channels import registry
from outage.config import Settings

EXAMPLE_INVENTORY = Path(__file__).resolve().parent.parent / "olts.example.json"


def warnings(settings: Settings) -> list[str]:
    """Every warning for `settings`, in Portuguese, each saying what to do."""
    return [*inventory_warnings(settings), *channel_warnings(settings), *web_warnings(settings)]


def inventory_warnings(settings: Settings) -> list[str]:
    """A missing, empty or still-example OLT inventory (the cause analysis is then off)."""
    if settings.olt_service_url:
        return []  # the original's OLT service answers for every OLT not in the inventory
    path = Path(settings.olt_inventory)
    off = "a causa (energia ou rompimento) e o local pela OLT ficam desligados"
    if not path.exists():
        return [
            f"Inventário de OLTs {path} não existe: {off}. Copie olts.example.json para {path} e troque os "
            "exemplos pelas suas OLTs (senhas no .env, pelos nomes em password_env)."
        ]
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []  # unreadable or invalid: a problem listed by the inventory's own check
    if entries == []:
        return [
            f"Inventário de OLTs {path} está vazio: {off}. Inclua as suas OLTs (modelo em olts.example.json)."
        ]
    if EXAMPLE_INVENTORY.exists() and entries == json.loads(EXAMPLE_INVENTORY.read_text(encoding="utf-8")):
        return [
            f"Inventário de OLTs {path} ainda é o exemplo (OLT-CENTRO em 10.1.10.14 …): troque pelas suas OLTs, "
            "com o id_transmissor de cada uma no IXCSoft."
        ]
    return []


def channel_warnings(settings: Settings) -> list[str]:
    """No channel for the NOC, none for the customers, and every channel configured halfway
    (set up, but nothing will ever go through it)."""
    found: list[str] = []
    if not registry.configured_channels(settings):
        setups = [kind.noc_setup or kind.setup for kind in registry.CHANNELS]
        found.append(
            "Nenhum canal de alerta configurado: os eventos serão registrados, mas o NOC não será avisado. "
            f"Configure um destes: {'; '.join(setups)}."
        )
    if registry.customer_channel(settings) is None:
        setups = [
            f"{kind.setup} ({kind.customers.label})" for kind in registry.customer_kinds() if kind.customers
        ]
        found.append(
            "Nenhum provedor de avisos aos clientes: o botão Aprovar e Disparar vai recusar. "
            f"Configure {' ou '.join(setups)}."
        )
    return found + [warning for kind in registry.CHANNELS for warning in kind.warnings(settings)]


def web_warnings(settings: Settings) -> list[str]:
    """Logins over plain HTTP allowed, or HTTPS required with no proxy trusted."""
    if settings.demo:
        return []
    if not settings.https_only:
        why = (
            f"APP_ENV={settings.app_env}"
            if settings.session_cookie_secure == "auto"
            else f"SESSION_COOKIE_SECURE={settings.session_cookie_secure}"
        )
        return [
            f"O painel aceita login por HTTP ({why}): senhas e sessões trafegam sem criptografia. Use só num "
            "teste na rede local; em produção, APP_ENV=production e HTTPS pelo proxy reverso (README, Produção)."
        ]
    if not settings.trusted_proxies:
        return [
            "TRUSTED_PROXIES vazio: em produção o painel só aceita login por HTTPS, pelo proxy reverso. Liste o "
            "endereço do proxy (ex.: 127.0.0.1) para o limite de tentativas de login contar o endereço de cada "
            "cliente, e não o do proxy, e para o painel saber que o acesso é HTTPS."
        ]
    return []
