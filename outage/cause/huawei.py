"""Huawei SmartAX: find each sampled ONU, read its `Last down cause`, one session per OLT.

Where the ERP gives the PON (`interface_transmissao` like `0/1/2`) the whole port is read
with one `display ont info summary F/S/P`. ONUs without a PON, or missing from that port,
are found one at a time by description (= login, `display ont info by-desc`) or by serial
(`by-sn`); the port found is then read with one summary, which also answers for the other
pending ONUs on it (the last one alone is read with `display ont info F S P ID`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from outage.cause.inventory import OltEntry
from outage.cause.parsers import (
    HuaweiOnt,
    classify,
    normalize_fsp,
    parse_huawei_ont_detail,
    parse_huawei_ont_list,
    parse_huawei_summary,
    serial_forms,
)
from outage.cause.ssh import Cli, CommandRejected, OltResult
from outage.model import Subscriber


@dataclass
class _Target:
    subscriber: Subscriber
    fsp: str = ""
    ont_id: int | None = None


def consult(cli: Cli, subscribers: Sequence[Subscriber]) -> OltResult:
    """Ask one Huawei OLT (already logged in) about `subscribers`. Never raises CommandRejected."""
    result = OltResult()
    cli.connection.enable()
    targets = [_Target(s, fsp=normalize_fsp(s.interface_transmissao)) for s in subscribers]
    pending = _read_known_ports(cli, [t for t in targets if t.fsp], result)
    pending += [t for t in targets if not t.fsp]
    while pending:
        target = pending.pop(0)
        if not _locate(cli, target, result):
            continue
        if not pending:
            _read_one(cli, target, result)
            break
        # One summary of the port just found may also answer for other pending ONUs.
        pending = _read_port(cli, target.fsp, [target, *pending], result, report_missing=False)
        if target in pending:
            pending.remove(target)
            result.erros.append(
                f"ONU de {target.subscriber.login} sumiu da PON {target.fsp} da OLT {cli.olt.name}."
            )
    return result


def _read_known_ports(cli: Cli, targets: list[_Target], result: OltResult) -> list[_Target]:
    """Read each PON the ERP names with one summary; return the targets not found there."""
    by_port: dict[str, list[_Target]] = defaultdict(list)
    for target in targets:
        by_port[target.fsp].append(target)
    missing: list[_Target] = []
    for fsp, members in by_port.items():
        missing += _read_port(cli, fsp, members, result, report_missing=False)
    for target in missing:
        target.fsp = ""
    return missing


def _read_port(
    cli: Cli, fsp: str, members: list[_Target], result: OltResult, *, report_missing: bool = True
) -> list[_Target]:
    try:
        onts = parse_huawei_summary(cli.run(f"display ont info summary {fsp}"))
    except CommandRejected as exc:
        result.erros.append(str(exc))
        return members
    missing = []
    for target in members:
        ont = _match(onts, target)
        if ont is None:
            missing.append(target)
            if report_missing:
                result.erros.append(
                    f"ONU de {target.subscriber.login} não aparece na PON {fsp} da OLT {cli.olt.name}."
                )
        else:
            result.evidencias.append(_evidence(cli.olt, target.subscriber, ont, "display ont info summary"))
    return missing


def _match(onts: list[HuaweiOnt], target: _Target) -> HuaweiOnt | None:
    hex_sn, _ = serial_forms(target.subscriber.onu_mac)
    for ont in onts:
        if target.ont_id is not None and ont.ont_id == target.ont_id:
            return ont
    for ont in onts:
        if ont.description and ont.description == target.subscriber.login:
            return ont
        if hex_sn and ont.sn == hex_sn:
            return ont
    return None


def _locate(cli: Cli, target: _Target, result: OltResult) -> bool:
    """Fill `fsp` and `ont_id` by description, then by serial; report an ONU not found."""
    login = target.subscriber.login
    hex_sn, _ = serial_forms(target.subscriber.onu_mac)
    commands = [f"display ont info by-desc {login}"] if login and " " not in login else []
    commands += [f"display ont info by-sn {hex_sn}"] if hex_sn else []
    for command in commands:
        try:
            onts = parse_huawei_ont_list(cli.run(command))
        except CommandRejected:
            continue
        if onts:
            target.fsp, target.ont_id = onts[0].fsp, onts[0].ont_id
            return True
    result.erros.append(f"ONU de {login} não encontrada na OLT {cli.olt.name} (descrição nem serial).")
    return False


def _read_one(cli: Cli, target: _Target, result: OltResult) -> None:
    frame, slot, port = target.fsp.split("/")
    command = f"display ont info {frame} {slot} {port} {target.ont_id}"
    try:
        ont = parse_huawei_ont_detail(cli.run(command))
    except CommandRejected as exc:
        result.erros.append(str(exc))
        return
    if ont is None:
        result.erros.append(f"OLT {cli.olt.name}: resposta ilegível a '{command}'.")
        return
    result.evidencias.append(_evidence(cli.olt, target.subscriber, ont, "display ont info"))


def _evidence(olt: OltEntry, subscriber: Subscriber, ont: HuaweiOnt, source: str) -> dict[str, Any]:
    return {
        "login": subscriber.login,
        "olt": olt.name,
        "id_transmissor": olt.id_transmissor,
        "pon": ont.fsp,
        "fsp": ont.fsp,
        "ont_id": ont.ont_id,
        "causa_bruta": ont.last_down_cause,
        "caiu_em": ont.last_down_time,
        "estado": ont.run_state,
        "classificacao": classify(ont.last_down_cause),
        "fonte": source,
    }
