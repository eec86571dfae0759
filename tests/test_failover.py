"""Active/standby: two real instances (`python monitor_service.py`) on one PostgreSQL, the active
one killed with SIGKILL while an outage is being polled and while its console hands notices to
the provider. The standby takes over within the lease, every outage is told to the NOC once
(a resend after a crash says so), and no customer gets a notice twice. The scenario and its
score are `bench.bench_failover`'s (20 kills there, 2 here)."""

from __future__ import annotations

from bench.bench_failover import failover_bound, run_failover

KILLS = 2  # one right after the outage appears in the ERP, one in the middle of an approval


def test_killing_the_active_instance_loses_no_alert_and_doubles_nothing(postgres_url: str) -> None:
    result = run_failover(KILLS, {"DATABASE_URL": postgres_url})
    assert result["banco"] == "PostgreSQL"
    assert result["mortes"] == KILLS
    assert result["failover_s"]["max"] <= failover_bound(), result["rodadas"]
    assert (result["alertas_perdidos"], result["alertas_dobrados"]) == (0, 0), result["alertas"]
    assert result["avisos_dobrados"] == 0 and result["avisos_fora_do_esperado"] == 0
    assert result["avisos_recebidos"] + result["avisos_incertos"] >= result["avisos_esperados"]
    assert result["incidentes_falsos"] == 0
