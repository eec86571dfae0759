"""Which ONU records speak for an incident, and the cause a majority of them gives."""

from __future__ import annotations

from outage.adapters.cause.verdict import decide, judge, olt_epoch
from outage.core.droptime import ErpClock
from outage.core.localtime import erp_text

DROP = 1_795_000_000.0  # the incident's drops, our clock


def record(login: str, cause: str, down: float | None, state: str = "offline", olt: str = "1") -> dict:
    vote = {"dying-gasp": "energia", "LOS": "loss"}.get(cause, "sem_voto")
    return {
        "login": login,
        "id_transmissor": olt,
        "causa_bruta": cause,
        "caiu_em": erp_text(down) if down else "",
        "classificacao": vote,
        "estado": state,
    }


def drops(*logins: str, at: float = DROP) -> dict[str, float]:
    return {login: at + n for n, login in enumerate(logins)}


def test_records_from_the_incidents_onset_vote_for_power():
    evidences = [record(f"c{n}", "dying-gasp", DROP - 40) for n in range(4)]
    judged = judge(evidences, drops("c0", "c1", "c2", "c3"), {})
    verdict = decide(judged, 5)
    assert all(e["conta"] for e in judged)
    assert verdict.motivo == "energia"
    assert verdict.explicacao == "4 de 5 ONUs consultadas com queda de energia (dying gasp) nesta queda"


def test_records_months_old_never_vote_and_say_why():
    months_ago = DROP - 300 * 86400
    evidences = [record("old1", "dying-gasp", months_ago), record("old2", "dying-gasp", months_ago)]
    evidences.append(record("new", "LOS", DROP - 30))
    judged = judge(evidences, drops("old1", "old2", "new"), {})
    assert [e["conta"] for e in judged] == [False, False, True]
    assert judged[0]["motivo_exclusao"].startswith("registro antigo: caiu em ")
    assert "/20" in judged[0]["motivo_exclusao"]  # the year is shown
    verdict = decide(judged, 5)
    assert verdict.motivo == "indeterminado"
    assert verdict.explicacao == (
        "sem maioria entre 5 ONUs consultadas: 1 com LOS nesta queda, "
        "2 sem registro desta queda (não contam), 2 sem resposta da OLT"
    )


def test_onus_online_now_never_vote_and_a_majority_of_them_is_the_concentrator():
    evidences = [record(f"c{n}", "dying-gasp", DROP - 300 * 86400, state="online") for n in range(4)]
    judged = judge(evidences, drops("c0", "c1", "c2", "c3"), {})
    assert [e["motivo_exclusao"] for e in judged] == ["ONU online agora"] * 4
    verdict = decide(judged, 5)
    assert verdict.motivo == "concentrador"
    assert "concentrador ou transporte" in verdict.explicacao
    assert verdict.votos == {"energia": 0, "loss": 0, "concentrador": 4, "sem_voto": 1}


def test_two_votes_among_five_sampled_are_no_majority():
    evidences = [record("a", "dying-gasp", DROP - 20), record("b", "dying-gasp", DROP - 10)]
    evidences += [record(n, "ONT is reset by ONT command", DROP - 10) for n in ("c", "d", "e")]
    verdict = decide(judge(evidences, drops("a", "b", "c", "d", "e"), {}), 5)
    assert verdict.motivo == "indeterminado"


def test_a_record_of_a_later_fall_does_not_speak_for_this_one():
    judged = judge([record("a", "LOS", DROP + 3600)], drops("a"), {})
    assert not judged[0]["conta"] and judged[0]["motivo_exclusao"].startswith("registro posterior")


def test_an_olt_clock_ten_minutes_ahead_is_learned_from_the_incidents_own_records():
    evidences = [record(f"c{n}", "LOS", DROP + n - 90 + 600) for n in range(5)]  # OLT 10 min ahead
    clocks: dict[str, ErpClock] = {}
    judged = judge(evidences, drops("c0", "c1", "c2", "c3", "c4"), clocks)
    assert all(e["conta"] for e in judged)
    assert round(clocks["1"].offset) == -510
    assert decide(judged, 5).motivo == "loss"


def test_a_current_condition_without_a_time_votes():
    evidence = {**record("a", "LOS", None), "atual": True}
    assert judge([evidence], drops("a"), {})[0]["conta"]
    assert judge([record("b", "LOS", None)], drops("b"), {})[0]["motivo_exclusao"] == "registro sem data"


def test_olt_dates_with_and_without_a_zone_are_read():
    assert olt_epoch("2026-03-05 09:55:28-03:00") == olt_epoch("2026-03-05 09:55:28")
    assert olt_epoch("2026-03-05 12:55:28+00:00") == olt_epoch("2026-03-05 09:55:28")
    assert olt_epoch("2026-11-20T03:10:00Z") > 0
    assert olt_epoch("") == olt_epoch("-") == 0.0
