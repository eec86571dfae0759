"""The HSM dispatch console (the original `disparo_hsm`), by the name its users know.

The console is part of the monitor's app: its routes are `outage.web.hsm_console`, a
blueprint registered by `outage.web.app.create_app`. This file serves the same app:

    python hsm_dispatch.py                         as python monitor_service.py (same options)
    gunicorn -c gunicorn.conf.py hsm_dispatch:app  as monitor_service:app
"""

from __future__ import annotations

import sys
from typing import Any

import monitor_service


def __getattr__(name: str) -> Any:
    """`app` is the monitor's, built on first access (PEP 562): importing starts nothing."""
    if name == "app":
        return monitor_service.app
    raise AttributeError(name)


if __name__ == "__main__":
    sys.exit(monitor_service.main())
