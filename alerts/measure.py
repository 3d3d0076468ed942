"""The value of a rule's metric over the runs started in its window.

Every metric reads runs by ``start_time`` between ``now - window`` and ``now``
(to the second, not whole rollup hours), restricted by project first, so each
is a range read of the ``run_project_start`` index (project, start time). A
rule on every project reads that index once per project (``project_id IN``).
``None`` means there was nothing to measure (no runs, no ended traces, no
feedback, no cost data); a rule is never breached by ``None``.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Avg, Count, Q, QuerySet, Sum

from alerts.models import AlertRule
from runs.models import Feedback, Project, Run
from runs.query.filters import LATENCY

Metric = AlertRule.Metric


def window_bounds(rule: AlertRule, now: datetime) -> tuple[datetime, datetime]:
    return now - timedelta(minutes=rule.window_minutes), now


def window_runs(rule: AlertRule, now: datetime) -> QuerySet:
    start, end = window_bounds(rule, now)
    runs = Run.objects.filter(start_time__gte=start, start_time__lte=end)
    if rule.project_id is not None:
        return runs.filter(project_id=rule.project_id)
    every = list(Project.objects.values_list("id", flat=True))
    return runs.filter(project_id__in=every)


def measure(rule: AlertRule, now: datetime) -> float | None:
    """The metric's value for this rule now, or None when there is no data."""
    runs = window_runs(rule, now).order_by()
    if rule.metric == Metric.ERROR_RATE:
        counts = runs.aggregate(
            total=Count("id"), errors=Count("id", filter=Q(status=Run.Status.ERROR))
        )
        if not counts["total"]:
            return None
        return round(counts["errors"] / counts["total"], 4)
    if rule.metric == Metric.RUN_COUNT:
        return runs.count()
    if rule.metric == Metric.TOTAL_TOKENS:
        return int(runs.aggregate(n=Sum("total_tokens"))["n"] or 0)
    if rule.metric == Metric.TOTAL_COST:
        return _total_cost(runs)
    if rule.metric == Metric.P95_LATENCY_MS:
        return _p95_latency_ms(runs)
    if rule.metric == Metric.FEEDBACK_SCORE:
        average = Feedback.objects.filter(
            key=rule.feedback_key,
            score__isnull=False,
            run_id__in=runs.values("id"),
        ).aggregate(avg=Avg("score"))["avg"]
        return None if average is None else round(average, 4)
    raise ValueError(f"unknown metric {rule.metric!r}")


def cost_field() -> str | None:
    """The run's cost column, once runs carry one (read defensively by name)."""
    names = {field.name for field in Run._meta.get_fields()}
    return "total_cost" if "total_cost" in names else None


def _total_cost(runs: QuerySet) -> float | None:
    field = cost_field()
    if field is None:
        return None
    priced = runs.filter(**{f"{field}__isnull": False})
    total: Any = priced.aggregate(total=Sum(field))["total"]
    return None if total is None else round(float(total), 6)


def _p95_latency_ms(runs: QuerySet) -> float | None:
    """Nearest-rank p95 of the ended traces' durations (root runs, as the stats)."""
    ended = runs.filter(parent__isnull=True, end_time__isnull=False)
    count = ended.count()
    if not count:
        return None
    rank = math.ceil(0.95 * count) - 1
    duration = (
        ended.annotate(latency=LATENCY)
        .order_by("latency")
        .values_list("start_time", "end_time")[rank : rank + 1]
    )
    start, end = duration[0]
    return round((end - start).total_seconds() * 1000, 1)
