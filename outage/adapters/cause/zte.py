"""ZTE C300/C320 and C600/C620/C650 (TITAN): phase state per PON, detail-info history per ONU.

The two families spell interfaces differently — C300/C320 `gpon-olt_1/2/1` and
`gpon-onu_1/2/1:4`, TITAN `gpon_olt-1/4/1` and `gpon_onu-1/4/1:2` — and each rejects the
other's spelling. The family comes from the inventory's `model`; without one it is read
once from `show version` and remembered for the life of the process.

The ONU is located from the ERP (`interface_transmissao` naming the ONU in either
spelling, or the PON plus the serial in `onu_mac`) or by serial alone (`show gpon onu by
sn`). When several sampled ONUs share a PON, one `show gpon onu state` gives their phase
state (`LOS` / `DyingGasp` vote at once); the others are read with `show gpon onu
detail-info`, taking the latest row of its history table.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from outage.adapters.cause.backend import OltResult, Sources, evidence
from outage.adapters.cause.inventory import OltEntry
from outage.adapters.cause.parsers import (
    onu_state,
    parse_zte_model,
    parse_zte_onu_detail,
    parse_zte_onu_state,
    parse_zte_search,
    serial_forms,
    zte_onu_index,
)
from outage.adapters.cause.ssh import Cli, CommandRejected, Dialogue, SshBackend
from outage.core.model import Subscriber
from outage.core.place import normalize_fsp

log = logging.getLogger(__name__)

MORE = "--More--"
_DECISIVE_PHASES = {"LOS", "DyingGasp"}


@dataclass(frozen=True)
class Family:
    """How one ZTE family names a PON and an ONU in commands."""

    name: str
    olt_prefix: str
    onu_prefix: str

    def pon(self, pon: str) -> str:
        return f"{self.olt_prefix}{pon}"

    def onu(self, pon: str, onu_id: int) -> str:
        return f"{self.onu_prefix}{pon}:{onu_id}"


C300 = Family("C300/C320", "gpon-olt_", "gpon-onu_")
TITAN = Family("C600/C620/C650", "gpon_olt-", "gpon_onu-")
FAMILIES = {"C3": C300, "C6": TITAN}


def family_of(model: str) -> Family | None:
    """The family of `C320`, `ZXA10 C650`, `c600`...; None for anything else."""
    return FAMILIES.get(parse_zte_model(model)[:2])


@dataclass
class _Target:
    subscriber: Subscriber
    pon: str = ""
    onu_id: int | None = None


class ZteBackend(SshBackend):
    """See the module docstring."""

    device_type: ClassVar[str] = "zte_zxros"
    dialogue: ClassVar[Dialogue] = Dialogue(more=(MORE,))

    def __init__(self, olt: OltEntry, sources: Sources) -> None:
        super().__init__(olt, sources)
        self.learned: Family | None = None

    @classmethod
    def model_problem(cls, model: str) -> str:
        if not model or family_of(model):
            return ""
        return (
            f"model {model!r} não é uma OLT ZTE conhecida; use C300, C320, C600, C620 ou C650 "
            "(ou omita para descobrir por 'show version')."
        )

    def ask(self, cli: Cli, subscribers: Sequence[Subscriber]) -> OltResult:
        result = OltResult()
        family = self._family(cli, result)
        return _Lookup(cli, family, result).run(subscribers)

    def _family(self, cli: Cli, result: OltResult) -> Family:
        """The inventory's family, or the one learned from `show version` (asked once per process)."""
        known = family_of(self.olt.model) or self.learned
        if known is not None:
            return known
        try:
            model = parse_zte_model(cli.run("show version"))
        except CommandRejected as exc:
            model = ""
            result.erros.append(str(exc))
        learned = family_of(model)
        if learned is None:
            result.erros.append(
                f"OLT {self.olt.name}: modelo ZTE não identificado em 'show version'; usando a grafia "
                f'{C300.name} (informe "model" no inventário).'
            )
            return C300
        log.info("OLT %s: ZTE %s (família %s), por 'show version'", self.olt.name, model, learned.name)
        self.learned = learned
        return learned


class _Lookup:
    """One analysis' questions to one ZTE OLT (already logged in; netmiko sent `terminal length 0`)."""

    def __init__(self, cli: Cli, family: Family, result: OltResult) -> None:
        self.cli = cli
        self.family = family
        self.result = result

    def run(self, subscribers: Sequence[Subscriber]) -> OltResult:
        located = [t for t in (_target(s) for s in subscribers) if self._locate(t)]
        by_pon: dict[str, list[_Target]] = defaultdict(list)
        for target in located:
            by_pon[target.pon].append(target)
        for pon, members in by_pon.items():
            undecided = self._read_states(pon, members) if len(members) > 1 else members
            for target in undecided:
                self._read_detail(target)
        return self.result

    def _ask(self, command: str) -> str:
        """The answer; a rejected command becomes an error (with a hint for a wrong spelling)."""
        try:
            return self.cli.run(command)
        except CommandRejected as exc:
            hint = ""
            if "Invalid input" in str(exc):
                hint = f" (confira o modelo no inventário: comandos na grafia {self.family.name})"
            raise CommandRejected(f"{exc}{hint}") from exc

    def _locate(self, target: _Target) -> bool:
        if target.onu_id is not None:
            return True
        _, vendor_sn = serial_forms(target.subscriber.onu_mac)
        if vendor_sn:
            try:
                found = parse_zte_search(self._ask(f"show gpon onu by sn {vendor_sn}"))
            except CommandRejected as exc:
                self.result.erros.append(str(exc))
                found = []
            if found:
                target.pon, target.onu_id = found[0]
                return True
        login = target.subscriber.login
        self.result.erros.append(
            f"ONU de {login} não localizada na OLT {self.cli.olt.name} (sem índice nem serial)."
        )
        return False

    def _read_states(self, pon: str, members: list[_Target]) -> list[_Target]:
        """Vote from the phase state where it is decisive; return the members still undecided."""
        command = f"show gpon onu state {self.family.pon(pon)}"
        try:
            rows = {(r.pon, r.onu_id): r for r in parse_zte_onu_state(self._ask(command))}
        except CommandRejected as exc:
            self.result.erros.append(str(exc))
            return members
        undecided = []
        for target in members:
            row = rows.get((pon, target.onu_id or -1))
            if row is not None and row.phase_state in _DECISIVE_PHASES:
                self._record(
                    target, row.phase_state, "", "show gpon onu state", row.phase_state, current=True
                )
            else:
                undecided.append(target)
        return undecided

    def _read_detail(self, target: _Target) -> None:
        command = f"show gpon onu detail-info {self.family.onu(target.pon, target.onu_id or 0)}"
        try:
            detail = parse_zte_onu_detail(self._ask(command))
        except CommandRejected as exc:
            self.result.erros.append(str(exc))
            return
        if detail is None:
            self.result.erros.append(f"OLT {self.cli.olt.name}: resposta ilegível a '{command}'.")
            return
        cause, down_time, current = detail.last_down_cause, detail.last_down_time, False
        if detail.phase_state in _DECISIVE_PHASES and not cause:
            cause, down_time, current = detail.phase_state, "", True
        self._record(
            target, cause, down_time, "show gpon onu detail-info", detail.phase_state, current=current
        )

    def _record(
        self, target: _Target, cause: str, down_time: str, source: str, phase: str, *, current: bool = False
    ) -> None:
        self.result.evidencias.append(
            evidence(
                self.cli.olt,
                target.subscriber.login,
                cause,
                down_time,
                source,
                pon=target.pon,
                onu_index=self.family.onu(target.pon, target.onu_id or 0),
                ont_id=target.onu_id,
                estado=onu_state(phase),
                atual=current,
            )
        )


def _target(subscriber: Subscriber) -> _Target:
    index = zte_onu_index(subscriber.interface_transmissao)
    if index:
        return _Target(subscriber, index[0], index[1])
    return _Target(subscriber, normalize_fsp(subscriber.interface_transmissao))
