"""The overview: headline numbers, charts and breakdowns for a time range."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from dashboard import charts, selectors
from dashboard.views.common import (
    dashboard_view,
    find_project,
    limit_to_project,
    page,
    project_limit,
)
from runs.models import Run
from runs.query.feedback import feedback_summary
from runs.query.scope import StatsScope
from runs.query.stats import summary

RANGES = {
    "1h": timedelta(hours=1),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}
DEFAULT_RANGE = "24h"


def _aware(text: str) -> datetime | None:
    when = parse_datetime(text) if text else None
    if when is not None and timezone.is_naive(when):
        when = timezone.make_aware(when, timezone.get_current_timezone())
    return when


def time_range(request: HttpRequest) -> tuple[str, datetime, datetime, list[str]]:
    """(range key, start, end, errors) from ``range`` or a custom ``from``/``to``."""
    now = timezone.now()
    errors = []
    key = request.GET.get("range", DEFAULT_RANGE)
    if key == "custom":
        start, end = (
            _aware(request.GET.get("from", "")),
            _aware(request.GET.get("to", "")),
        )
        if start is None:
            errors.append("Custom range: give a valid start time.")
        elif end is not None and end <= start:
            errors.append("Custom range: the end must be after the start.")
        else:
            return key, start, end or now, errors
        key = DEFAULT_RANGE
    if key not in RANGES:
        errors.append(f"Unknown range {key[:20]!r}; showing the last 24 hours.")
        key = DEFAULT_RANGE
    return key, now - RANGES[key], now, errors


@dashboard_view
def overview(request: HttpRequest) -> HttpResponse:
    project_param = request.GET.get("project", "")
    project = find_project(project_param)
    limit = project_limit(request)
    if limit is not None:
        # A viewer limited to one project: that one, whatever the URL says.
        project = limit if project is None or project.pk == limit.pk else None
    key, start, end, errors = time_range(request)
    context = {
        "ranges": list(RANGES),
        "range": key,
        "start": start,
        "end": end,
        "errors": errors,
        "project": project,
        "custom_from": request.GET.get("from", ""),
        "custom_to": request.GET.get("to", ""),
    }
    if project_param and project is None:
        context["errors"].append(f"No project named {project_param[:100]!r}.")
        return page(request, "dashboard/overview.html", context, status=404)
    if not limit_to_project(request, Run.objects.all()).exists():
        return page(request, "dashboard/overview.html", {**context, "no_runs": True})
    scope = StatsScope(
        project_ids=[project.id] if project else None, start=start, end=end
    )
    stats = summary(scope)
    series = stats["time_series"]
    finished = stats["total_traces"]
    context.update(
        stats=stats,
        finished_runs=stats["status_distribution"].get("success", 0)
        + stats["status_distribution"].get("error", 0),
        running_runs=stats["status_distribution"].get("running", 0),
        # "Runs, last 24 h" repeats "Runs" when the range is 24 h or shorter.
        show_last_24h=end - start > timedelta(hours=24),
        runs_chart=charts.runs_chart(series),
        cost_chart=charts.cost_chart(series),
        cost_by_model=charts.share_rows(selectors.cost_breakdown(scope, "model")),
        cost_by_project=charts.share_rows(selectors.cost_breakdown(scope, "project")),
        latency_chart=charts.latency_chart(
            selectors.latency_series(scope, series["bucket"], start, end),
            series["bucket"],
        ),
        by_type=charts.share_rows(stats["run_type_distribution"]),
        by_status=charts.share_rows(stats["status_distribution"]),
        by_model=charts.share_rows(selectors.model_breakdown(scope)),
        by_project=charts.share_rows(
            [
                (p["project_name"] or "(none)", p["runs"])
                for p in stats["project_distribution"]
            ]
        ),
        has_traces=finished > 0,
        feedback=feedback_summary(scope),
    )
    return page(request, "dashboard/overview.html", context)
