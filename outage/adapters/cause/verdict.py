"""Which ONU records speak for an incident, and the cause they give (pure functions).

An OLT keeps each ONU's last down cause and time for months. A record speaks for this
incident only when it belongs to it:

- the ONU is not online now (an ONU online now did not lose power or fiber: its customer's
  PPPoE session fell for another reason — the concentrator or the transport);
- its down time falls within the incident's onset: from its first drop minus the
  concentrator's session lag to its last drop (a little clock jitter either side), on our
  clock — each OLT's clock offset is learned as the ERP's is (`ErpClock`): for an ONU
  offline now, `its drop time in the ERP - its down time on the OLT` is close to the session
  lag, and older records only make that larger; offsets beyond `MAX_SKEW` (a time zone or a
  clock left wrong) are not learned, so the records of an old outage, which agree with each
  other, never pass for a clock offset;
- or, without a time, it states the ONU's condition now (a ZTE phase state `LOS`, an open
  alert of the OLT management system, the original's OLT service's verdict).

A cause needs a majority of the ONUs sampled: `energia` (dying gasp), `loss` (LOS), or
`concentrador` (ONUs online: the PPPoE sessions fell with the fiber and the power fine);
otherwise `indeterminado`, with the reason in words. Every evidence says whether it
counted (`conta`) and, when not, why (`motivo_exclusao`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from outage.adapters.cause.base import CauseReport
from outage.adapters.cause.parsers import NO_VOTE
from outage.core.detector import Heard
from outage.core.droptime import FUTURE_JITTER, SESSION_LAG, ErpClock
from outage.core.localtime import LOCAL_TZ, erp_text, local_datetime
from outage.core.model import CAUSE_CONCENTRATOR, CAUSE_LOS, CAUSE_POWER, CAUSE_UNKNOWN, Subscriber

ONLINE = "online"
OFFLINE = "offline"
CLOCK_SPREAD = 300.0  # records of one incident agree on the OLT's offset within this
MAX_SKEW = 6 * 3600.0  # the largest OLT clock offset learned: a Brazilian zone against UTC, and some

_NAMES = {
    CAUSE_POWER: ("com queda de energia (dying gasp) nesta queda", "com queda de energia nesta queda"),
    CAUSE_LOS: ("com perda de sinal (LOS) nesta queda", "com LOS nesta queda"),
    CAUSE_CONCENTRATOR: ("online na OLT", "online na OLT"),
}


@dataclass(frozen=True)
class Verdict:
    motivo: str
    explicacao: str
    votos: dict[str, int]


def olt_epoch(text: str) -> float:
    """Epoch seconds of an OLT date as `parsers.olt_time` writes it (`YYYY-MM-DD HH:MM:SS`,
    with its zone offset when the OLT printed one, else São Paulo time); 0.0 when unreadable."""
    value = (text or "").strip()
    if len(value) < 19:
        return 0.0
    try:
        moment = datetime.fromisoformat(value.replace(" ", "T", 1))
    except ValueError:
        return 0.0
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LOCAL_TZ)
    return moment.timestamp()


def judge(
    evidences: Sequence[dict[str, Any]],
    drops: Mapping[str, float],
    clocks: dict[str, ErpClock],
) -> list[dict[str, Any]]:
    """The evidences with `conta` and `motivo_exclusao` set (see the module docstring).

    `drops` maps each login of the incident to its drop time (our clock); `clocks` holds
    each OLT's learned clock (by `id_transmissor`), updated here with these records.
    """
    if not drops:
        return [
            {**e, "conta": e.get("classificacao", NO_VOTE) != NO_VOTE, "motivo_exclusao": ""}
            for e in evidences
        ]
    _learn_clocks(evidences, drops, clocks)
    start = min(drops.values()) - SESSION_LAG - FUTURE_JITTER
    end = max(drops.values()) + FUTURE_JITTER
    judged = []
    for evidence in evidences:
        clock = clocks.get(str(evidence.get("id_transmissor", "")))
        why = _exclusion(evidence, start, end, clock.offset if clock else 0.0)
        judged.append({**evidence, "conta": not why, "motivo_exclusao": why})
    return judged


def _learn_clocks(
    evidences: Sequence[Mapping[str, Any]], drops: Mapping[str, float], clocks: dict[str, ErpClock]
) -> None:
    for evidence in evidences:
        down = olt_epoch(str(evidence.get("caiu_em", "")))
        dropped = drops.get(str(evidence.get("login", "")))
        if not down or dropped is None or evidence.get("estado") == ONLINE:
            continue
        if abs(dropped - down) > MAX_SKEW + SESSION_LAG:
            continue
        clock = clocks.setdefault(str(evidence.get("id_transmissor", "")), ErpClock())
        clock.observe(dropped, down, CLOCK_SPREAD)


def _exclusion(evidence: Mapping[str, Any], start: float, end: float, offset: float) -> str:
    """Why this record does not speak for the incident ("" when it does)."""
    if evidence.get("estado") == ONLINE:
        return "ONU online agora"
    if evidence.get("classificacao", NO_VOTE) == NO_VOTE:
        raw = str(evidence.get("causa_bruta") or "").strip()
        return f"causa que não indica energia nem fibra ({raw})" if raw else "OLT não informou a causa"
    down = olt_epoch(str(evidence.get("caiu_em", "")))
    if not down:
        return "" if evidence.get("atual") else "registro sem data"
    down += offset
    if down < start:
        return (
            f"registro antigo: caiu em {local_datetime(down).strftime('%d/%m/%Y %H:%M')}, antes desta queda"
        )
    if down > end:
        return f"registro posterior: caiu em {local_datetime(down).strftime('%d/%m/%Y %H:%M')}, depois desta queda"
    return ""


ALARM_SOURCE = "alarme da rede"
_ALARM_WORDS = {CAUSE_POWER: "dying gasp (alarme)", CAUSE_LOS: "LOS (alarme)"}


def from_alarms(subs: Sequence[Subscriber], heard: Mapping[str, Heard]) -> CauseReport | None:
    """The cause the network's own alarms give for these logins (each ONU's dying gasp or LOS,
    as it fell: a record of this very incident), or None when a majority of them was not
    heard with a cause — the OLTs are asked then."""
    evidences = [
        {
            "login": sub.login,
            "id_transmissor": sub.id_transmissor,
            "causa_bruta": _ALARM_WORDS[heard[sub.login].cause],
            "caiu_em": erp_text(heard[sub.login].at),
            "classificacao": heard[sub.login].cause,
            "estado": OFFLINE,
            "atual": True,
            "fonte": ALARM_SOURCE,
            "conta": True,
            "motivo_exclusao": "",
        }
        for sub in subs
        if sub.login in heard and heard[sub.login].cause in _ALARM_WORDS
    ]
    if 2 * len(evidences) <= len(subs):
        return None
    verdict = decide(evidences, len(evidences))
    return CauseReport(
        motivo=verdict.motivo,
        votos=verdict.votos,
        evidencias=evidences,
        explicacao=verdict.explicacao.replace("ONUs consultadas", "ONUs com alarme da OLT"),
    )


def decide(evidences: Sequence[Mapping[str, Any]], sampled: int) -> Verdict:
    """The cause a majority of the `sampled` ONUs gives (judged `evidences`), with the reason."""
    power = sum(1 for e in evidences if e.get("conta") and e.get("classificacao") == CAUSE_POWER)
    loss = sum(1 for e in evidences if e.get("conta") and e.get("classificacao") == CAUSE_LOS)
    online = sum(1 for e in evidences if e.get("estado") == ONLINE)
    other = len(evidences) - power - loss - online
    unread = max(0, sampled - len(evidences))
    votes = {CAUSE_POWER: power, CAUSE_LOS: loss, CAUSE_CONCENTRATOR: online, NO_VOTE: other + unread}
    total = max(sampled, len(evidences))
    for cause, count in ((CAUSE_POWER, power), (CAUSE_LOS, loss), (CAUSE_CONCENTRATOR, online)):
        if total and 2 * count > total:
            return Verdict(cause, _majority(cause, count, total), votes)
    return Verdict(CAUSE_UNKNOWN, _no_majority(power, loss, online, other, unread, total), votes)


def _majority(cause: str, count: int, total: int) -> str:
    text = f"{count} de {total} ONUs consultadas {_NAMES[cause][0]}"
    if cause == CAUSE_CONCENTRATOR:
        text += ": as sessões PPPoE caíram com a fibra e a energia normais (concentrador ou transporte)"
    return text


def _no_majority(power: int, loss: int, online: int, other: int, unread: int, total: int) -> str:
    if not total:
        return "nenhuma ONU pôde ser consultada"
    parts = [
        f"{count} {_NAMES[cause][1]}"
        for cause, count in ((CAUSE_POWER, power), (CAUSE_LOS, loss), (CAUSE_CONCENTRATOR, online))
        if count
    ]
    if other:
        parts.append(f"{other} sem registro desta queda (não contam)")
    if unread:
        parts.append(f"{unread} sem resposta da OLT")
    return f"sem maioria entre {total} ONUs consultadas: " + ", ".join(parts)
