"""Who may send alarms: the OLTs of the inventory (by address) and the listed concentrators.

An OLT sends from its `host` (when it is an address, or a name that resolves) and from the
`addresses` of its inventory entry. Its traps must carry its `snmp_community` (or, for entries
without one, ALARM_SNMP_COMMUNITY); the comparison does not leak timing.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from outage.adapters.cause.inventory import OltEntry

log = logging.getLogger(__name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class OltSender:
    """An OLT allowed to send alarms."""

    entry: OltEntry
    community: bytes

    @property
    def key(self) -> str:
        return f"olt:{self.entry.id_transmissor}"

    def accepts(self, community: bytes) -> bool:
        return bool(self.community) and hmac.compare_digest(self.community, community)


class Directory:
    """Sender address -> OLT or concentrator (see the module docstring)."""

    def __init__(
        self,
        olts: Mapping[str, OltEntry],
        *,
        default_community: str = "",
        concentrators: Iterable[str] = (),
        suspect: Iterable[str] = (),
    ) -> None:
        self.olts: dict[str, OltSender] = {}
        self.by_address: dict[str, OltSender] = {}
        for entry in olts.values():
            sender = OltSender(entry, (entry.snmp_community or default_community).encode())
            self.olts[entry.id_transmissor] = sender
            for address in _addresses(entry):
                self.by_address.setdefault(address, sender)
        self.concentrators = [ipaddress.ip_network(c, strict=False) for c in concentrators]
        self._suspect = [ipaddress.ip_network(c, strict=False) for c in suspect]

    def olt_at(self, address: str) -> OltSender | None:
        return self.by_address.get(_plain(address))

    def concentrator_at(self, address: str) -> str | None:
        """The concentrator's key (`bng:<address>`) when `address` is one of the listed ones."""
        return f"bng:{_plain(address)}" if _within(address, self.concentrators) else None

    def suspect(self, address: str) -> bool:
        """Whether a User-Request from this concentrator may be a line that died (Huawei NE8000/ME60)."""
        return _within(address, self._suspect)

    def device_at(self, address: str) -> str | None:
        olt = self.olt_at(address)
        return olt.key if olt is not None else self.concentrator_at(address)


def _plain(address: str) -> str:
    """`::ffff:10.0.0.1` (an IPv4 sender on a dual-stack socket) -> `10.0.0.1`."""
    return address[7:] if address.startswith("::ffff:") else address


def _within(address: str, networks: list[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(_plain(address))
    except ValueError:
        return False
    return any(ip in net for net in networks)


def _addresses(entry: OltEntry) -> list[str]:
    found = list(entry.addresses)
    if entry.host:
        try:
            found.append(str(ipaddress.ip_address(entry.host)))
        except ValueError:
            found += _resolve(entry.host)
    return found


def _resolve(host: str) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_UDP)
    except OSError as exc:
        log.warning("alarmes: não foi possível resolver %s (%s); use addresses no inventário", host, exc)
        return []
    return sorted({str(info[4][0]) for info in infos})
