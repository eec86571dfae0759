"""A free port on 127.0.0.1 for the simulated systems and the monitor's receivers, free on both
TCP and UDP (the receivers take the same number for syslog over TCP and UDP, and the RADIUS and
SNMP receivers are UDP)."""

from __future__ import annotations

import socket

ATTEMPTS = 50


def free_port(preferred: int = 0) -> int:
    """`preferred` if nobody uses it on TCP or UDP (0: any), else a port the OS gives that is
    free on both."""
    if preferred and _free(preferred):
        return preferred
    for _ in range(ATTEMPTS):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            candidate = int(sock.getsockname()[1])
        if _free(candidate):
            return candidate
    raise OSError("nenhuma porta livre")


def _free(port: int) -> bool:
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        with socket.socket(socket.AF_INET, kind) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True
