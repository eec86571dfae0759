"""Which backend asks which OLT: a table from the inventory's kind to its class.

The kind of an inventory entry is its `vendor` when it is reached over SSH (the default
`"backend": "ssh"`), else its `backend`. Adding a vendor or a source is one module with an
`OltBackend` subclass, one line here, and its tests.
"""

from __future__ import annotations

from outage.adapters.cause.backend import OltBackend, Sources
from outage.adapters.cause.huawei import HuaweiBackend
from outage.adapters.cause.inventory import OltEntry
from outage.adapters.cause.middleware import MiddlewareBackend
from outage.adapters.cause.olt_system import OltSystemBackend
from outage.adapters.cause.zte import ZteBackend

BACKENDS: dict[str, type[OltBackend]] = {
    "huawei": HuaweiBackend,
    "zte": ZteBackend,
    "olt_system": OltSystemBackend,
    "middleware": MiddlewareBackend,
}


def build_backend(olt: OltEntry, sources: Sources) -> OltBackend:
    """The backend for an inventory entry (entries come from `inventory.load(..., BACKENDS)`)."""
    return BACKENDS[olt.kind](olt, sources)
