"""Root runs (one row per trace) with per-trace aggregates, one page at a time.

The page is read with one row more than asked (``has_more``). The total is
exact when the page shows it; else it is counted up to ``COUNT_CAP`` within a
time budget (``runs.query.counts``), and not at all when a trace filter scans
trace by trace (it matches too many traces to count cheaply). A count of every
matching root is the costliest part of a filtered page at a million runs, for
a figure nobody reads past "10,000+". When the count is cut short or skipped,
``total`` is a lower bound and ``total_capped`` says so.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import BooleanField, Count, Q, QuerySet, Sum
from django.db.models.expressions import RawSQL
from django.utils.dateparse import parse_datetime

from runs.models import Run
from runs.query import rollups
from runs.query.counts import bounded_count

MAX_LIMIT = 200
DEFAULT_LIMIT = 50
COUNT_CAP = 10_000
# From this offset on, the page's ids are found first (an index-only walk of
# the roots index) and only their rows read: 82 -> 1 ms at offset 20,000 on
# SQLite, 52 -> 11 ms on PostgreSQL.
LATE_LOOKUP_OFFSET = 500
ROW_FIELDS = (
    "id",
    "trace_id",
    "name",
    "run_type",
    "status",
    "start_time",
    "end_time",
    "error",
    "tags",
    "model_name",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "trace_cost",
    "project_id",
    "project__name",
)
# Large bodies are left out of a listing unless asked for with ``fields=``.
OPTIONAL_FIELDS = ("inputs", "outputs", "extra", "events", "serialized")


@dataclass(frozen=True)
class RootsPage:
    runs: list[dict[str, Any]]
    total: int
    limit: int
    offset: int
    has_more: bool
    # True when ``total`` is a lower bound (over COUNT_CAP, or not counted in time).
    total_capped: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "runs": self.runs,
            "total": self.total,
            "total_capped": self.total_capped,
            "limit": self.limit,
            "offset": self.offset,
            "has_more": self.has_more,
        }


def only_roots(queryset: QuerySet) -> QuerySet:
    """Root runs, in a form each database plans with the partial root indexes.

    SQLite's planner takes ``parent_run_id IS NULL`` for a selective lookup
    (it has no statistics for NULL) and then sorts every root: 0.9 s at a
    million runs. Telling it the term is true for most rows lets it walk
    ``run_roots_start`` in order instead (a few ms).
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


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def duration_ms(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return round((end - start).total_seconds() * 1000, 3)


# LLM runs that reported tokens but have no price (shown as such, never $0).
UNPRICED = Q(run_type="llm", total_tokens__gt=0, total_cost__isnull=True)
COSTS = ("trace_prompt_cost", "trace_completion_cost", "trace_total_cost")


def trace_aggregates(
    trace_ids: list[uuid.UUID], visible: QuerySet | None = None
) -> dict[uuid.UUID, dict[str, Any]]:
    """Run count, error count, token and cost totals of each trace, in one query.

    A cost total is null when no run of the trace is priced. ``visible`` (the
    runs the caller may see) keeps another project's runs hanging in a trace
    out of the totals a scoped caller reads.
    """
    if not trace_ids:
        return {}
    base = Run.objects.all() if visible is None else visible
    rows = (
        base.filter(trace_id__in=trace_ids)
        .values("trace_id")
        .annotate(
            run_count=Count("id"),
            error_count=Count("id", filter=Q(status=Run.Status.ERROR)),
            trace_prompt_tokens=Sum("prompt_tokens"),
            trace_completion_tokens=Sum("completion_tokens"),
            trace_total_tokens=Sum("total_tokens"),
            trace_prompt_cost=Sum("prompt_cost"),
            trace_completion_cost=Sum("completion_cost"),
            trace_total_cost=Sum("total_cost"),
            trace_unpriced_runs=Count("id", filter=UNPRICED),
        )
        .order_by()
    )
    return {
        row.pop("trace_id"): {
            k: v if k in COSTS else int(v or 0) for k, v in row.items()
        }
        for row in rows
    }


def root_row(values: dict[str, Any], agg: dict[str, Any] | None) -> dict[str, Any]:
    agg = agg or {}
    row = {
        "id": str(values["id"]),
        "trace_id": str(values["trace_id"]),
        "name": values["name"],
        "run_type": values["run_type"],
        "status": values["status"],
        "start_time": _iso(values["start_time"]),
        "end_time": _iso(values["end_time"]),
        "duration_ms": duration_ms(values["start_time"], values["end_time"]),
        "error": values["error"],
        "tags": values["tags"] or [],
        "model_name": values["model_name"] or None,
        "project_id": str(values["project_id"]) if values["project_id"] else None,
        "project_name": values["project__name"],
        "prompt_tokens": values["prompt_tokens"],
        "completion_tokens": values["completion_tokens"],
        "total_tokens": values["total_tokens"],
        "run_count": agg.get("run_count", 1),
        "error_count": agg.get("error_count", 0),
        "trace_prompt_tokens": agg.get("trace_prompt_tokens", 0),
        "trace_completion_tokens": agg.get("trace_completion_tokens", 0),
        "trace_total_tokens": agg.get("trace_total_tokens", 0),
        # The trace's cost (LangSmith's total_cost of a root), null if unpriced.
        "total_cost": values["trace_cost"],
        "trace_prompt_cost": agg.get("trace_prompt_cost"),
        "trace_completion_cost": agg.get("trace_completion_cost"),
        "trace_unpriced_runs": agg.get("trace_unpriced_runs", 0),
    }
    for name in OPTIONAL_FIELDS:
        if name in values:
            row[name] = values[name]
    return row


def _page_rows(
    queryset: QuerySet, fields: tuple[str, ...], offset: int, count: int
) -> list[dict[str, Any]]:
    if offset < LATE_LOOKUP_OFFSET:
        return list(queryset.values(*fields)[offset : offset + count])
    ids = list(queryset.values_list("id", flat=True)[offset : offset + count])
    rows = {row["id"]: row for row in Run.objects.filter(id__in=ids).values(*fields)}
    return [rows[i] for i in ids if i in rows]


def root_runs(
    queryset: QuerySet,
    *,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
    fields: tuple[str, ...] = (),
    visible: QuerySet | None = None,
) -> RootsPage:
    """A page of the root runs in ``queryset`` (filtered and ordered by the caller).

    ``visible``: the runs the caller may see, which the per-trace totals count.
    """
    roots = only_roots(queryset)
    extra = tuple(f for f in fields if f in OPTIONAL_FIELDS)
    page = _page_rows(roots, (*ROW_FIELDS, *extra), offset, limit + 1)
    has_more = len(page) > limit
    page = page[:limit]
    total, capped = offset + len(page), has_more
    if has_more or (offset and not page):
        counted = bounded_count(roots, COUNT_CAP)
        if counted is not None:
            total, capped = min(counted, COUNT_CAP), counted > COUNT_CAP
    aggregates = trace_aggregates([row["trace_id"] for row in page], visible)
    return RootsPage(
        runs=[root_row(row, aggregates.get(row["trace_id"])) for row in page],
        total=total,
        limit=limit,
        offset=offset,
        has_more=has_more,
        total_capped=capped,
    )


def trace_models(trace_ids: list[str]) -> dict[str, list[str]]:
    """The model names used anywhere in each trace (LLM calls are descendants).

    Probed as (model, trace) pairs in the ``run_model_trace`` index, with the
    model names the rollups know: the index holds both columns, so no run row
    is read. (Reading the runs themselves cost SQLite most of the traces page:
    ``model_name`` sits after the JSON bodies in the row.)
    """
    if not trace_ids:
        return {}
    found: dict[str, list[str]] = defaultdict(list)
    rows = (
        Run.objects.filter(
            model_name__in=rollups.model_names(),
            trace_id__in=[uuid.UUID(t) for t in trace_ids],
        )
        .exclude(model_name="")  # the index's condition, as it is written
        .values_list("trace_id", "model_name")
        .distinct()
        .order_by("trace_id", "model_name")
    )
    for trace_id, model in rows:
        found[str(trace_id)].append(model)
    return found


def roots_after(queryset: QuerySet, cursor: str, descending: bool) -> QuerySet:
    """Keyset page: roots strictly past ``cursor`` (``<iso time>_<run id>``).

    Raises ValueError for a cursor that is not one (see ``page_cursor``).
    """
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


def page_cursor(row: dict[str, Any]) -> str:
    """The keyset cursor that ``roots_after`` takes, from a ``root_row``."""
    return f"{row['start_time']}_{row['id']}"
