"""One netmiko session per OLT per analysis, every wait bounded by the analysis' time budget."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from netmiko import BaseConnection, ConnectHandler
from netmiko.exceptions import NetmikoAuthenticationException, NetmikoTimeoutException, ReadTimeout
from netmiko.huawei.huawei_smartax import HuaweiSmartAXSSH
from paramiko.ssh_exception import SSHException

from outage.cause.inventory import OltEntry
from outage.cause.parsers import cli_error
from outage.http import redact

log = logging.getLogger(__name__)

DEVICE_TYPES = {"huawei": "huawei_smartax", "zte": "zte_zxros"}


class HuaweiSmartAXEnabled(HuaweiSmartAXSSH):
    """netmiko's `huawei_smartax`, left in enable mode after preparing the session.

    netmiko 4.8 enters enable mode for `infoswitch cli OFF` and leaves it again, and we
    need enable mode for `display ont info`: staying saves two round trips per analysis
    (each can take a few hundred ms on a busy OLT). Otherwise the same steps as netmiko.
    """

    def session_preparation(self) -> None:
        self.ansi_escape_codes = True
        data = self._test_channel_read(pattern=f"YES.NO|{self.prompt_pattern}")
        if re.search(r"YES.NO", data):
            self.write_channel(f"yes{self.RETURN}")
            self._test_channel_read(pattern=self.prompt_pattern)
        self.set_base_prompt()
        self._disable_smart_interaction()
        self.enable()
        self._disable_infoswitch_cli()
        self.disable_paging()


class OltError(Exception):
    """A failure talking to one OLT, with a Portuguese reason safe to show and log."""


class CommandRejected(Exception):
    """The device answered a command with a `% ...` error line."""


@dataclass
class OltResult:
    """What one OLT told: one evidence dict per ONU looked at, and the reasons for gaps."""

    evidencias: list[dict[str, Any]] = field(default_factory=list)
    erros: list[str] = field(default_factory=list)


class Cli:
    """A logged-in session: `run(command)` returns the output or raises CommandRejected."""

    def __init__(self, connection: BaseConnection, olt: OltEntry, deadline: float) -> None:
        self.connection = connection
        self.olt = olt
        self.deadline = deadline
        self.commands = 0

    def run(self, command: str) -> str:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise OltError(f"OLT {self.olt.name}: tempo esgotado antes de '{command}'.")
        self.commands += 1
        try:
            output = str(self.connection.send_command(command, read_timeout=remaining))
        except ReadTimeout as exc:
            raise OltError(f"OLT {self.olt.name}: sem resposta ao comando '{command}'.") from exc
        error = cli_error(output)
        if error:
            raise CommandRejected(f"OLT {self.olt.name} recusou '{command}': {error}")
        return output


@contextmanager
def open_cli(olt: OltEntry, budget: float) -> Iterator[Cli]:
    """Log in to `olt` (netmiko), yield a Cli, always log out. Raises OltError on failure."""
    deadline = time.monotonic() + budget
    params: dict[str, Any] = {
        "device_type": DEVICE_TYPES[olt.vendor],
        "host": olt.host,
        "port": olt.port,
        "username": olt.username,
        "password": olt.password,
        "conn_timeout": min(budget, 10.0),
        "auth_timeout": budget,
        "banner_timeout": budget,
        "timeout": budget,
        "session_timeout": budget,
        "read_timeout_override": budget,
        "use_keys": False,
        "allow_agent": False,
        "fast_cli": True,
    }
    try:
        connection = HuaweiSmartAXEnabled(**params) if olt.vendor == "huawei" else ConnectHandler(**params)
    except NetmikoAuthenticationException as exc:
        raise OltError(f"OLT {olt.name}: usuário ou senha recusados pela OLT ({olt.host}).") from exc
    except (NetmikoTimeoutException, TimeoutError) as exc:
        raise OltError(f"OLT {olt.name}: sem resposta de {olt.host}:{olt.port} (tempo esgotado).") from exc
    except (OSError, SSHException, EOFError, ValueError) as exc:
        reason = redact(str(exc))[:200]
        raise OltError(
            f"OLT {olt.name}: não foi possível conectar em {olt.host}:{olt.port} ({reason})."
        ) from exc
    try:
        yield Cli(connection, olt, deadline)
    finally:
        # Logging out waits for the device's goodbye: do it without holding the answer back.
        threading.Thread(target=_logout, args=(connection,), name=f"logout-{olt.name}", daemon=True).start()


def _logout(connection: BaseConnection) -> None:
    try:
        connection.disconnect()
    except Exception:  # logging out must never hide the answer we already have
        log.debug("falha ao encerrar a sessão SSH", exc_info=True)
