"""Between the receivers and the poller: per-sender rate limits, a bounded queue, and the counts.

The receivers (one thread) call `admit(protocol, sender)` before parsing a packet and
`refuse(...)` / `accept(alarm)` after; the poller calls `drain(n)`. Nothing blocks: a full
queue or an exhausted rate refuses the alarm and counts why. Every count is kept per protocol
and reason, and per known device (OLT `id_transmissor`, concentrator address), so `/healthz`
and the Saúde page can show what arrived, what was refused and which OLT fell silent.

Unknown senders are counted together (their addresses cannot grow the tables: the last few
are kept to show the operator).
"""

from __future__ import annotations

import threading
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from outage.adapters.alarms.event import SOURCES, Alarm
from outage.clock import SYSTEM_CLOCK, Clock

FULL = "fila cheia"
RATE = "acima do limite por equipamento"
UNKNOWN_SENDER = "origem desconhecida"
MAX_TRACKED_SENDERS = 10_000
RECENT_UNKNOWN = 10


@dataclass
class _Bucket:
    tokens: float
    stamp: float


@dataclass
class DeviceStats:
    """One OLT's or concentrator's counts; `last_at` is wall time, `last_mono` monotonic."""

    kind: str  # "olt" or "concentrador"
    name: str
    received: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)
    last_at: float | None = None
    last_mono: float | None = None
    unmapped: int = 0
    expected: bool = True  # configured to send alarms: its silence is shown even before the first


class Intake:
    """See the module docstring. `rate` alarms per second per sender, `burst` at once."""

    def __init__(self, *, capacity: int, rate: float, burst: int, clock: Clock = SYSTEM_CLOCK) -> None:
        self.capacity = capacity
        self.rate = rate
        self.burst = float(burst)
        self.clock = clock
        self.started_mono = clock.monotonic()
        self._lock = threading.Lock()
        self._queue: deque[Alarm] = deque()
        self._buckets: dict[str, _Bucket] = {}
        self.received: Counter[str] = Counter()
        self.accepted: Counter[str] = Counter()
        self.refused: Counter[tuple[str, str]] = Counter()
        self.unmapped: Counter[str] = Counter()
        self.devices: dict[str, DeviceStats] = {}
        self.recent_unknown: deque[str] = deque(maxlen=RECENT_UNKNOWN)

    # ---------------------------------------------------------------- receivers' side

    def register(self, key: str, kind: str, name: str, *, expected: bool = True) -> None:
        """Name a device (`key` is `olt:<id>` or `bng:<address>`); an OLT `expected` to send is
        shown silent when it never did, the others only once they fell silent."""
        with self._lock:
            self.devices.setdefault(key, DeviceStats(kind, name, expected=expected))

    def admit(self, protocol: str, sender: str, device: str | None) -> bool:
        """Whether a packet from `sender` may be read now; counts it as received either way.

        `device` is its key (`olt:<id>` / `bng:<address>`) or None for an unknown sender, which
        is refused here.
        """
        with self._lock:
            self.received[protocol] += 1
            if device is None:
                self.refused[(protocol, UNKNOWN_SENDER)] += 1
                if sender not in self.recent_unknown:
                    self.recent_unknown.append(sender)
                return False
            stats = self.devices.get(device)
            if stats is not None:
                stats.received[protocol] += 1
            if not self._take_token(sender):
                self._refuse(protocol, RATE, device)
                return False
            return True

    def refuse(self, protocol: str, reason: str, device: str | None = None) -> None:
        """Count a packet refused after it was admitted (malformed, wrong community, ...)."""
        with self._lock:
            self._refuse(protocol, reason, device)

    def ignore(self, protocol: str) -> None:
        """Count a well-formed message that reports nothing (another log line, an Interim-Update)."""
        with self._lock:
            self.accepted[protocol] += 1

    def accept(self, alarm: Alarm, device: str, *, mapped: bool) -> bool:
        """Queue an alarm (False, counted as refused, when the queue is full)."""
        with self._lock:
            if len(self._queue) >= self.capacity:
                self._refuse(alarm.source, FULL, device)
                return False
            self._queue.append(alarm)
            self.accepted[alarm.source] += 1
            stats = self.devices.get(device)
            if stats is not None:
                stats.last_at, stats.last_mono = alarm.received, self.clock.monotonic()
                if not mapped:
                    stats.unmapped += 1
            if not mapped:
                self.unmapped[alarm.source] += 1
            return True

    def _refuse(self, protocol: str, reason: str, device: str | None) -> None:
        self.refused[(protocol, reason)] += 1
        stats = self.devices.get(device) if device else None
        if stats is not None:
            stats.refused[reason] += 1

    def _take_token(self, sender: str) -> bool:
        now = self.clock.monotonic()
        bucket = self._buckets.get(sender)
        if bucket is None:
            if len(self._buckets) >= MAX_TRACKED_SENDERS:
                self._buckets.clear()  # spoofed senders cannot grow the table without bound
            bucket = self._buckets[sender] = _Bucket(self.burst, now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.stamp) * self.rate)
        bucket.stamp = now
        if bucket.tokens < 1.0:
            return False
        bucket.tokens -= 1.0
        return True

    # ---------------------------------------------------------------- poller's side

    def drain(self, max_items: int) -> list[Alarm]:
        """Up to `max_items` alarms, oldest first, removed from the queue."""
        with self._lock:
            count = min(max_items, len(self._queue))
            return [self._queue.popleft() for _ in range(count)]

    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    def snapshot(self, silent_after: float) -> dict[str, Any]:
        """Counts for `/healthz` and the Saúde page (JSON-ready, Portuguese keys).

        An OLT registered for alarms that sent nothing for `silent_after` seconds (since the
        start, when it never did) is `silenciosa`; 0 turns that off.
        """
        now = self.clock.monotonic()
        with self._lock:
            fontes = {
                protocol: {
                    "recebidos": self.received[protocol],
                    "aceitos": self.accepted[protocol],
                    "sem_login": self.unmapped[protocol],
                    "recusados": {r: n for (p, r), n in sorted(self.refused.items()) if p == protocol},
                }
                for protocol in SOURCES
            }
            devices = [
                self._device(key, stats, now, silent_after) for key, stats in sorted(self.devices.items())
            ]
            return {
                "fila": len(self._queue),
                "capacidade": self.capacity,
                "fontes": fontes,
                "equipamentos": devices,
                "silenciosas": [d["nome"] for d in devices if d["silenciosa"]],
                "origens_desconhecidas_recentes": list(self.recent_unknown),
            }

    def _device(self, key: str, stats: DeviceStats, now: float, silent_after: float) -> dict[str, Any]:
        since = now - (stats.last_mono if stats.last_mono is not None else self.started_mono)
        heard = stats.expected or stats.last_mono is not None
        silent = stats.kind == "olt" and heard and silent_after > 0 and since > silent_after
        return {
            "chave": key,
            "tipo": stats.kind,
            "nome": stats.name,
            "ultimo_alarme": stats.last_at,
            "segundos_desde_ultimo": None if stats.last_mono is None else round(since, 1),
            "recebidos": dict(stats.received),
            "recusados": dict(stats.refused),
            "sem_login": stats.unmapped,
            "silenciosa": silent,
        }
