"""The statistics summary of the stats route and the dashboard overview.

Counts come from the hourly rollups (``runs.query.rollups``), so a summary
costs the same at a thousand runs or a million; time ranges are whole UTC
hours. Latency percentiles of root runs come from the rollups' log-scale
histogram (within about 6%).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import OuterRef, Q, QuerySet, Subquery, Sum
from django.utils import timezone

from runs.models import Project, Run
from runs.query import rollups
from runs.query.rollups import as_int, floor_hour
from runs.query.scope import StatsScope

PERCENTILES = (50, 95, 99)
MAX_BUCKETS = 24 * 31
RECENT_PROJECTS = 10
# The cost sums every summary reports (US dollars; LLM runs with no price).
COST_SUMS = {
    "prompt_cost": Sum("prompt_cost"),
    "completion_cost": Sum("completion_cost"),
    "total_cost": Sum("total_cost"),
    "unpriced_runs": Sum("unpriced_runs"),
}


def _series(hourly: dict[Any, dict[str, Any]], start: Any, end: Any) -> dict[str, Any]:
    unit = rollups.series_unit(start, end)
    step = timedelta(hours=1) if unit == "hour" else timedelta(days=1)
    first = floor_hour(start)
    if unit == "day":
        first = first.replace(hour=0)
    points: dict[Any, dict[str, Any]] = {}
    at = first
    while at <= end and len(points) < MAX_BUCKETS:
        points[at] = {"time": at.isoformat(), "runs": 0, "errors": 0, "cost": 0.0}
        at += step
    for hour, counts in hourly.items():
        key = hour if unit == "hour" else hour.replace(hour=0)
        if key in points:
            points[key]["runs"] += counts["runs"]
            points[key]["errors"] += counts["errors"]
            points[key]["cost"] += counts["cost"]
    return {"bucket": unit, "points": list(points.values())}


def last_root_starts(project_ids: list[Any]) -> dict[Any, Any]:
    """Start time of each project's newest trace.

    One probe of the partial roots index (project, -start_time) per project:
    a GROUP BY would read every root of the project.
    """
    if not project_ids:
        return {}
    if connection.vendor == "sqlite":
        return _sqlite_last_root_starts(project_ids)
    newest = (
        Run.objects.filter(parent__isnull=True, project_id=OuterRef("pk"))
        .order_by("-start_time")
        .values("start_time")[:1]
    )
    rows = (
        Project.objects.filter(id__in=project_ids)
        .annotate(last=Subquery(newest))
        .filter(last__isnull=False)
        .values_list("id", "last")
        .order_by()
    )
    return dict(rows)


def _sqlite_last_root_starts(project_ids: list[Any]) -> dict[Any, Any]:
    # SQLite ranks run_project_start (every run of a project) level with the
    # partial roots index and takes it, then reads the row of each newer child
    # run to see it is no root: behind a big trace's 10,000 runs, 30-60 ms a
    # project at a million runs. Named, the roots index answers in one probe.
    found: dict[Any, Any] = {}
    with connection.cursor() as cursor:
        for pid in project_ids:
            key = pid if isinstance(pid, uuid.UUID) else uuid.UUID(str(pid))
            cursor.execute(
                "SELECT start_time FROM runs_run "
                "INDEXED BY run_roots_project_start "
                "WHERE parent_run_id IS NULL AND project_id = %s "
                "ORDER BY start_time DESC, id DESC LIMIT 1",
                [key.hex],
            )
            row = cursor.fetchone()
            if row is not None:
                found[pid] = _sqlite_datetime(row[0])
    return found


def _sqlite_datetime(value: datetime) -> datetime:
    # Django stores aware datetimes in SQLite as naive UTC text; its cursor
    # reads them back naive.
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def summary(scope: StatsScope) -> dict[str, Any]:
    """Counts, distributions, latency percentiles, tokens and a time series.

    Two reads of the rollups in scope: one grouped by everything but the hour
    (totals, distributions, tokens, the latency histogram, folded here) and
    one grouped by hour (the time series and the last 24 hours).
    """
    now = timezone.now()
    rollups.compact_if_needed()
    # An hourly series needs hourly rows; a daily one reads whole days.
    by_hour = scope.start is not None and (
        rollups.series_unit(scope.start, scope.end or now) == "hour"
    )
    groups = rollups.grouped(
        scope,
        ("project_id", "run_type", "status", "is_root", "latency_bucket"),
        {
            "n": Sum("runs"),
            "prompt": Sum("prompt_tokens"),
            "completion": Sum("completion_tokens"),
            "tokens": Sum("total_tokens"),
            "latency": Sum("latency_ms"),
            **COST_SUMS,
        },
        by_hour=by_hour,
    )
    total = traces = error_runs = prompt = completion = tokens = unpriced = 0
    costs = [0.0, 0.0, 0.0]
    by_status: dict[str, int] = {}
    by_type: dict[str, int] = {}
    runs_of: dict[Any, int] = {}
    histogram: list[tuple[int, int, float]] = []
    for pid, run_type, status, is_root, bucket, n, p, c, t, ms, *money in groups:
        n = int(n or 0)
        costs = [a + float(b or 0) for a, b in zip(costs, money[:3], strict=True)]
        unpriced += int(money[3] or 0)
        total += n
        traces += n if is_root else 0
        error_runs += n if status == Run.Status.ERROR else 0
        prompt += int(p or 0)
        completion += int(c or 0)
        tokens += int(t or 0)
        by_status[status] = by_status.get(status, 0) + n
        by_type[run_type] = by_type.get(run_type, 0) + n
        runs_of[pid] = runs_of.get(pid, 0) + n
        if is_root and bucket is not None:
            histogram.append((bucket, n, ms))
    # Most runs first, ties by project id (no project last).
    by_project = sorted(
        ((pid, n) for pid, n in runs_of.items() if n > 0),
        key=lambda item: (-item[1], item[0] is None, item[0] or 0),
    )[:20]
    names = dict(
        Project.objects.filter(id__in=[pid for pid, _ in by_project]).values_list(
            "id", "name"
        )
    )
    errors = Q(status=Run.Status.ERROR)
    hourly = {
        hour: {"runs": as_int(n), "errors": as_int(n_errors), "cost": cost or 0.0}
        for hour, n, n_errors, cost in rollups.grouped(
            scope,
            ("hour",),
            {
                "n": Sum("runs"),
                "n_errors": Sum("runs", filter=errors),
                "cost": Sum("total_cost"),
            },
            by_hour=by_hour,
        )
    }
    last_day = rollups.recent_hours(now, 24)
    start = scope.start or (min(hourly) if hourly else now)
    recent = [pid for pid, _ in by_project if pid]
    if scope.project_ids is not None:
        recent = list(scope.project_ids)
    recent_names = dict(Project.objects.filter(id__in=recent).values_list("id", "name"))
    # Newest first; ties (same start) by name, so the order is stable.
    last = sorted(
        last_root_starts(recent).items(),
        key=lambda item: recent_names.get(item[0]) or "",
    )
    last.sort(key=lambda item: item[1], reverse=True)
    recent_projects = [
        {
            "id": str(pid),
            "name": recent_names.get(pid),
            "last_run_start_time": when.isoformat(),
        }
        for pid, when in last[:RECENT_PROJECTS]
    ]
    return {
        "total_runs": total,
        "total_traces": traces,
        "runs_last_24h": _runs_since(scope, last_day, hourly, by_hour),
        "error_runs": error_runs,
        "error_rate": round(error_runs / total, 4) if total else 0.0,
        # Successes over finished runs: running runs have no outcome yet.
        "success_rate": _success_rate(by_status),
        "status_distribution": _positive(by_status),
        "run_type_distribution": _positive(by_type),
        "project_distribution": [
            {
                "project_id": str(pid) if pid else None,
                "project_name": names.get(pid),
                "runs": n,
            }
            for pid, n in by_project
        ],
        "latency_ms": {
            f"p{p}": rollups.histogram_percentile(histogram, p) for p in PERCENTILES
        },
        "tokens": {"prompt": prompt, "completion": completion, "total": tokens},
        # US dollars of the priced runs; unpriced runs (LLM calls of a model
        # with no price) are counted apart, never as $0.
        "cost": {
            "prompt": round(costs[0], 9),
            "completion": round(costs[1], 9),
            "total": round(costs[2], 9),
        },
        "unpriced_runs": unpriced,
        "time_series": _series(hourly, start, scope.end or now),
        "recent_projects": recent_projects,
    }


def _runs_since(
    scope: StatsScope,
    since: datetime,
    hourly: dict[Any, dict[str, Any]],
    by_hour: bool,
) -> int:
    """Runs of the scope's projects in its range from ``since`` on: from the
    hourly series when it is one, else by its own read of those hours (a
    daily series holds yesterday as one day)."""
    if by_hour:
        return sum(c["runs"] for h, c in hourly.items() if h >= since)
    if scope.end is not None and scope.end < since:
        return 0
    recent = StatsScope(
        project_ids=scope.project_ids,
        start=max(since, scope.start) if scope.start is not None else since,
        end=scope.end,
    )
    ((n,),) = rollups.grouped(recent, (), {"n": Sum("runs")}, by_hour=True) or [(0,)]
    return as_int(n)


def _success_rate(by_status: dict[str, int]) -> float | None:
    """Successful runs over finished (successful or failed) runs; None if none."""
    success = by_status.get(Run.Status.SUCCESS, 0)
    finished = success + by_status.get(Run.Status.ERROR, 0)
    return round(success / finished, 4) if finished > 0 else None


def cost_summary(scope: StatsScope, top: int = 12) -> dict[str, Any]:
    """What the scope cost: totals, unpriced runs and the costliest models.

    One pass over the rollups in scope, grouped by model only (the whole
    summary groups by every key): the cost card and breakdown without the rest.
    """
    rollups.compact_if_needed()
    groups = rollups.grouped(scope, ("model_name",), COST_SUMS)
    sums = [0.0, 0.0, 0.0]
    unpriced = 0
    models = []
    for name, *costs, n_unpriced in groups:
        sums = [a + float(b or 0) for a, b in zip(sums, costs, strict=True)]
        unpriced += as_int(n_unpriced)
        if name and ((costs[2] or 0) > 0 or as_int(n_unpriced) > 0):
            models.append((name, float(costs[2] or 0), as_int(n_unpriced)))
    models.sort(key=lambda m: (-m[1], m[0]))
    return {
        "cost": {
            key: round(value, 9)
            for key, value in zip(("prompt", "completion", "total"), sums, strict=True)
        },
        "unpriced_runs": unpriced,
        "by_model": [
            {"model_name": name, "total_cost": round(cost, 9), "unpriced_runs": n}
            for name, cost, n in models[:top]
        ],
    }


def _positive(counts: dict[str, int]) -> dict[str, int]:
    """The keys with a positive count, in key order."""
    return {key: n for key, n in sorted(counts.items()) if n > 0}


def project_counts(project_ids: list[Any]) -> dict[Any, dict[str, Any]]:
    """Runs, traces, errors and newest trace start of each project."""
    if not project_ids:
        return {}
    rollups.compact_if_needed()
    columns = {
        "run_count": Sum("runs"),
        "trace_count": Sum("runs", filter=Q(is_root=True)),
        "error_count": Sum("runs", filter=Q(status=Run.Status.ERROR)),
        "prompt_tokens": Sum("prompt_tokens"),
        "completion_tokens": Sum("completion_tokens"),
        "total_tokens": Sum("total_tokens"),
        **COST_SUMS,
    }
    rows = rollups.grouped(
        StatsScope(project_ids=list(project_ids)), ("project_id",), columns
    )
    last = last_root_starts(project_ids)
    out: dict[Any, dict[str, Any]] = {}
    for pid, *values in rows:
        out[pid] = {
            k: round(float(v or 0), 9) if k.endswith("_cost") else as_int(v)
            for k, v in zip(columns, values, strict=True)
        }
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
                "total_tokens": c.get("total_tokens", 0),
                "total_cost": c.get("total_cost", 0.0),
                "unpriced_runs": c.get("unpriced_runs", 0),
                "last_run_start_time": last.isoformat() if last else None,
            }
        )
    out.sort(key=lambda p: p["name"])
    out.sort(key=lambda p: p["last_run_start_time"] or "", reverse=True)
    return out
