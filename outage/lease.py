"""The poller lease's holders: under gunicorn with several workers, exactly one process polls.

Each process claims the lease (see `outage.storage.cycles`) under an id that names it,
`instance:pid:random`, so operators can tell who polls, and a claim left by a process of this
instance that died can be recovered at once. The instance is `INSTANCE_NAME` (the host name
unless set): two instances that share a host name -- two containers in one network
namespace -- need names of their own, since a pid means something only inside its instance.
"""

from __future__ import annotations

import os
import threading
import uuid

_superseded: set[str] = set()  # holders this process took the lease over from
_superseded_lock = threading.Lock()


def new_holder_id(instance: str) -> str:
    """A holder id that names the process of `instance` for operators: instance:pid:random."""
    return f"{instance}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def instance_of(holder: str) -> str:
    """The instance a holder id (a `new_holder_id`) belongs to."""
    return holder.partition(":")[0]


def supersede(holder: str) -> None:
    """Remember that this process took the lease over from `holder` after its term ran out
    without a renewal: `holder` died (on any machine) or lost the database, and in both cases
    it no longer polls or sends (a holder that cannot renew stands down before its term ends)."""
    with _superseded_lock:
        _superseded.add(holder)


def is_gone(holder: str, instance: str) -> bool:
    """True when `holder`'s claims can be recovered now: it was superseded by this process
    (`supersede`), or it is a process of this instance that no longer exists (`is_dead_here`)."""
    with _superseded_lock:
        if holder in _superseded:
            return True
    return is_dead_here(holder, instance)


def is_dead_here(holder: str, instance: str) -> bool:
    """True when `holder` (a `new_holder_id`) names a process of `instance`, this process's
    own, that no longer exists: its claims can be recovered at once, without waiting for them
    to expire. Another instance's processes are never judged from here."""
    pid = holder.partition(":")[2].partition(":")[0]
    if instance_of(holder) != instance or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
