"""Every active login's ERP record, kept between polls for what the ERP poll does not bring.

The ERP poll lists only the offline logins; an alarm names a login that is still online in the
last poll, and its drop needs that login's record (its place, its customer). The roster is
filled by the place populations' read (`ErpReader.read_population(each)`): `start()` gives the
callable that read feeds, `commit()` makes the new set current (a read that failed or was
discarded is simply never committed). Records are kept packed (one string each: about 45 MB
for 200,000 logins) and unpacked on demand.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

from outage.core.model import Subscriber, pack, unpack


class Roster:
    """See the module docstring. `on_commit` is called (in the committing thread) after each
    new set becomes current."""

    def __init__(self, on_commit: Callable[[Roster], None] | None = None) -> None:
        self._current: dict[str, str] = {}
        self._next: dict[str, str] | None = None
        self._lock = threading.Lock()
        self.loaded = False
        self.on_commit = on_commit

    def start(self) -> Callable[[Subscriber], None]:
        """Begin a new set; returns what adds one record to it."""
        fresh: dict[str, str] = {}
        self._next = fresh

        def add(sub: Subscriber) -> None:
            fresh[sub.login] = pack(sub)

        return add

    def commit(self) -> None:
        """Make the set begun by `start()` current."""
        if self._next is None:
            return
        with self._lock:
            self._current, self._next = self._next, None
            self.loaded = True
        if self.on_commit is not None:
            self.on_commit(self)

    def discard(self) -> None:
        self._next = None

    def get(self, login: str) -> Subscriber | None:
        data = self._current.get(login)
        return unpack(data) if data is not None else None

    def subscribers(self) -> Iterator[Subscriber]:
        """Every record of the current set (a snapshot: a commit meanwhile does not change it)."""
        with self._lock:
            current = self._current
        return (unpack(data) for data in current.values())

    def __len__(self) -> int:
        return len(self._current)
