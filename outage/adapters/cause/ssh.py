"""What the SSH backends share: one netmiko session per OLT per analysis, every wait bounded.

`SshBackend` logs in (netmiko, the vendor's `device_type`), hands a `Cli` to the vendor's
`ask()` and always logs out. `Cli.run(command)` writes the command and reads the answer
itself rather than through `send_command`, because a real device may stop in the middle
of an answer: at a paging prompt (`--More--`, answered with a space — a C600 pages even
after `terminal length 0`, sometimes in the middle of a line) or at a Huawei smart-mode
question (`{ <cr>||<K> }:`, answered with Enter, when `undo smart` did not take). It
returns the text as a terminal would show it, without the echoed command or the prompt.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from abc import abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar

from netmiko import BaseConnection, ConnectHandler
from netmiko.exceptions import NetmikoAuthenticationException, NetmikoTimeoutException, ReadTimeout
from paramiko.ssh_exception import SSHException

from outage.adapters.cause.backend import OltBackend, OltResult
from outage.adapters.cause.inventory import OltEntry
from outage.adapters.cause.parsers import cli_error, screen_text
from outage.core.model import Subscriber
from outage.http import redact

log = logging.getLogger(__name__)


class OltError(Exception):
    """A failure talking to one OLT, with a Portuguese reason safe to show and log."""


class CommandRejected(Exception):
    """The device answered a command with an error line (`% ...`, `%Error ...`, `Failure: ...`)."""


@dataclass(frozen=True)
class Dialogue:
    """How a vendor's CLI may interrupt an answer.

    more: the paging prompts it prints (literal text), answered with a space;
    questions: regexes of prompts it may wait at, answered with Enter.
    """

    more: tuple[str, ...] = ()
    questions: tuple[str, ...] = ()


class Cli:
    """A logged-in session: `run(command)` returns the answer or raises CommandRejected / OltError."""

    def __init__(
        self, connection: BaseConnection, olt: OltEntry, deadline: float, dialogue: Dialogue
    ) -> None:
        self.connection = connection
        self.olt = olt
        self.deadline = deadline
        self.dialogue = dialogue
        self.commands = 0
        prompt = rf"{re.escape(connection.base_prompt)}[^\n]*[>#]\s*$"
        interruptions = [rf"{re.escape(more)}\s*$" for more in dialogue.more] + list(dialogue.questions)
        self._until = "|".join(f"(?:{p})" for p in [prompt, *interruptions])
        self._prompt = re.compile(prompt)

    def run(self, command: str) -> str:
        if self.deadline - time.monotonic() <= 0:
            raise OltError(f"OLT {self.olt.name}: tempo esgotado antes de '{command}'.")
        self.commands += 1
        self.connection.write_channel(self.connection.normalize_cmd(command))
        output = self._answer(command)
        error = cli_error(output)
        if error:
            raise CommandRejected(f"OLT {self.olt.name} recusou '{command}': {error}")
        return output

    def _answer(self, command: str) -> str:
        """Read until the prompt comes back, answering paging prompts and questions on the way."""
        raw = ""
        while True:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                raise OltError(f"OLT {self.olt.name}: sem resposta ao comando '{command}'.")
            try:
                raw += self.connection.read_until_pattern(self._until, read_timeout=remaining)
            except ReadTimeout as exc:
                raise OltError(f"OLT {self.olt.name}: sem resposta ao comando '{command}'.") from exc
            if not self._prompt.search(raw):
                paging = any(raw.rstrip().endswith(more) for more in self.dialogue.more)
                self.connection.write_channel(" " if paging else self.connection.RETURN)
            elif command in raw:  # a prompt before the echo of our command is a leftover: read on
                return self._strip(screen_text(raw, self.dialogue.more), command)

    def _strip(self, text: str, command: str) -> str:
        """The answer alone: what follows the echoed command, without the closing prompt."""
        lines = text.split("\n")
        echo = next((n for n, line in enumerate(lines) if command in line), -1)
        lines = lines[echo + 1 :]
        if lines and self._prompt.search(lines[-1]):
            lines = lines[:-1]
        return "\n".join(lines)


class SshBackend(OltBackend):
    """A vendor reached by SSH: the session is opened here, the questions asked by `ask()`."""

    over_ssh: ClassVar[bool] = True
    device_type: ClassVar[str]
    dialogue: ClassVar[Dialogue] = Dialogue()

    def consult(self, subscribers: Sequence[Subscriber], deadline: float) -> OltResult:
        try:
            with self.open_cli(deadline) as cli:
                return self.ask(cli, subscribers)
        except OltError as exc:
            return OltResult(erros=[str(exc)])

    @abstractmethod
    def ask(self, cli: Cli, subscribers: Sequence[Subscriber]) -> OltResult:
        """Evidence for `subscribers` over a logged-in session; may raise OltError, never CommandRejected."""

    def connect(self, params: dict[str, Any]) -> BaseConnection:
        """Log in and prepare the session (netmiko's steps for `device_type`, by default)."""
        return ConnectHandler(device_type=self.device_type, **params)

    @contextmanager
    def open_cli(self, deadline: float) -> Iterator[Cli]:
        """Log in to the OLT, yield a Cli, always log out. Raises OltError on failure."""
        olt = self.olt
        budget = max(0.1, deadline - time.monotonic())
        params: dict[str, Any] = {
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
            connection = self.connect(params)
        except NetmikoAuthenticationException as exc:
            raise OltError(f"OLT {olt.name}: usuário ou senha recusados pela OLT ({olt.host}).") from exc
        except (NetmikoTimeoutException, ReadTimeout, TimeoutError) as exc:
            raise OltError(
                f"OLT {olt.name}: sem resposta de {olt.host}:{olt.port} (tempo esgotado)."
            ) from exc
        except (OSError, SSHException, EOFError, ValueError) as exc:
            reason = redact(str(exc))[:200]
            raise OltError(
                f"OLT {olt.name}: não foi possível conectar em {olt.host}:{olt.port} ({reason})."
            ) from exc
        # From here on each read is bounded by what is left of the deadline, not the whole budget.
        connection.read_timeout_override = None
        try:
            yield Cli(connection, olt, deadline, self.dialogue)
        finally:
            # Logging out waits for the device's goodbye: do it without holding the answer back.
            threading.Thread(
                target=_logout, args=(connection,), name=f"logout-{olt.name}", daemon=True
            ).start()


def _logout(connection: BaseConnection) -> None:
    try:
        connection.disconnect()
    except Exception:  # logging out must never hide the answer we already have
        log.debug("falha ao encerrar a sessão SSH", exc_info=True)
