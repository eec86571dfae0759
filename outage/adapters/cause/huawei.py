"""Huawei SmartAX (MA5600T / MA5608T / MA5680T / MA5800): each sampled ONU's `Last down cause`.

One session per OLT. Where the ERP gives the PON (`interface_transmissao` like `0/1/2`) the
whole port is read with one `display ont info summary F/S/P`. ONUs without a PON, or
missing from that port, are found one at a time: by description (= login, `display ont
info by-desc`, a table) or by serial (`display ont info by-sn`, the detail block, which
already holds the cause). The port found is then read with one summary, which also
answers for the other pending ONUs on it; the last one alone is read with `display ont
info F S P ID`.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from netmiko import BaseConnection
from netmiko.huawei.huawei_smartax import HuaweiSmartAXSSH

from outage.adapters.cause.backend import OltResult, evidence
from outage.adapters.cause.parsers import (
    HuaweiOnt,
    onu_state,
    parse_huawei_ont_detail,
    parse_huawei_ont_table,
    parse_huawei_summary,
    serial_forms,
)
from outage.adapters.cause.ssh import Cli, CommandRejected, Dialogue, SshBackend
from outage.core.model import Subscriber
from outage.core.place import normalize_fsp

MORE = "---- More ( Press 'Q' to break ) ----"
SMART_QUESTION = r"\{\s*<cr>[^{}\n]*\}:\s*$"

_Parser = Callable[[str], list[HuaweiOnt]]


class HuaweiSmartAX(HuaweiSmartAXSSH):
    """netmiko's `huawei_smartax`, left in enable mode, answering smart-mode questions.

    netmiko 4.8 enters enable mode for `infoswitch cli OFF` and leaves it again, and we
    need enable mode for `display ont info`: staying saves two round trips per analysis.
    Where `undo smart` does not take (some firmwares, some user levels), `scroll` waits
    at `{ <cr>|number<U><10,512> }:`; netmiko would wait for the prompt until it timed
    out, so the question is answered here. Otherwise the same steps as netmiko.
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
        self._scroll()

    def _scroll(self) -> None:
        prompt = rf"{re.escape(self.base_prompt)}[^\n]*#\s*$"
        self.write_channel(self.normalize_cmd("scroll"))
        answer = self.read_until_pattern(f"(?:{prompt})|(?:{SMART_QUESTION})")
        if re.search(SMART_QUESTION, answer):
            self.write_channel(self.RETURN)
            self.read_until_pattern(prompt)


@dataclass
class _Target:
    subscriber: Subscriber
    fsp: str = ""
    ont_id: int | None = None


class HuaweiBackend(SshBackend):
    """See the module docstring."""

    device_type: ClassVar[str] = "huawei_smartax"
    dialogue: ClassVar[Dialogue] = Dialogue(more=(MORE,), questions=(SMART_QUESTION,))

    def connect(self, params: dict[str, Any]) -> BaseConnection:
        return HuaweiSmartAX(**params)

    def ask(self, cli: Cli, subscribers: Sequence[Subscriber]) -> OltResult:
        return _Lookup(cli).run(subscribers)


class _Lookup:
    """One analysis' questions to one Huawei OLT (already logged in, in enable mode)."""

    def __init__(self, cli: Cli) -> None:
        self.cli = cli
        self.result = OltResult()

    def run(self, subscribers: Sequence[Subscriber]) -> OltResult:
        targets = [_Target(s, fsp=normalize_fsp(s.interface_transmissao)) for s in subscribers]
        unplaced = [t for t in targets if not t.fsp]
        pending = self._read_known_ports([t for t in targets if t.fsp]) + unplaced
        while pending:
            target = pending.pop(0)
            found = self._locate(target)
            if found is None:
                continue
            if found.last_down_cause:  # by serial: the detail block already says why
                self._record(target, found, "display ont info by-sn")
            elif not pending:
                self._read_one(target)
                break
            else:
                pending.insert(0, target)
            # One summary of the port just found may also answer for other pending ONUs.
            pending = self._read_port(found.fsp, pending)
            if target in pending:  # the summary was refused or no longer lists it: ask for it alone
                pending.remove(target)
                self._read_one(target)
        return self.result

    @property
    def name(self) -> str:
        return self.cli.olt.name

    def _error(self, message: str) -> None:
        self.result.erros.append(message)

    def _read_known_ports(self, targets: list[_Target]) -> list[_Target]:
        """Read each PON the ERP names with one summary; return the targets not found there."""
        by_port: dict[str, list[_Target]] = defaultdict(list)
        for target in targets:
            by_port[target.fsp].append(target)
        missing: list[_Target] = []
        for fsp, members in by_port.items():
            missing += self._read_port(fsp, members)
        for target in missing:
            target.fsp, target.ont_id = "", None
        return missing

    def _read_port(self, fsp: str, members: list[_Target]) -> list[_Target]:
        """Evidence for the members found in the port's summary; return the others."""
        if not members:
            return members
        try:
            onts = parse_huawei_summary(self.cli.run(f"display ont info summary {fsp}"))
        except CommandRejected as exc:
            self._error(str(exc))
            return members
        missing = []
        for target in members:
            ont = _match(onts, target, fsp)
            if ont is None:
                missing.append(target)
            else:
                self._record(target, ont, "display ont info summary")
        return missing

    def _locate(self, target: _Target) -> HuaweiOnt | None:
        """Find the ONU by description, then by serial; fill `fsp` and `ont_id`; report a miss."""
        login = target.subscriber.login
        hex_sn, _ = serial_forms(target.subscriber.onu_mac)
        found = None
        if login and " " not in login:
            found = next(iter(self._ask(f"display ont info by-desc {login}", parse_huawei_ont_table)), None)
        if found is None and hex_sn:
            found = next(iter(self._ask(f"display ont info by-sn {hex_sn}", _detail_list)), None)
        if found is None:
            self._error(f"ONU de {login} não encontrada na OLT {self.name} (descrição nem serial).")
            return None
        target.fsp, target.ont_id = found.fsp, found.ont_id
        return found

    def _ask(self, command: str, parse: _Parser) -> list[HuaweiOnt]:
        """The ONTs a lookup found; none when the device says the ONT does not exist."""
        try:
            return parse(self.cli.run(command))
        except CommandRejected:
            return []

    def _read_one(self, target: _Target) -> None:
        frame, slot, port = target.fsp.split("/")
        command = f"display ont info {frame} {slot} {port} {target.ont_id}"
        try:
            ont = parse_huawei_ont_detail(self.cli.run(command))
        except CommandRejected as exc:
            self._error(str(exc))
            return
        if ont is None:
            self._error(f"OLT {self.name}: resposta ilegível a '{command}'.")
            return
        self._record(target, ont, "display ont info")

    def _record(self, target: _Target, ont: HuaweiOnt, source: str) -> None:
        self.result.evidencias.append(
            evidence(
                self.cli.olt,
                target.subscriber.login,
                ont.last_down_cause,
                ont.last_down_time,
                source,
                pon=ont.fsp,
                fsp=ont.fsp,
                ont_id=ont.ont_id,
                estado=onu_state(ont.run_state),
            )
        )


def _detail_list(text: str) -> list[HuaweiOnt]:
    ont = parse_huawei_ont_detail(text)
    return [ont] if ont is not None else []


def _match(onts: list[HuaweiOnt], target: _Target, fsp: str) -> HuaweiOnt | None:
    """The ONT of the target on port `fsp`: by ONT id when known, else by description or serial."""
    on_port = [ont for ont in onts if ont.fsp in (fsp, "")]
    if target.ont_id is not None:
        return next((ont for ont in on_port if ont.ont_id == target.ont_id), None)
    hex_sn, _ = serial_forms(target.subscriber.onu_mac)
    login = target.subscriber.login
    for ont in on_port:
        if (ont.description and ont.description == login) or (hex_sn and ont.sn == hex_sn):
            return ont
    return None
