"""The newest runs of a query that no index orders: read a recent window first.

Only root runs and per-project runs have a start-time index (``run_roots_start``,
``run_project_start``); "every run, newest first" sorted the whole table (6 s
at a million runs on SQLite). Rows that started at or after a time ``L`` rank
before every row that started earlier, so when the window ``start_time >= L``
holds at least the rows asked for, its first rows are the answer. The window
is read through ``run_project_start`` (one range scan per project) and grows
eightfold until it is full; past the widest it falls back to the plain query.
So a page costs what its window holds, and the answer is the same either way.
The plain query is tried first within a short budget: a selective filter
answers it at once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import OperationalError
from django.db.models import Q, QuerySet
from django.utils import timezone

from runs.models import Project
from runs.query.counts import within_budget

FIRST_WINDOW = timedelta(minutes=10)
GROWTH = 8
WINDOWS = 6  # 10 min ... about 23 days, then the whole table
# How long the plain query may try before the windows take over (None: no try).
PLAIN_BUDGET_MS: int | None = 20


def _by_project(queryset: QuerySet, since: datetime) -> QuerySet:
    """``queryset`` within the window, in the shape ``run_project_start`` serves."""
    projects = list(Project.objects.values_list("id", flat=True))
    in_projects = Q(project_id__in=projects) if projects else Q(pk__in=[])
    return queryset.filter(in_projects | Q(project__isnull=True), start_time__gte=since)


def newest_first(
    queryset: QuerySet,
    count: int,
    *,
    offset: int = 0,
    before: datetime | None = None,
) -> list[Any]:
    """Rows ``offset .. offset + count`` of ``queryset``, which must be ordered
    newest first (``-start_time``, then ``-id``). ``before``: the start time
    the query is already bounded by (a cursor), where the window starts."""
    need = offset + count
    # A selective filter (a few runs found through an index, e.g. a metadata
    # pair) answers the plain query at once, where a window would scan every
    # run it holds; a broad one would sort the table: it gets a short budget.
    if PLAIN_BUDGET_MS is not None:
        try:
            with within_budget(PLAIN_BUDGET_MS):
                return list(queryset[offset:need])
        except OperationalError:
            pass
    top = before or timezone.now()
    span = FIRST_WINDOW
    for _ in range(WINDOWS):
        rows = list(_by_project(queryset, top - span)[offset:need])
        if len(rows) == count:
            return rows
        span *= GROWTH
    return list(queryset[offset:need])
