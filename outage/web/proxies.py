"""Who may tell the client's address and scheme: the peers listed in `TRUSTED_PROXIES`.

Behind a reverse proxy every connection comes from the proxy; the proxy tells the real
client in `X-Forwarded-For` and the scheme the browser used in `X-Forwarded-Proto`. Anyone
can send those headers, so they are believed only when the connection's own address is in
`TRUSTED_PROXIES` (addresses or networks): then Werkzeug's `ProxyFix` takes the last hop
of each header (the one that proxy wrote) for the client's address, scheme, host and port.
From any other peer they are ignored, and the first requests from such a peer are logged:
it is the usual sign of a proxy missing from the list (the login throttle would then count
every user at the proxy's address).

`browser_scheme()` is the scheme the browser is on, for help texts only: it also believes
an untrusted `X-Forwarded-Proto`, which is never used for a security decision.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from werkzeug.middleware.proxy_fix import ProxyFix

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger(__name__)

FORWARDED_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST")
UNTRUSTED_PEER = "outage.untrusted_proxy"  # environ key: the peer whose forwarded headers were ignored
MAX_WARNED_PEERS = 64

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(values: Iterable[str]) -> tuple[Network, ...]:
    """`127.0.0.1`, `::1`, `172.18.0.0/16` ... as networks (values already validated)."""
    return tuple(ipaddress.ip_network(value, strict=False) for value in values)


def is_trusted(peer: str, networks: tuple[Network, ...]) -> bool:
    """Whether the address `peer` (an IPv4-mapped IPv6 address counts as its IPv4) is listed."""
    try:
        address = ipaddress.ip_address(peer.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in networks)


class TrustedProxies:
    """WSGI middleware: `ProxyFix` (one hop) for requests from a listed proxy, nothing else."""

    def __init__(self, app: WSGIApplication, trusted: Iterable[str]) -> None:
        self.app = app
        self.networks = parse_networks(trusted)
        self.fixed = ProxyFix(app, x_for=1, x_proto=1, x_host=1, x_port=1)
        self._warned: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        peer = str(environ.get("REMOTE_ADDR") or "")
        if is_trusted(peer, self.networks):
            return self.fixed(environ, start_response)
        if any(environ.get(header) for header in FORWARDED_HEADERS):
            environ[UNTRUSTED_PEER] = peer
            self._warn_once(peer)
        return self.app(environ, start_response)

    def _warn_once(self, peer: str) -> None:
        with self._lock:
            if peer in self._warned or len(self._warned) >= MAX_WARNED_PEERS:
                return
            self._warned.add(peer)
        log.warning(
            "cabeçalhos X-Forwarded-* recebidos de %s, que não está em TRUSTED_PROXIES: ignorados (o login e o "
            "limite de tentativas veem o endereço %s). Se esse é o seu proxy reverso, inclua-o em TRUSTED_PROXIES.",
            peer,
            peer,
        )


def browser_scheme(environ: dict[str, Any], scheme: str) -> str:
    """The scheme the browser is on: `scheme` (trusted), or what an unlisted proxy says it is."""
    if environ.get(UNTRUSTED_PEER) is not None:
        forwarded = str(environ.get("HTTP_X_FORWARDED_PROTO") or "").split(",")[-1].strip().lower()
        if forwarded in {"http", "https"}:
            return forwarded
    return scheme
