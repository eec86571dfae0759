"""Readers of PPPoE state from the ERP: IXCSoft directly, or the original monitor's middleware."""

from __future__ import annotations

from outage.config import Settings
from outage.erp.base import ErpReader, ErpReadError, Observation


def build_reader(settings: Settings) -> ErpReader:
    """The reader the configuration asks for (`IXC_URL` wins over `IXCSOFT_SERVICE_URL`)."""
    if settings.erp_mode == "direct":
        from outage.erp.ixc import IxcReader

        return IxcReader(settings)
    if settings.erp_mode == "middleware":
        from outage.erp.middleware import MiddlewareReader

        return MiddlewareReader(settings)
    raise ValueError("nenhuma fonte de ERP configurada")


__all__ = ["ErpReadError", "ErpReader", "Observation", "build_reader"]
