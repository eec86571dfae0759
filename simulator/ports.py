"""A free port on 127.0.0.1 for the simulated systems and the monitor's receivers (checked on TCP;
the receivers take the same number for UDP)."""

from __future__ import annotations

import socket


def free_port(preferred: int = 0) -> int:
    """`preferred` if nobody listens on it (0: any), else a free port chosen by the OS."""
    for candidate in (preferred, 0) if preferred else (0,):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise OSError("nenhuma porta livre")
