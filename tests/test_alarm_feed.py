"""The network's alarms through the product: receivers → feed → detector → the NOC, in seconds.

Everything is real on 127.0.0.1: the simulated OLTs' traps and syslog alarm blocks and the
concentrators' accounting (`simulator.alarms`, each device from its own loopback address), the
receivers, the ERP fake over HTTP, the OLTs' tables over SNMP, the Telegram fake.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from outage.db import open_database
from outage.service import Service
from outage.web.app import create_app
from simulator.alarms import AlarmTargets, NetworkAlarms, olt_address
from simulator.day import ScriptedDay
from simulator.heard import HeardDay
from simulator.ixc import FakeIXC
from simulator.network import INSTANT, Network
from simulator.snmp_agent import SnmpAgent, olt_rows
from simulator.telegram import FakeTelegram

START = 1_767_236_400.0
COMMUNITY = "traps-teste"
SECRET = "radius-teste"
TOKEN = "token-da-api-de-teste-0123456789"


def wait_for(check: Callable[[], object], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False


# --- a day on the simulated clock ---------------------------------------------------------


def test_hours_of_churn_and_outages_with_alarms_on_are_told_in_seconds_once_with_no_false_incident(tmp_path):
    from bench.day import score_day

    day = ScriptedDay(customers=1500, seed=2, start=START)
    with HeardDay(day, tmp_path, env={"THRESHOLD_OFFLINE_CLIENTS": "4"}) as watched:
        watched.run(until=START + 3 * 3600)
        score = score_day(watched.conn, day, watched.cycles, threshold=4, quorum=0.9)
        events = watched.conn.execute("SELECT id, origem, motivo, resolvido_por FROM events").fetchall()
        openings = watched.conn.execute(
            "SELECT event_id, COUNT(*) FROM outbox WHERE kind = 'abertura' GROUP BY event_id"
        ).fetchall()
        left = watched.conn.execute("SELECT COUNT(*) FROM alarm_drops").fetchone()[0]
        fed = watched.feed.counts
    assert score.episodes, "the scripted outages of the first hours"
    assert score.false_events == []  # churn's dying gasps open nothing
    for episode in score.episodes:
        assert episode.told_after is not None and episode.told_after <= 15, episode
    assert {e["origem"] for e in events} == {"alarme"}
    assert all(e["resolvido_por"] != "alarme não confirmado" for e in events)
    assert all(count == 1 for _, count in openings)  # the ERP poll confirms, never opens it again
    assert left < 50  # drops heard in the last minutes, the next poll's to confirm
    assert fed.quedas > 0 and fed.retornos > 0


def test_the_same_hours_without_alarms_wait_for_the_erp_poll(tmp_path):
    from bench.day import score_day

    day = ScriptedDay(customers=1500, seed=2, start=START)
    with HeardDay(day, tmp_path, alarms=False, step=300.0, env={"THRESHOLD_OFFLINE_CLIENTS": "4"}) as watched:
        watched.run(until=START + 3 * 3600)
        score = score_day(watched.conn, day, watched.cycles, threshold=4, quorum=0.9)
    delays = [e.told_after for e in score.episodes if e.told_after is not None]
    assert delays and min(delays) > 15  # what the alarms save


# --- the running service ------------------------------------------------------------------


@pytest.fixture
def network() -> Network:
    return Network(customers=300, seed=4, churn=None, timing=INSTANT)


@pytest.fixture
def wired(
    network: Network, tmp_path: Path, make_settings
) -> Iterator[tuple[Callable[[], Service], FakeTelegram]]:
    """Settings with the receivers on, and the simulated devices sending to them."""
    members = {olt.id: [c for c in network.customers if c.olt.id == olt.id] for olt in network.olts}
    tables = {
        f"ler-{olt.id}": olt_rows(
            olt.vendor, olt.model, lambda m=members[olt.id]: [network.onu_view(c) for c in m]
        )
        for olt in network.olts
    }
    targets = AlarmTargets.on_free_ports(SECRET, COMMUNITY)
    with FakeIXC(network) as ixc, FakeTelegram() as telegram, SnmpAgent(tables) as agent:
        inventory = tmp_path / "olts.json"
        inventory.write_text(
            json.dumps(
                [
                    {
                        "id_transmissor": olt.id,
                        "name": olt.name,
                        "vendor": olt.vendor,
                        "model": olt.model,
                        "host": "127.0.0.1",
                        "username": "noc",
                        "password": "x",
                        "addresses": [olt_address(olt.id)],
                        "snmp_community": COMMUNITY,
                        "snmp_read_community": f"ler-{olt.id}",
                        "snmp_port": agent.port,
                    }
                    for olt in network.olts
                ]
            ),
            encoding="utf-8",
        )
        settings = make_settings(
            IXC_URL=ixc.url,
            IXC_USER=ixc.user,
            IXC_TOKEN=ixc.token,
            OLT_INVENTORY=str(inventory),
            TELEGRAM_BOT_TOKEN=telegram.token,
            TELEGRAM_CHAT_ID="-1001",
            TELEGRAM_API_URL=telegram.url,
            THRESHOLD_OFFLINE_CLIENTS="4",
            MONITOR_API_TOKEN=TOKEN,
            **targets.receiver_env(o.concentrador for o in network.olts),
        )
        sender = NetworkAlarms(targets).start()
        network.alarms = sender
        services: list[Service] = []

        def make() -> Service:
            service = Service(settings, lease_ttl=2.0)
            services.append(service)
            service.start()
            return service

        try:
            yield make, telegram
        finally:
            network.alarms = None
            sender.stop()
            for service in services:
                service.stop()


def ready(service: Service, network: Network) -> bool:
    """The baseline polled, the roster read, every OLT's tables learned."""
    feed = service.feed
    return feed is not None and feed.roster.loaded and len(feed.service.learned) == len(network.olts)


def test_a_fiber_cut_reaches_telegram_in_seconds_from_the_olts_alarms_before_any_erp_poll(wired, network):
    make, telegram = wired
    service = make()
    assert wait_for(lambda: ready(service, network))
    olt = next(o for o in network.olts if o.vendor == "huawei")
    port = max(
        (p for (ident, p) in network.pons() if ident == olt.id),
        key=lambda p: len(network.pons()[(olt.id, p)]),
    )
    cut = time.monotonic()
    network.fiber_cut(olt.id, port)
    assert wait_for(lambda: telegram.texts("-1001"), timeout=20), "no NOC message"
    told = time.monotonic() - cut
    conn = open_database(service.settings.database)
    try:
        [event] = conn.execute("SELECT origem, motivo, escopo, logins FROM events").fetchall()
        cycles = conn.execute("SELECT COUNT(*) FROM cycles").fetchone()[0]
    finally:
        conn.close()
    assert told < 15
    assert cycles == 1  # only the baseline: CHECK_INTERVAL is 300 s
    assert (event["origem"], event["motivo"], event["escopo"]) == ("alarme", "loss", "pon")
    assert set(json.loads(event["logins"])) == {c.login for c in network.pons()[(olt.id, port)]}
    assert "LOS" in telegram.texts("-1001")[0] or "fibra" in telegram.texts("-1001")[0].lower()


def test_only_the_instance_that_polls_listens_and_a_standby_takes_the_ports_over(wired, network):
    make, _ = wired
    first = make()
    assert wait_for(lambda: ready(first, network))
    second = make()
    time.sleep(3)
    assert not second.leader.is_set() and second.feed is None
    first.stop()  # releases the lease and closes its receivers
    assert wait_for(lambda: second.feed is not None, timeout=20)
    assert wait_for(lambda: ready(second, network))


def test_health_shows_each_source_and_device(wired, network):
    make, _ = wired
    service = make()
    assert wait_for(lambda: ready(service, network))
    olt = network.olts[0]
    port = next(p for (ident, p) in network.pons() if ident == olt.id)
    network.fiber_cut(olt.id, port)
    assert wait_for(lambda: service.feed is not None and service.feed.counts.quedas > 0)
    client = create_app(service.settings).test_client()

    def report() -> dict:
        return client.get("/api/saude", headers={"Authorization": f"Bearer {TOKEN}"}).get_json()

    assert wait_for(
        lambda: (report().get("alarmes") or {}).get("entregues_ao_detector", {}).get("quedas", 0) > 0
    )
    body = report()
    [row] = [c for c in body["componentes"] if c["nome"] == "Alarmes da rede"]
    assert row["estado"] == "ok" and "alarmes recebidos" in row["detalhe"]
    devices = {d["nome"]: d for d in body["alarmes"]["equipamentos"]}
    assert sum(devices[olt.name]["recebidos"].values()) > 0
    assert body["alarmes"]["fontes"]["snmp"]["recusados"] == {}
