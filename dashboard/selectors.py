"""Chart aggregations the overview needs beyond ``runs.query``'s summary.

Each takes the query layer's own scope, so the filters stay defined once (in
``runs.query``); these only add the aggregations the JSON API does not return.
They belong in ``runs.query.stats`` once another caller needs them. (Keyset
paging and per-trace models live in ``runs.query.roots``.)
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q, Sum

from runs.models import Project
from runs.query import rollups
from runs.query.scope import StatsScope

TOP_MODELS = 12


def model_breakdown(scope: StatsScope) -> list[tuple[str, int]]:
    """Runs per model name, most used first (from the rollups, whole hours)."""
    rows = rollups.grouped(
        scope, ("model_name",), {"n": Sum("runs")}, where=~Q(model_name="")
    )
    ranked = sorted((row for row in rows if row[1] > 0), key=lambda r: (-r[1], r[0]))
    return [(name, int(n)) for name, n in ranked[:TOP_MODELS]]


def cost_breakdown(scope: StatsScope, by: str) -> list[tuple[str, float]]:
    """US dollars per model name or per project (``by``), costliest first."""
    key = "model_name" if by == "model" else "project_id"
    rows = rollups.grouped(scope, (key,), {"cost": Sum("total_cost")})
    ranked = sorted(
        (row for row in rows if row[1] > 0),
        key=lambda r: (-r[1], r[0] is None, str(r[0] or "")),
    )[:TOP_MODELS]
    if by == "model":
        return [(name or "(no model)", float(cost)) for name, cost in ranked]
    names = dict(
        Project.objects.filter(id__in=[pid for pid, _ in ranked if pid]).values_list(
            "id", "name"
        )
    )
    return [(names.get(pid) or "(none)", float(cost)) for pid, cost in ranked]


def latency_series(
    scope: StatsScope, bucket: str, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    """p50/p95 latency of finished root runs per time bucket, as in the summary.

    From the rollups' latency histogram (whole hours): a percentile is the mean
    latency of the histogram bucket holding its rank, within about 12%.
    """
    rows = rollups.grouped(
        scope,
        ("hour", "latency_bucket"),
        {"n": Sum("runs"), "total": Sum("latency_ms")},
        by_hour=bucket == "hour",
        where=Q(is_root=True, latency_bucket__isnull=False),
    )
    by_bucket: dict[datetime, list[tuple[int, int, float]]] = defaultdict(list)
    for hour, latency_bucket, n, total in rows:
        key = hour if bucket == "hour" else hour.replace(hour=0)
        by_bucket[key].append((latency_bucket, int(n or 0), float(total or 0)))
    step = timedelta(hours=1) if bucket == "hour" else timedelta(days=1)
    at = start.replace(minute=0, second=0, microsecond=0)
    if bucket == "day":
        at = at.replace(hour=0)
    points = []
    while at <= end and len(points) < 24 * 31:
        histogram = by_bucket.get(at, [])
        points.append(
            {
                "time": at.isoformat(),
                "p50": rollups.histogram_percentile(histogram, 50),
                "p95": rollups.histogram_percentile(histogram, 95),
                # Day rows and the deltas of their day are separate rows.
                "count": sum(n for _, n, _ in histogram),
            }
        )
        at += step
    return points
