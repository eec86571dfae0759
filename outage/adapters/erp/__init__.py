"""Readers of PPPoE state from the ERP: IXCSoft directly, or the original monitor's middleware.

`ERPS` is the table of the ERP sources (`ErpKind`, one per module), in order of
preference: the first the settings configure is read (`IXC_URL` wins over `IXCSOFT_SERVICE_URL`).
Adding an ERP is its module declaring its settings and its `ErpKind`
(`outage.adapters.erp.base`), one line here, and its tests: the configuration
(`outage.config.load_settings(erps=ERPS)` has each source read and check its own settings,
and refuses to start when none is configured), the Saúde page and the log redaction read the table.
"""

from __future__ import annotations

from outage.adapters.erp import ixc, middleware
from outage.adapters.erp.base import ErpKind, ErpReader, ErpReadError, Observation
from outage.config import Settings

ERPS: tuple[ErpKind, ...] = (ixc.KIND, middleware.KIND)


def configured_erp(settings: Settings) -> ErpKind | None:
    """The ERP source the configuration asks for (None: none configured)."""
    return next((kind for kind in ERPS if kind.enabled(settings)), None)


def build_reader(settings: Settings) -> ErpReader:
    """The reader of the configured ERP source."""
    kind = configured_erp(settings)
    if kind is None:
        raise ValueError("nenhuma fonte de ERP configurada")
    return kind.build(settings)


def secrets(settings: Settings) -> list[str]:
    """Every ERP source's secrets in `settings`, for `outage.http.register_secret`."""
    return [secret for kind in ERPS for secret in kind.secrets(settings)]


__all__ = [
    "ERPS",
    "ErpKind",
    "ErpReadError",
    "ErpReader",
    "Observation",
    "build_reader",
    "configured_erp",
    "secrets",
]
