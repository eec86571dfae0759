"""The poller lease's holders: under gunicorn with several workers, exactly one process polls.

Each process claims the lease (see `outage.storage.cycles`) under an id that names it, so
operators can tell who polls, and a claim left by a process of this host that died can be
recovered at once.
"""

from __future__ import annotations

import os
import socket
import uuid


def new_holder_id() -> str:
    """A holder id that names the process for operators: host:pid:random."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def is_dead_here(holder: str) -> bool:
    """True when `holder` (a `new_holder_id`) names a process of this host that no longer
    exists: its claims can be recovered at once, without waiting for them to expire."""
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
