"""Prometheus metrics, read from the database at scrape time.

Every gunicorn worker answers `/metrics` with the same numbers, because they come from the
shared SQLite file rather than from per-process counters.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from flask import Blueprint, Response
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from outage.db import Connection
from outage.storage import cycles, incidents
from outage.storage import outbox as outbox_rows
from outage.web.api import get_db, requires_reader

bp = Blueprint("metrics", __name__)


class DatabaseCollector(Collector):
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def collect(self) -> Iterator[Metric]:
        db = self.conn
        last = cycles.last_good_cycle(db)
        yield _gauge(
            "outage_last_good_cycle_timestamp_seconds",
            "Início do último ciclo bem-sucedido",
            last and last[0],
        )
        yield _gauge(
            "outage_last_cycle_duration_seconds", "Duração do último ciclo bem-sucedido", last and last[1]
        )
        yield _gauge("outage_offline_logins", "Logins offline no último ciclo bem-sucedido", last and last[2])
        since = time.time() - 86400
        failed, interrupted = cycles.failed_cycles_since(db, since)
        yield _gauge("outage_failed_cycles_24h", "Ciclos com falha nas últimas 24 h", failed)
        yield _gauge(
            "outage_interrupted_cycles_24h",
            "Ciclos interrompidos por uma parada do processo nas últimas 24 h",
            interrupted,
        )
        events = GaugeMetricFamily("outage_events", "Eventos por status", labels=["status"])
        for status, count in incidents.events_by_status(db):
            events.add_metric([status], count)
        yield events
        outbox = GaugeMetricFamily("outage_outbox_rows", "Linhas do outbox por status", labels=["status"])
        for status, count in outbox_rows.counts_by_status(db).items():
            outbox.add_metric([status], count)
        yield outbox


def _gauge(name: str, documentation: str, value: float | None) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=float("nan") if value is None else float(value))


@bp.get("/metrics")
@requires_reader
def metrics() -> Response:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector(get_db()))
    return Response(generate_latest(registry), mimetype="text/plain; version=0.0.4")
