"""Incidents over time for the simulated ISP, with the OLT management system kept in agreement.

- `Incidents(network, olt_system, seed, threshold)`: `start(kind)` picks a place at random
  (seeded) and breaks it in the network; `fiber_cut`, `power_outage` and `cto_failure` also
  open alerts in the OLT management system fake (`pon_loss`, `pon_no_power`, `cto_loss`, with
  the affected ONUs and their clients), resolved by `recover(incident_id)`. Kinds: `KINDS`.
  A place is never smaller than `threshold` online customers (the detection threshold,
  `THRESHOLD_OFFLINE_CLIENTS`): an outage the monitor may not report is not a demo.
- `Scheduler`: one thread running callbacks at given delays (`at(delay, fn)`) or periodically
  (`every(period, fn)`), stoppable.
- `Scenario(incidents, scheduler, ...)`: the story of a demo: a fiber cut `first_after`
  seconds after start, then a random incident every `gap` seconds (8 to 15 minutes), only
  while nothing else is going on — no incident active and no flap still to come — so what a
  person triggers is seen as it is; every incident is repaired after a random time in
  `recovery` (its customers come back over minutes, a few much later). `trigger(kind)` starts
  one now. Background churn is the network's own (`Network.advance`).

Everything random comes from one seeded `random.Random`, so a run can be reproduced (the
wall-clock timing of threads aside).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from simulator.network import Customer, Network, format_local
from simulator.olt_system import OltSystemFake

log = logging.getLogger(__name__)

KINDS = ("fiber_cut", "power_outage", "cto_failure", "concentrator_failure", "churn", "flap")
RANDOM_WEIGHTS = {"fiber_cut": 4, "power_outage": 3, "cto_failure": 3, "concentrator_failure": 1, "flap": 1}
CALM_GAP = (480.0, 900.0)  # seconds between the demo's random incidents
FLAP_TIMES = 3
FLAP_DOWN = 240.0
FLAP_UP = 180.0
DEFAULT_THRESHOLD = 4


@dataclass
class ActiveIncident:
    """One incident started by `Incidents.start`: where, and the OLT-system alerts it opened."""

    id: str
    kind: str
    place: str
    customers: int
    started: float
    alert_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "tipo": self.kind,
            "local": self.place,
            "clientes": self.customers,
            "inicio": format_local(self.started),
        }


def _device(customer: Customer) -> dict[str, Any]:
    return {
        "client_id": customer.id_cliente,
        "sn_onu": customer.onu_mac,
        "client_name": customer.name,
        "status": "offline",
    }


class Incidents:
    """Starts and recovers incidents on the network and mirrors them in the OLT system fake."""

    def __init__(
        self,
        network: Network,
        olt_system: OltSystemFake | None = None,
        seed: int = 1,
        threshold: int = DEFAULT_THRESHOLD,
    ) -> None:
        self.network = network
        self.olt_system = olt_system
        self.threshold = threshold
        self.rng = random.Random(f"scenario-{seed}")
        self.active: dict[str, ActiveIncident] = {}
        self._lock = threading.RLock()

    def start(self, kind: str) -> ActiveIncident:
        """Break a random place of the network with `kind` (one of `KINDS` but `flap`)."""
        starters: dict[str, Callable[[], ActiveIncident]] = {
            "fiber_cut": self._fiber_cut,
            "power_outage": self._power_outage,
            "cto_failure": self._cto_failure,
            "concentrator_failure": self._concentrator_failure,
            "churn": self._churn,
        }
        if kind not in starters:
            raise ValueError(f"tipo de incidente desconhecido: {kind!r}; use um de {', '.join(KINDS)}")
        with self._lock:
            incident = starters[kind]()
            self.active[incident.id] = incident
        log.info("simulador: %s em %s (%d clientes)", kind, incident.place, incident.customers)
        return incident

    def recover(self, incident_id: str, *, stragglers: bool = True) -> None:
        """Repair the incident's place and resolve its OLT-system alerts (idempotent).

        The customers come back over the next minutes; with `stragglers` a few stay down much
        longer (see `Network.recover`).
        """
        with self._lock:
            incident = self.active.pop(incident_id, None)
        self.network.recover(incident_id, stragglers=stragglers)
        if incident is None:
            return
        for alert_id in incident.alert_ids:
            if self.olt_system is not None:
                self.olt_system.resolve_alert(alert_id)
        log.info("simulador: %s em %s normalizado", incident.kind, incident.place)

    def recover_all(self) -> None:
        for incident_id in list(self.active):
            self.recover(incident_id)

    def listing(self) -> list[dict[str, Any]]:
        with self._lock:
            return [i.as_dict() for i in self.active.values()]

    # --- places ----------------------------------------------------------------------

    def _busy(self) -> set[int]:
        return {index for i in self.active.values() for index in self.network.incident(i.id).members}

    def _big_enough(self, customers: list[Customer]) -> bool:
        """At least `threshold` of them are online now (so the outage can be detected)."""
        return sum(1 for c in customers if self.network.is_up(c)) >= self.threshold

    def _eligible_pons(self) -> list[tuple[str, str]]:
        """PONs with at least `threshold` online customers, free ones (no customer in an active
        incident) when there are any; LookupError when no PON is big enough."""
        busy = self._busy()
        pons = {key: members for key, members in self.network.pons().items() if self._big_enough(members)}
        if not pons:
            raise LookupError(f"nenhuma PON com pelo menos {self.threshold} clientes online")
        free = [key for key, members in pons.items() if not any(c.index in busy for c in members)]
        return free or list(pons)

    def cut_pon(self, olt_id: str, port: str, kind: str = "fiber_cut") -> ActiveIncident:
        """A fiber cut on that PON (with its `pon_loss` alert), recorded as `kind`."""
        with self._lock:
            incident_id = self.network.fiber_cut(olt_id, port)
            olt = self.network.olt(olt_id)
            alerts = [("pon_loss", olt_id, port, None)]
            incident = self._record(incident_id, kind, f"{olt.name} PON {port}", alerts)
            self.active[incident.id] = incident
        return incident

    def pick_pon(self) -> tuple[str, str]:
        """A random PON of at least `threshold` online customers, none of them in an active
        incident if there is such a PON; LookupError when no PON is big enough."""
        with self._lock:
            return self.rng.choice(self._eligible_pons())

    def _fiber_cut(self) -> ActiveIncident:
        olt_id, port = self.pick_pon()
        incident_id = self.network.fiber_cut(olt_id, port)
        olt = self.network.olt(olt_id)
        return self._record(
            incident_id, "fiber_cut", f"{olt.name} PON {port}", [("pon_loss", olt_id, port, None)]
        )

    def _power_outage(self) -> ActiveIncident:
        eligible = self._eligible_pons()
        olt_id, _ = self.rng.choice(eligible)
        same_olt = [key for key in eligible if key[0] == olt_id]
        chosen = self.rng.sample(same_olt, min(len(same_olt), self.rng.randint(2, 3)))
        incident_id = self.network.power_outage(chosen)
        olt = self.network.olt(olt_id)
        ports = ", ".join(port for _, port in chosen)
        alerts = [("pon_no_power", olt_id, port, None) for _, port in chosen]
        return self._record(incident_id, "power_outage", f"{olt.name} PONs {ports}", alerts)

    def _cto_failure(self) -> ActiveIncident:
        busy = self._busy()
        ctos = [cto for cto in self.network.ctos.values() if self._big_enough(cto.customers)]
        if not ctos:
            raise LookupError(f"nenhuma CTO com pelo menos {self.threshold} clientes online")
        free = [cto for cto in ctos if not any(c.index in busy for c in cto.customers)]
        cto = self.rng.choice(free or ctos)
        incident_id = self.network.cto_failure(cto.id)
        alerts = [("cto_loss", cto.olt.id, cto.port, cto)]
        return self._record(incident_id, "cto_failure", f"{cto.olt.name} {cto.name}", alerts)

    def _concentrator_failure(self) -> ActiveIncident:
        olt = self.rng.choice(self.network.olts)
        incident_id = self.network.concentrator_failure(olt.conexao)
        return self._record(incident_id, "concentrator_failure", f"concentrador {olt.concentrador}", [])

    def _churn(self) -> ActiveIncident:
        incident_id = self.network.churn(self.rng.randint(1, 3))
        return self._record(incident_id, "churn", "clientes avulsos", [])

    def _record(
        self, incident_id: str, kind: str, place: str, alerts: list[tuple[str, str, str, Any]]
    ) -> ActiveIncident:
        affected = self.network.expected(incident_id)
        incident = ActiveIncident(incident_id, kind, place, len(affected), time.time())
        if self.olt_system is None:
            return incident
        for alert_type, olt_id, port, cto in alerts:
            olt = self.network.olt(olt_id)
            members = [c for c in affected if c.olt.id == olt_id and c.port == port]
            if cto is not None:
                members = [c for c in members if c.cto.id == cto.id]
            for customer in members:
                phone = customer.client.contacts()["telefone_celular"]
                self.olt_system.set_client(customer.id_cliente, customer.name, phone)
            alert = {
                "alert_type": alert_type,
                "olt_id": olt.id,
                "olt_name": olt.name,
                "slot_pon": port,
                "pon": port,
                "cto_id": cto.id if cto is not None else None,
                "cto_name": cto.name if cto is not None else None,
            }
            incident.alert_ids.append(self.olt_system.add_alert(alert, [_device(c) for c in members]))
        return incident


class Scheduler:
    """Runs callbacks after delays on one daemon thread; exceptions are logged, not raised."""

    def __init__(self) -> None:
        self._queue: list[tuple[float, int, Callable[[], None]]] = []
        self._order = itertools.count()
        self._wake = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="simulador-agenda", daemon=True)

    def start(self) -> Scheduler:
        self._thread.start()
        return self

    def at(self, delay: float, action: Callable[[], None]) -> None:
        with self._wake:
            heapq.heappush(self._queue, (time.monotonic() + delay, next(self._order), action))
            self._wake.notify()

    def every(self, period: float, action: Callable[[], object]) -> None:
        """Run `action` every `period` seconds (the next run is scheduled once this one ends)."""

        def again() -> None:
            try:
                action()
            finally:
                self.at(period, again)

        self.at(period, again)

    def stop(self) -> None:
        with self._wake:
            self._stopped = True
            self._wake.notify()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._stopped and (not self._queue or self._queue[0][0] > time.monotonic()):
                    timeout = self._queue[0][0] - time.monotonic() if self._queue else None
                    self._wake.wait(timeout)
                if self._stopped:
                    return
                _, _, action = heapq.heappop(self._queue)
            try:
                action()
            except Exception:
                log.exception("simulador: falha numa ação agendada")


class Scenario:
    """The demo's story; `start()` schedules it, `trigger(kind)` adds an incident now.

    first_after: seconds until the scripted fiber cut (None: no scripted incident);
    gap: (min, max) seconds between random incidents (None: no random incidents); a random
      incident waits while another incident is active or a flap is still going on;
    recovery: (min, max) seconds until an incident's place is repaired.
    A flap takes its PON down `FLAP_TIMES` times, `FLAP_DOWN` seconds each, `FLAP_UP` apart
    (long enough for the sessions to end: the keepalive lag reaches 3 minutes).
    """

    def __init__(
        self,
        incidents: Incidents,
        scheduler: Scheduler,
        *,
        seed: int = 1,
        first_after: float | None = 20.0,
        gap: tuple[float, float] | None = CALM_GAP,
        recovery: tuple[float, float] = (240.0, 480.0),
    ) -> None:
        self.incidents = incidents
        self.scheduler = scheduler
        self.rng = random.Random(f"timing-{seed}")
        self.first_after = first_after
        self.gap = gap
        self.recovery = recovery
        self.flapping = 0  # flaps with falls still to come

    def start(self) -> Scenario:
        if self.first_after is not None:
            self.scheduler.at(self.first_after, lambda: self._quiet_trigger("fiber_cut"))
        if self.gap is not None:
            self.scheduler.at(self.rng.uniform(*self.gap), self._random_incident)
        return self

    def trigger(self, kind: str) -> dict[str, Any]:
        """Start an incident of `kind` now; it is repaired by itself after a random time.

        LookupError when the network has no place big enough for it (see `Incidents`).
        """
        if kind == "flap":
            return self._flap(FLAP_TIMES)
        incident = self.incidents.start(kind)
        lasts = 60.0 if kind == "churn" else self.rng.uniform(*self.recovery)
        self.scheduler.at(lasts, lambda: self.incidents.recover(incident.id))
        return {**incident.as_dict(), "normaliza_em_s": round(lasts)}

    def _quiet_trigger(self, kind: str) -> None:
        self.trigger(kind)

    def _flap(self, times: int) -> dict[str, Any]:
        olt_id, port = self.incidents.pick_pon()
        self.flapping += 1
        incident = self.incidents.cut_pon(olt_id, port, "flap")
        self.scheduler.at(FLAP_DOWN, lambda: self._flap_back(incident.id, olt_id, port, times - 1))
        return {**incident.as_dict(), "normaliza_em_s": round(FLAP_DOWN)}

    def _flap_back(self, incident_id: str, olt_id: str, port: str, times_left: int) -> None:
        self.incidents.recover(incident_id, stragglers=False)
        if times_left > 0:
            self.scheduler.at(FLAP_UP, lambda: self._flap_again(olt_id, port, times_left))
        else:
            self.flapping -= 1

    def _flap_again(self, olt_id: str, port: str, times_left: int) -> None:
        incident = self.incidents.cut_pon(olt_id, port, "flap")
        self.scheduler.at(FLAP_DOWN, lambda: self._flap_back(incident.id, olt_id, port, times_left - 1))

    def _random_incident(self) -> None:
        kinds = list(RANDOM_WEIGHTS)
        kind = self.rng.choices(kinds, weights=[RANDOM_WEIGHTS[k] for k in kinds])[0]
        try:
            if not self.incidents.active and not self.flapping:
                self.trigger(kind)
        finally:
            if self.gap is not None:
                self.scheduler.at(self.rng.uniform(*self.gap), self._random_incident)
