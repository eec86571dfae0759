"""One clock discipline: wall time for records, monotonic time for schedules and ages.

The wall clock (`time.time`) jumps either way — an NTP step, a hand-set date, a virtual
machine restored from a snapshot — so it only stamps what is written for people to read.
How long ago something happened, and when the next cycle is due, are measured on the
monotonic clock, which never jumps. On Linux every process of one boot reads the same
monotonic clock, so an age written by one process (the poller) can be measured by another
(a gunicorn worker answering `/healthz`) when both name the same `boot_id`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

BOOT_ID_FILE = Path("/proc/sys/kernel/random/boot_id")


def read_boot_id() -> str:
    """This boot's id; "" where the system does not tell (ages then fall back to wall time)."""
    try:
        return BOOT_ID_FILE.read_text(encoding="ascii").strip()
    except OSError:
        return ""


@dataclass(frozen=True)
class Clock:
    """The clocks a component reads; tests inject their own."""

    wall: Callable[[], float] = time.time
    monotonic: Callable[[], float] = time.monotonic
    boot_id: str = field(default_factory=read_boot_id)

    def same_boot(self, other_boot_id: str | None) -> bool:
        """True when monotonic readings stamped with `other_boot_id` can be compared with ours."""
        return bool(self.boot_id) and other_boot_id == self.boot_id


SYSTEM_CLOCK = Clock()
