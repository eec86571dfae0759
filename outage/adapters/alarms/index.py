"""From an alarm to the login: the ERP's rows plus what the OLTs told us about their ONUs.

The ERP gives, per login, the OLT (`id_transmissor`), the PON (`interface_transmissao`) and the
GPON serial (`onu_mac`, hex). An alarm names the ONU by serial (ZTE's newer form, some Huawei
texts), by OLT + PON + ONT id (Huawei traps and alarm blocks, ZTE traps), or by the ONU's name
(ZTE; usually the login). OLT + PON + ONT id needs the OLT's own table (ONT id -> serial and
description), learned from the OLT (`learn.py`) and kept here.

`rebuild(subscribers)` replaces the ERP side at once (call it when the populations are
refreshed); the learned tables survive it. Every method is thread-safe: the tables are swapped
whole, never changed in place while a reader may hold them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from outage.adapters.alarms.event import ONU_DOWN, ONU_UP, Alarm
from outage.adapters.cause.parsers import normalize_fsp, serial_forms
from outage.core.model import Subscriber


@dataclass(frozen=True, slots=True)
class Place:
    """Where the ERP says a login is."""

    login: str
    olt: str
    fsp: str


@dataclass(frozen=True, slots=True)
class Ont:
    """One ONT as its OLT lists it."""

    fsp: str
    ont_id: int
    serial: str = ""  # hex
    description: str = ""


class LoginIndex:
    """See the module docstring."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_serial: dict[str, Place] = {}
        self._by_login: dict[str, Place] = {}
        self._onts: dict[tuple[str, str, int], Ont] = {}
        self._ports: dict[str, dict[int, str]] = {}
        self.subscribers = 0

    def rebuild(self, subscribers: Iterable[Subscriber]) -> None:
        """Replace the ERP side with these subscribers (logins without OLT still map by serial)."""
        by_serial: dict[str, Place] = {}
        by_login: dict[str, Place] = {}
        for sub in subscribers:
            olt = sub.id_transmissor if sub.id_transmissor not in ("", "0") else ""
            place = Place(sub.login, olt, normalize_fsp(sub.interface_transmissao))
            by_login[sub.login] = place
            hex_serial, _ = serial_forms(sub.onu_mac)
            if hex_serial:
                by_serial[hex_serial] = place
        with self._lock:
            self._by_serial, self._by_login = by_serial, by_login
            self.subscribers = len(by_login)

    def learn_onts(self, olt: str, onts: Iterable[Ont], *, ports: Iterable[str] | None = None) -> int:
        """Remember an OLT's ONTs (replacing what was known of the PONs listed in `ports`, or of
        the PONs these ONTs are on); returns how many."""
        fresh = {(olt, ont.fsp, ont.ont_id): ont for ont in onts}
        replaced = set(ports) if ports is not None else {fsp for _, fsp, _ in fresh}
        with self._lock:
            kept = {k: v for k, v in self._onts.items() if not (k[0] == olt and k[1] in replaced)}
            kept.update(fresh)
            self._onts = kept
        return len(fresh)

    def learn_ports(self, olt: str, ports: Mapping[int, str]) -> None:
        """Remember an OLT's ifIndex -> PON (`F/S/P`) table, read from the OLT."""
        with self._lock:
            self._ports = {**self._ports, olt: dict(ports)}

    def port_name(self, olt: str, if_index: int) -> str:
        """The PON of an ifIndex on that OLT, "" when not learned."""
        return self._ports.get(olt, {}).get(if_index, "")

    def knows_ports(self, olt: str) -> bool:
        return olt in self._ports

    def knows_onts(self, olt: str, fsp: str) -> bool:
        return any(k[0] == olt and k[1] == fsp for k in self._onts)

    def places(self) -> list[Place]:
        """Every login's place, as the ERP gave them."""
        return list(self._by_login.values())

    def place_of(self, login: str) -> Place | None:
        return self._by_login.get(login)

    def resolve(self, alarm: Alarm, hint: str = "") -> tuple[Alarm, bool]:
        """The alarm with its login (and PON) filled in when found, and whether an ONU alarm found
        one. Alarms about a PON or a concentrator need no login: they count as mapped."""
        if alarm.login:
            place = self._by_login.get(alarm.login)
            return (alarm.with_login(alarm.login, place.fsp) if place else alarm), True
        if alarm.kind not in (ONU_DOWN, ONU_UP):
            return alarm, True
        place = self._find(alarm, hint)
        if place is None:
            return alarm, False
        return alarm.with_login(place.login, place.fsp), True

    def _find(self, alarm: Alarm, hint: str) -> Place | None:
        if alarm.serial and alarm.serial in self._by_serial:
            return self._by_serial[alarm.serial]
        if alarm.fsp and alarm.ont_id is not None:
            ont = self._onts.get((alarm.olt, alarm.fsp, alarm.ont_id))
            if ont is not None:
                by_serial = self._by_serial.get(ont.serial) if ont.serial else None
                if by_serial is not None:
                    return by_serial
                hint = hint or ont.description
        place = self._by_login.get(hint) if hint else None
        if place is not None and place.olt in ("", alarm.olt):
            return place
        return None
