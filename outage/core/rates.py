"""How often each place loses a login on its own: background churn, learned per place.

Customers drop all day for their own reasons (router reboots, power at home, travel). A
place's churn rate says how many drops in one onset window are ordinary there: four drops
in five minutes are nothing on a connection of 10,000 logins and an outage on a CTO of 8.

Counts are the drops that joined no incident, per place at every level of the login's
path, decayed with a time constant of `DECAY` (a week), against the observed time (the sum
of intervals between good polls, decayed alike). A place seen little leans on a prior: a
typical churn per login (a real ISP has ~3 % offline at any moment, mostly short drops —
about 0.3 drops per login per day) times the place's size — its active logins as the ERP
counts them, or a typical size of its level while that count is unknown — worth
`PRIOR_DROPS` drops of evidence. Big places learn their rate within minutes; small ones
start from the prior and become more sensitive as quiet days accumulate.

A candidate of `k` drops in one place within the onset window `w` is unlikely to be churn
when `k` reaches the threshold and either half of the place's active logins dropped (a
small connection going dark is an outage from the first cycle, as the original monitor's
per-connection threshold had it), or a Poisson count with the place's mean `rate * w`
reaches `k` with probability below `SIGNIFICANCE` (1e-7: with ~20,000 places polled 288
times a day, about one false alarm in two years of churn).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from outage.core.place import CONEXAO, CTO, OLT, PON, level_of

DECAY = 7 * 86400.0
SIGNIFICANCE = 1e-7
PRIOR_DROPS_PER_LOGIN = 0.3 / 86400.0
PRIOR_SIZE = {CTO: 16, PON: 64, OLT: 1024, CONEXAO: 4096}
PRIOR_DROPS = 2.0


@dataclass(slots=True)
class Count:
    value: float
    at: float

    def decayed(self, now: float) -> float:
        return self.value * math.exp(-max(0.0, now - self.at) / DECAY)


@dataclass
class PlaceRates:
    """Decayed churn counts per place and the decayed observed time (see the module docstring)."""

    counts: dict[str, Count] = field(default_factory=dict)
    exposure: Count = field(default_factory=lambda: Count(0.0, 0.0))

    def observe(self, seconds: float, now: float) -> None:
        """Add the time between two good polls to the observed time."""
        self.exposure = Count(self.exposure.decayed(now) + max(0.0, seconds), now)

    def add(self, key: str, delta: float, now: float) -> None:
        count = self.counts.get(key)
        current = count.decayed(now) if count is not None else 0.0
        self.counts[key] = Count(max(0.0, current + delta), now)

    def rate(self, key: str, now: float, active: int = 0) -> float:
        """Drops per second at `key` (with `active` logins, 0 when unknown), the prior blended in
        as `PRIOR_DROPS` drops of evidence."""
        prior = PRIOR_DROPS_PER_LOGIN * (active if active > 0 else PRIOR_SIZE[level_of(key)])
        count = self.counts.get(key)
        seen = count.decayed(now) if count is not None else 0.0
        return (seen + PRIOR_DROPS) / (self.exposure.decayed(now) + PRIOR_DROPS / prior)

    def unlikely(
        self, key: str, drops: int, window: float, threshold: int, now: float, active: int = 0
    ) -> bool:
        """True when `drops` in `window` seconds at `key` (with `active` logins, 0 when unknown)
        are not what its churn explains (see the module docstring)."""
        if drops < threshold:
            return False
        if active > 0 and 2 * drops >= active:
            return True
        return poisson_tail(drops, self.rate(key, now, active) * window) < SIGNIFICANCE


def poisson_tail(k: int, mean: float) -> float:
    """P(N >= k) for N ~ Poisson(mean); exact enough where it matters (small tails)."""
    if k <= 0:
        return 1.0
    if mean <= 0:
        return 0.0
    if k <= mean:
        return 1.0  # at least about one half: never "unlikely"
    log_term = k * math.log(mean) - mean - math.lgamma(k + 1)
    total = 0.0
    i = k
    while True:
        term = math.exp(log_term)
        total += term
        if term <= total * 1e-12 or i > k + 10_000:
            return min(1.0, total)
        i += 1
        log_term += math.log(mean) - math.log(i)
