"""Prometheus metrics of Agent Spy itself, served at ``GET /metrics``.

Under gunicorn every worker is its own process with its own counters. When
``PROMETHEUS_MULTIPROC_DIR`` is set (an empty directory, writable by every
worker, cleared before the server starts), prometheus-client keeps the values in
memory-mapped files there and a scrape sums every worker's; without it the
values live in this process only, which is right for one-process servers
(runserver, uvicorn with one worker, tests).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

REQUESTS = Counter(
    "agentspy_http_requests",
    "HTTP requests answered, by route (URL pattern name), method and status.",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "agentspy_http_request_duration_seconds",
    "Time to answer an HTTP request, by route (URL pattern name) and method.",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
RUNS_INGESTED = Counter(
    "agentspy_runs_ingested", "Runs stored by the ingest service.", ["project"]
)
RUNS_REJECTED = Counter(
    "agentspy_runs_rejected",
    "Runs, feedback and attachments refused by the ingest service.",
    ["project"],
)
BATCH_SIZE = Histogram(
    "agentspy_ingest_batch_size",
    "Items (runs accepted + rejected) per ingest request.",
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000),
)

# Label of runs whose request touched several projects (the ingest result does
# not split its counts by project).
MIXED_PROJECTS = "(several)"


def observe_ingest(result: Any) -> None:
    """Count one ingest request's outcome (an ``IngestResult``)."""
    accepted = len(result.accepted)
    rejected = len(result.rejected)
    projects = sorted(result.projects)
    project = projects[0] if len(projects) == 1 else MIXED_PROJECTS
    if not projects:
        project = ""
    if accepted:
        RUNS_INGESTED.labels(project=project).inc(accepted)
    if rejected:
        RUNS_REJECTED.labels(project=project).inc(rejected)
    BATCH_SIZE.observe(accepted + rejected)


def database_size_bytes() -> tuple[int, str]:
    """Bytes the database takes, and how they were measured."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA page_count")
            pages = cursor.fetchone()[0]
            cursor.execute("PRAGMA page_size")
            return pages * cursor.fetchone()[0], "sqlite_pages"
        cursor.execute("SELECT pg_database_size(current_database())")
        return cursor.fetchone()[0], "pg_database_size"


class DatabaseSizeCollector(Collector):
    """Measured on each scrape: a background thread would be one more moving part."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        gauge = GaugeMetricFamily(
            "agentspy_database_size_bytes",
            "Size of the database (SQLite: page_count*page_size; "
            "PostgreSQL: pg_database_size).",
            labels=["vendor"],
        )
        try:
            size, _ = database_size_bytes()
        except DatabaseError:
            return
        gauge.add_metric([connection.vendor], size)
        yield gauge


_DATABASE_SIZE = DatabaseSizeCollector()


def registry_for_scrape() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
    else:
        registry = CollectorRegistry()
        registry.register(_InProcess())
    registry.register(_DATABASE_SIZE)
    return registry


class _InProcess(Collector):
    """This process's metrics from the default registry."""

    def collect(self) -> Iterator[Any]:
        yield from REGISTRY.collect()


def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus text format; needs an unscoped key when REQUIRE_AUTH is on."""
    denied = _check_access(request)
    if denied is not None:
        return denied
    return HttpResponse(
        generate_latest(registry_for_scrape()), content_type=CONTENT_TYPE_LATEST
    )


def _check_access(request: HttpRequest) -> HttpResponse | None:
    if not settings.REQUIRE_AUTH:
        return None
    # Imported here: the runs app imports models, which need the app registry.
    from runs.api.auth import identify, key_from_request

    key = key_from_request(request)
    identity = identify(key) if key else None
    if identity is None:
        response = HttpResponse(
            "An API key is required (x-api-key header or Authorization: Bearer).\n",
            status=401,
            content_type="text/plain",
        )
        response["WWW-Authenticate"] = 'Bearer realm="api"'
        return response
    if identity.project is not None:
        # Labels name every project, so a key limited to one may not read them.
        return HttpResponse(
            "A project-scoped API key cannot read server metrics.\n",
            status=403,
            content_type="text/plain",
        )
    return None
