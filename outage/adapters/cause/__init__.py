"""Cause and place of an outage: ask the OLTs why and where the customers dropped.

`build_analyzer(settings, env)` returns the analyzer the poller calls
(`analyzer.analyze(subscribers, deadline)` → `CauseReport`); `validate_inventory(settings,
env)` lists every problem of the OLT inventory file for `--check-config`. Each OLT is asked
by the backend its inventory entry names (`registry.BACKENDS`, contract in `backend.py`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from outage.adapters.cause import inventory
from outage.adapters.cause.analyzer import CompositeAnalyzer
from outage.adapters.cause.base import CauseAnalyzer, CauseReport
from outage.adapters.cause.olt_system import OltSystemClient
from outage.adapters.cause.registry import BACKENDS
from outage.config import Settings

__all__ = [
    "CauseAnalyzer",
    "CauseReport",
    "CompositeAnalyzer",
    "build_analyzer",
    "olt_names",
    "validate_inventory",
]


def build_analyzer(settings: Settings, env: Mapping[str, str] | None = None) -> CauseAnalyzer:
    """The composite analyzer for these settings (inventory read now; invalid entries skipped)."""
    environment = os.environ if env is None else env
    client = None
    if settings.olt_system_enabled:
        client = OltSystemClient.for_settings(settings, timeout=min(10.0, settings.olt_timeout))
    return CompositeAnalyzer(
        inventory.load(settings.olt_inventory, environment, BACKENDS),
        sample_size=settings.olt_sample_size,
        olt_timeout=settings.olt_timeout,
        middleware_url=settings.olt_service_url,
        olt_system=client,
    )


def olt_names(settings: Settings, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """`id_transmissor` -> OLT name, from the inventory (empty when there is none)."""
    entries = inventory.load(settings.olt_inventory, os.environ if env is None else env, BACKENDS)
    return {ident: entry.name for ident, entry in entries.items()}


def validate_inventory(settings: Settings, env: Mapping[str, str]) -> list[str]:
    """Every problem of the inventory file named by OLT_INVENTORY (a missing file is fine),
    including entries whose backend needs a setting that is missing."""
    problems = inventory.validate(settings.olt_inventory, env, BACKENDS)
    for entry in inventory.load(settings.olt_inventory, env, BACKENDS).values():
        missing = BACKENDS[entry.kind].settings_problem(settings)
        if missing:
            problems.append(f"OLT {entry.name} (id_transmissor {entry.id_transmissor}): {missing}")
    return problems
