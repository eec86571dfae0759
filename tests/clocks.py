"""A hand-moved clock for tests: the wall clock jumps when told, the monotonic one only advances."""

from __future__ import annotations

import threading

from outage.clock import Clock

BOOT = "boot-do-teste"


class HandClock:
    """A wall clock and a monotonic clock that move only when the test says so."""

    def __init__(self) -> None:
        self.wall_now = 1_790_000_000.0
        self.mono_now = 5_000.0
        self._lock = threading.Lock()

    def wall(self) -> float:
        with self._lock:
            return self.wall_now

    def monotonic(self) -> float:
        with self._lock:
            return self.mono_now

    def advance(self, seconds: float) -> None:
        """Time passes: both clocks move."""
        with self._lock:
            self.wall_now += seconds
            self.mono_now += seconds

    def jump(self, seconds: float) -> None:
        """Someone sets the date: only the wall clock moves (either way)."""
        with self._lock:
            self.wall_now += seconds

    def clock(self, boot_id: str = BOOT) -> Clock:
        return Clock(wall=self.wall, monotonic=self.monotonic, boot_id=boot_id)
