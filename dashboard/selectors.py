"""Read queries the pages need beyond ``runs.query``'s summary and roots page.

Each takes the query layer's own scope or page, so the filters stay defined
once (in ``runs.query``); these only add the aggregations the JSON API does not
return. They belong in ``runs.query.stats`` once another caller needs them.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDay, TruncHour
from django.utils.dateparse import parse_datetime

from runs.models import Run
from runs.query.filters import LATENCY
from runs.query.scope import StatsScope
from runs.query.stats import percentile

TOP_MODELS = 12
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
