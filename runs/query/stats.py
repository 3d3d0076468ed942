"""The statistics summary of the stats route and the dashboard overview."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Max, Q, QuerySet, Sum
from django.db.models.functions import TruncDay, TruncHour
from django.utils import timezone

from runs.models import Project, Run
from runs.query.filters import LATENCY
from runs.query.scope import StatsScope

PERCENTILES = (50, 95, 99)
MAX_BUCKETS = 24 * 31


def percentile(sorted_values: list[float], pct: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not sorted_values:
        return None
    rank = (len(sorted_values) - 1) * pct / 100
    low, high = math.floor(rank), math.ceil(rank)
    value = sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (
        rank - low
    )
    return round(value, 3)


def _bucket(start: datetime, end: datetime) -> str:
    return "hour" if end - start <= timedelta(days=2) else "day"


def _series(qs: QuerySet, start: datetime, end: datetime) -> dict[str, Any]:
    unit = _bucket(start, end)
    trunc = TruncHour if unit == "hour" else TruncDay
    step = timedelta(hours=1) if unit == "hour" else timedelta(days=1)
    rows = (
        qs.annotate(bucket=trunc("start_time"))
        .values("bucket")
        .annotate(runs=Count("id"), errors=Count("id", filter=Q(status="error")))
        .order_by("bucket")
    )
    found = {row["bucket"]: row for row in rows}
    first = start.replace(minute=0, second=0, microsecond=0)
    if unit == "day":
        first = first.replace(hour=0)
    points = []
    at = first
    while at <= end and len(points) < MAX_BUCKETS:
        row = found.get(at, {})
        points.append(
            {
                "time": at.isoformat(),
                "runs": row.get("runs", 0),
                "errors": row.get("errors", 0),
            }
        )
        at += step
    return {"bucket": unit, "points": points}


def summary(scope: StatsScope, *, queryset: QuerySet | None = None) -> dict[str, Any]:
    """Counts, distributions, latency percentiles, tokens and a time series."""
    now = timezone.now()
    runs = scope.runs(queryset)
    totals = runs.aggregate(
        total_runs=Count("id"),
        total_traces=Count("id", filter=Q(parent__isnull=True)),
        error_runs=Count("id", filter=Q(status="error")),
        runs_last_24h=Count("id", filter=Q(start_time__gte=now - timedelta(hours=24))),
        prompt_tokens=Sum("prompt_tokens"),
        completion_tokens=Sum("completion_tokens"),
        total_tokens=Sum("total_tokens"),
    )
    by_status = dict(
        runs.values_list("status").annotate(n=Count("id")).order_by("status")
    )
    by_type = dict(
        runs.values_list("run_type").annotate(n=Count("id")).order_by("run_type")
    )
    by_project = list(
        runs.values("project_id", "project__name")
        .annotate(runs=Count("id"))
        .order_by("-runs", "project__name")[:20]
    )
    latencies = sorted(
        d.total_seconds() * 1000
        for d in runs.filter(parent__isnull=True, end_time__isnull=False)
        .annotate(latency=LATENCY)
        .values_list("latency", flat=True)
    )
    total = totals["total_runs"]
    start = scope.start or (
        runs.order_by("start_time").values_list("start_time", flat=True).first() or now
    )
    end = scope.end or now
    recent = (
        Project.objects.filter(
            id__in=[p["project_id"] for p in by_project if p["project_id"]]
        )
        if scope.project_ids is None
        else Project.objects.filter(id__in=scope.project_ids)
    )
    recent_projects = list(
        recent.annotate(last_run_start_time=Max("runs__start_time"))
        .order_by("-last_run_start_time")
        .values("id", "name", "last_run_start_time")[:10]
    )
    return {
        "total_runs": total,
        "total_traces": totals["total_traces"],
        "runs_last_24h": totals["runs_last_24h"],
        "error_runs": totals["error_runs"],
        "error_rate": round(totals["error_runs"] / total, 4) if total else 0.0,
        "status_distribution": by_status,
        "run_type_distribution": by_type,
        "project_distribution": [
            {
                "project_id": str(p["project_id"]) if p["project_id"] else None,
                "project_name": p["project__name"],
                "runs": p["runs"],
            }
            for p in by_project
        ],
        "latency_ms": {f"p{p}": percentile(latencies, p) for p in PERCENTILES},
        "tokens": {
            "prompt": totals["prompt_tokens"] or 0,
            "completion": totals["completion_tokens"] or 0,
            "total": totals["total_tokens"] or 0,
        },
        "time_series": _series(runs, start, end),
        "recent_projects": [
            {
                "id": str(p["id"]),
                "name": p["name"],
                "last_run_start_time": p["last_run_start_time"].isoformat()
                if p["last_run_start_time"]
                else None,
            }
            for p in recent_projects
        ],
    }


def project_counts(project_ids: list[Any]) -> dict[Any, dict[str, Any]]:
    """Runs, traces, errors and last start time of each project, in one query."""
    if not project_ids:
        return {}
    rows = (
        Run.objects.filter(project_id__in=project_ids)
        .values("project_id")
        .annotate(
            run_count=Count("id"),
            trace_count=Count("id", filter=Q(parent__isnull=True)),
            error_count=Count("id", filter=Q(status="error")),
            last_run_start_time=Max("start_time"),
        )
        .order_by()
    )
    return {row.pop("project_id"): row for row in rows}


def project_stats(projects: QuerySet) -> list[dict[str, Any]]:
    """Every project of ``projects`` with its counts, most recently active first."""
    listed = list(projects.values("id", "name", "description", "created_at"))
    counts = project_counts([p["id"] for p in listed])
    out = []
    for project in listed:
        c = counts.get(project["id"], {})
        runs = c.get("run_count", 0)
        last = c.get("last_run_start_time")
        out.append(
            {
                "id": str(project["id"]),
                "name": project["name"],
                "description": project["description"] or None,
                "created_at": project["created_at"].isoformat(),
                "run_count": runs,
                "trace_count": c.get("trace_count", 0),
                "error_count": c.get("error_count", 0),
                "error_rate": round(c.get("error_count", 0) / runs, 4) if runs else 0.0,
                "last_run_start_time": last.isoformat() if last else None,
            }
        )
    out.sort(key=lambda p: p["name"])
    out.sort(key=lambda p: p["last_run_start_time"] or "", reverse=True)
    return out
