"""The statistics summary of the stats route and the dashboard overview.

Counts come from the hourly rollups (``runs.query.rollups``), so a summary
costs the same at a thousand runs or a million; time ranges are whole UTC
hours. Latency percentiles of root runs come from the rollups' log-scale
histogram (within about 6%).
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from django.db.models import Max, Q, QuerySet, Sum
from django.utils import timezone

from runs.models import Project, Run
from runs.query import rollups
from runs.query.rollups import as_int, floor_hour
from runs.query.scope import StatsScope

PERCENTILES = (50, 95, 99)
MAX_BUCKETS = 24 * 31
RECENT_PROJECTS = 10


def _series(hourly: dict[Any, dict[str, int]], start: Any, end: Any) -> dict[str, Any]:
    unit = "hour" if end - start <= timedelta(days=2) else "day"
    step = timedelta(hours=1) if unit == "hour" else timedelta(days=1)
    first = floor_hour(start)
    if unit == "day":
        first = first.replace(hour=0)
    points: dict[Any, dict[str, Any]] = {}
    at = first
    while at <= end and len(points) < MAX_BUCKETS:
        points[at] = {"time": at.isoformat(), "runs": 0, "errors": 0}
        at += step
    for hour, counts in hourly.items():
        key = hour if unit == "hour" else hour.replace(hour=0)
        if key in points:
            points[key]["runs"] += counts["runs"]
            points[key]["errors"] += counts["errors"]
    return {"bucket": unit, "points": list(points.values())}


def percentile(sorted_values: list[float], pct: float) -> float | None:
    """Exact percentile of sorted values, interpolating between closest ranks."""
    if not sorted_values:
        return None
    rank = (len(sorted_values) - 1) * pct / 100
    low, high = math.floor(rank), math.ceil(rank)
    value = sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (
        rank - low
    )
    return round(value, 3)


def last_root_starts(project_ids: list[Any]) -> dict[Any, Any]:
    """Start time of each project's newest trace (the roots index answers it)."""
    if not project_ids:
        return {}
    rows = (
        Run.objects.filter(parent__isnull=True, project_id__in=project_ids)
        .values("project_id")
        .annotate(last=Max("start_time"))
        .order_by()
    )
    return {row["project_id"]: row["last"] for row in rows}


def summary(scope: StatsScope) -> dict[str, Any]:
    """Counts, distributions, latency percentiles, tokens and a time series."""
    now = timezone.now()
    rollups.compact_if_needed()
    qs = rollups.rows(scope)
    errors = Q(status=Run.Status.ERROR)
    totals = qs.aggregate(
        total_runs=Sum("runs"),
        total_traces=Sum("runs", filter=Q(is_root=True)),
        error_runs=Sum("runs", filter=errors),
        runs_last_24h=Sum("runs", filter=Q(hour__gte=rollups.recent_hours(now, 24))),
        prompt_tokens=Sum("prompt_tokens"),
        completion_tokens=Sum("completion_tokens"),
        total_tokens=Sum("total_tokens"),
    )
    total = as_int(totals["total_runs"])
    by_status = _distribution(qs, "status")
    by_type = _distribution(qs, "run_type")
    by_project = list(
        qs.values("project_id")
        .annotate(n=Sum("runs"))
        .filter(n__gt=0)
        .order_by("-n", "project_id")[:20]
    )
    names = dict(
        Project.objects.filter(
            id__in=[p["project_id"] for p in by_project]
        ).values_list("id", "name")
    )
    histogram = list(
        qs.filter(is_root=True, latency_bucket__isnull=False)
        .values_list("latency_bucket")
        .annotate(n=Sum("runs"), total=Sum("latency_ms"))
        .order_by()
    )
    hourly = {
        row["hour"]: {"runs": as_int(row["n"]), "errors": as_int(row["n_errors"])}
        for row in qs.values("hour")
        .annotate(n=Sum("runs"), n_errors=Sum("runs", filter=errors))
        .order_by()
    }
    start = scope.start or (min(hourly) if hourly else now)
    recent = [p["project_id"] for p in by_project if p["project_id"]]
    if scope.project_ids is not None:
        recent = list(scope.project_ids)
    recent_names = dict(Project.objects.filter(id__in=recent).values_list("id", "name"))
    last = sorted(
        last_root_starts(recent).items(), key=lambda item: item[1], reverse=True
    )
    recent_projects = [
        {
            "id": str(pid),
            "name": recent_names.get(pid),
            "last_run_start_time": when.isoformat(),
        }
        for pid, when in last[:RECENT_PROJECTS]
    ]
    error_runs = as_int(totals["error_runs"])
    return {
        "total_runs": total,
        "total_traces": as_int(totals["total_traces"]),
        "runs_last_24h": as_int(totals["runs_last_24h"]),
        "error_runs": error_runs,
        "error_rate": round(error_runs / total, 4) if total else 0.0,
        "status_distribution": by_status,
        "run_type_distribution": by_type,
        "project_distribution": [
            {
                "project_id": str(p["project_id"]) if p["project_id"] else None,
                "project_name": names.get(p["project_id"]),
                "runs": as_int(p["n"]),
            }
            for p in by_project
        ],
        "latency_ms": {
            f"p{p}": rollups.histogram_percentile(histogram, p) for p in PERCENTILES
        },
        "tokens": {
            "prompt": as_int(totals["prompt_tokens"]),
            "completion": as_int(totals["completion_tokens"]),
            "total": as_int(totals["total_tokens"]),
        },
        "time_series": _series(hourly, start, scope.end or now),
        "recent_projects": recent_projects,
    }


def _distribution(qs: QuerySet, field: str) -> dict[str, int]:
    rows = qs.values_list(field).annotate(n=Sum("runs")).filter(n__gt=0).order_by(field)
    return {key: as_int(n) for key, n in rows}


def project_counts(project_ids: list[Any]) -> dict[Any, dict[str, Any]]:
    """Runs, traces, errors and newest trace start of each project."""
    if not project_ids:
        return {}
    rollups.compact_if_needed()
    rows = (
        rollups.rows(StatsScope(project_ids=list(project_ids)))
        .values("project_id")
        .annotate(
            run_count=Sum("runs"),
            trace_count=Sum("runs", filter=Q(is_root=True)),
            error_count=Sum("runs", filter=Q(status=Run.Status.ERROR)),
        )
        .order_by()
    )
    last = last_root_starts(project_ids)
    out: dict[Any, dict[str, Any]] = {}
    for row in rows:
        pid = row.pop("project_id")
        out[pid] = {k: as_int(v) for k, v in row.items()}
        out[pid]["last_run_start_time"] = last.get(pid)
    return out


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
