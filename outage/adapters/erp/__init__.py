"""Readers of PPPoE state from the ERP: IXCSoft directly, or the original monitor's middleware."""

from __future__ import annotations

from outage.adapters.erp.base import ErpReader, ErpReadError, Observation
from outage.config import Settings


def build_reader(settings: Settings) -> ErpReader:
    """The reader the configuration asks for (`IXC_URL` wins over `IXCSOFT_SERVICE_URL`)."""
    if settings.erp_mode == "direct":
        from outage.adapters.erp.ixc import IxcReader

        return IxcReader(settings)
    if settings.erp_mode == "middleware":
        from outage.adapters.erp.middleware import MiddlewareReader

        return MiddlewareReader(settings)
    raise ValueError("nenhuma fonte de ERP configurada")


__all__ = ["ErpReadError", "ErpReader", "Observation", "build_reader"]
