"""Read queries the pages need beyond ``runs.query``'s summary and roots page.

Each takes the query layer's own scope or page, so the filters stay defined
once (in ``runs.query``); these only add the aggregations the JSON API does not
return. They belong in ``runs.query.stats`` once another caller needs them.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import BooleanField, Count, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.functions import TruncDay, TruncHour
from django.utils.dateparse import parse_datetime

from runs.models import Run
from runs.query.filters import LATENCY
from runs.query.roots import ROW_FIELDS, root_row, trace_aggregates
from runs.query.scope import StatsScope
from runs.query.stats import percentile

TOP_MODELS = 12
COUNT_CAP = 10_000
# Enough root latencies for stable percentiles; beyond it the newest are used.
MAX_LATENCY_SAMPLES = 50_000


def model_breakdown(scope: StatsScope) -> list[tuple[str, int]]:
    """LLM runs per model name, most used first."""
    rows = (
        scope.runs()
        .exclude(model_name="")
        .values_list("model_name")
        .annotate(n=Count("id"))
        .order_by("-n", "model_name")[:TOP_MODELS]
    )
    return [(name, n) for name, n in rows]


def latency_series(
    scope: StatsScope, bucket: str, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    """p50/p95 latency of finished root runs per time bucket (as in the summary)."""
    trunc = TruncHour if bucket == "hour" else TruncDay
    rows = (
        scope.runs()
        .filter(parent__isnull=True, end_time__isnull=False)
        .annotate(bucket=trunc("start_time"), latency=LATENCY)
        .order_by("-start_time")
        .values_list("bucket", "latency")[:MAX_LATENCY_SAMPLES]
    )
    by_bucket: dict[datetime, list[float]] = defaultdict(list)
    for when, latency in rows:
        by_bucket[when].append(latency.total_seconds() * 1000)
    step = timedelta(hours=1) if bucket == "hour" else timedelta(days=1)
    at = start.replace(minute=0, second=0, microsecond=0)
    if bucket == "day":
        at = at.replace(hour=0)
    points = []
    while at <= end and len(points) < 24 * 31:
        values = sorted(by_bucket.get(at, []))
        points.append(
            {
                "time": at.isoformat(),
                "p50": percentile(values, 50),
                "p95": percentile(values, 95),
                "count": len(values),
            }
        )
        at += step
    return points


def trace_models(trace_ids: list[str]) -> dict[str, list[str]]:
    """The model names used anywhere in each trace (LLM calls are descendants)."""
    if not trace_ids:
        return {}
    found: dict[str, list[str]] = defaultdict(list)
    rows = (
        Run.objects.filter(trace_id__in=[uuid.UUID(t) for t in trace_ids])
        .exclude(model_name="")
        .values_list("trace_id", "model_name")
        .distinct()
        .order_by("trace_id", "model_name")
    )
    for trace_id, model in rows:
        found[str(trace_id)].append(model)
    return found


def roots_after(queryset: QuerySet, cursor: str, descending: bool) -> QuerySet:
    """Keyset page: roots strictly past ``cursor`` (``<iso time>_<run id>``)."""
    time_text, _, id_text = cursor.rpartition("_")
    when = parse_datetime(time_text)
    run_id = uuid.UUID(id_text)
    if when is None:
        raise ValueError("bad cursor time")
    if descending:
        return queryset.filter(
            Q(start_time__lt=when) | Q(start_time=when, id__lt=run_id)
        )
    return queryset.filter(Q(start_time__gt=when) | Q(start_time=when, id__gt=run_id))


@dataclass(frozen=True)
class RootsPage:
    rows: list[dict[str, Any]]
    has_more: bool
    total: int  # counted up to COUNT_CAP + 1
    capped: bool


def only_roots(queryset: QuerySet) -> QuerySet:
    """Root runs, in a form each database plans with the partial root indexes.

    SQLite's planner takes ``parent_run_id IS NULL`` for a selective lookup
    on the parent index (it has no statistics for NULL) and then sorts every
    root: 0.9 s at a million runs. Telling it the term is true for most rows
    lets it walk ``run_roots_start`` in order instead (a few ms).
    """
    if connection.vendor == "sqlite":
        return queryset.filter(
            RawSQL(
                "likelihood(runs_run.parent_run_id IS NULL, 0.9)",
                [],
                output_field=BooleanField(),
            )
        )
    return queryset.filter(parent__isnull=True)


def roots_page(queryset: QuerySet, *, limit: int, offset: int = 0) -> RootsPage:
    """A page of root rows in ``queryset``'s order, with a count capped at
    ``COUNT_CAP``: the dashboard polls its first page every few seconds, and an
    exact count of every root is the costliest part of it (1 s on PostgreSQL at
    a million runs), for a number nobody reads past "more than 10,000".
    Rows are built by the query layer (``runs.query.roots``).
    """
    roots = only_roots(queryset)
    page = list(roots.values(*ROW_FIELDS)[offset : offset + limit + 1])
    has_more = len(page) > limit
    page = page[:limit]
    if has_more or offset:
        total = roots.order_by()[: COUNT_CAP + 1].count()
    else:
        total = len(page)
    aggregates = trace_aggregates([row["trace_id"] for row in page])
    return RootsPage(
        rows=[root_row(row, aggregates.get(row["trace_id"])) for row in page],
        has_more=has_more,
        total=total,
        capped=total > COUNT_CAP,
    )
