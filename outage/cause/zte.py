"""ZTE C300/C320/C600: phase state per PON, detail-info history per ONU, one session per OLT.

The ONU is located from the ERP (`interface_transmissao` = `gpon-onu_1/2/1:4`, or the PON
`gpon-olt_1/2/1` plus the serial in `onu_mac`) or by serial alone (`show gpon onu by sn`).
When several sampled ONUs share a PON, one `show gpon onu state` gives their phase state
(`LOS` / `DyingGasp` vote at once); the others are read with `show gpon onu detail-info`,
taking the latest row of its history table.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from outage.cause.parsers import (
    classify,
    normalize_fsp,
    parse_zte_onu_detail,
    parse_zte_onu_state,
    parse_zte_search,
    serial_forms,
    zte_onu_index,
)
from outage.cause.ssh import Cli, CommandRejected, OltResult
from outage.model import Subscriber

_DECISIVE_PHASES = {"LOS", "DyingGasp"}


@dataclass
class _Target:
    subscriber: Subscriber
    pon: str = ""
    onu_id: int | None = None


def consult(cli: Cli, subscribers: Sequence[Subscriber]) -> OltResult:
    """Ask one ZTE OLT (already logged in; netmiko sent `terminal length 0`) about `subscribers`."""
    result = OltResult()
    located = [t for t in (_target(s) for s in subscribers) if _locate(cli, t, result)]
    by_pon: dict[str, list[_Target]] = defaultdict(list)
    for target in located:
        by_pon[target.pon].append(target)
    for pon, members in by_pon.items():
        undecided = _read_states(cli, pon, members, result) if len(members) > 1 else members
        for target in undecided:
            _read_detail(cli, target, result)
    return result


def _target(subscriber: Subscriber) -> _Target:
    index = zte_onu_index(subscriber.interface_transmissao)
    if index:
        return _Target(subscriber, index[0], index[1])
    return _Target(subscriber, normalize_fsp(subscriber.interface_transmissao))


def _locate(cli: Cli, target: _Target, result: OltResult) -> bool:
    if target.onu_id is not None:
        return True
    _, vendor_sn = serial_forms(target.subscriber.onu_mac)
    if vendor_sn:
        try:
            found = parse_zte_search(cli.run(f"show gpon onu by sn {vendor_sn}"))
        except CommandRejected:
            found = []
        if found:
            target.pon, target.onu_id = found[0]
            return True
    login = target.subscriber.login
    result.erros.append(f"ONU de {login} não localizada na OLT {cli.olt.name} (sem índice nem serial).")
    return False


def _read_states(cli: Cli, pon: str, members: list[_Target], result: OltResult) -> list[_Target]:
    """Vote from the phase state where it is decisive; return the members still undecided."""
    try:
        rows = {r.onu_id: r for r in parse_zte_onu_state(cli.run(f"show gpon onu state gpon-olt_{pon}"))}
    except CommandRejected as exc:
        result.erros.append(str(exc))
        return members
    undecided = []
    for target in members:
        row = rows.get(target.onu_id or -1)
        if row is not None and row.phase_state in _DECISIVE_PHASES:
            result.evidencias.append(_evidence(cli, target, row.phase_state, "", "show gpon onu state"))
        else:
            undecided.append(target)
    return undecided


def _read_detail(cli: Cli, target: _Target, result: OltResult) -> None:
    command = f"show gpon onu detail-info gpon-onu_{target.pon}:{target.onu_id}"
    try:
        detail = parse_zte_onu_detail(cli.run(command))
    except CommandRejected as exc:
        result.erros.append(str(exc))
        return
    if detail is None:
        result.erros.append(f"OLT {cli.olt.name}: resposta ilegível a '{command}'.")
        return
    cause = detail.last_down_cause
    if detail.phase_state in _DECISIVE_PHASES and not cause:
        cause = detail.phase_state
    result.evidencias.append(
        _evidence(cli, target, cause, detail.last_down_time, "show gpon onu detail-info")
    )


def _evidence(cli: Cli, target: _Target, cause: str, down_time: str, source: str) -> dict[str, Any]:
    return {
        "login": target.subscriber.login,
        "olt": cli.olt.name,
        "id_transmissor": cli.olt.id_transmissor,
        "pon": target.pon,
        "onu_index": f"gpon-onu_{target.pon}:{target.onu_id}",
        "ont_id": target.onu_id,
        "causa_bruta": cause,
        "caiu_em": down_time,
        "classificacao": classify(cause),
        "fonte": source,
    }
