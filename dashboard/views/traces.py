"""The traces table: one row per trace, filtered by ``runs.query.RunFilter``.

Paging: ordered by start time (the default), pages are keyset pages ("Older"
follows the last row's ``start_time``/``id``), so page 2,000 costs what page 1
costs. Other orderings use offsets, capped at ``MAX_OFFSET`` rows.

Live updates: the first page re-fetches its rows every 5 s with htmx polling
(only that fragment, one indexed query); running durations tick in the
browser. Polling, not server-sent events: production runs sync gunicorn
workers, where each open SSE stream would hold a worker thread for as long as
a tab stays open.

Each row also shows the first line of its question and answer
(``runs.query.previews``, cached between polls) and its feedback; the
"Columns" menu and saved views live in the browser and ``saved_views``.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from dashboard.trace_params import FILTER_PARAMS, filter_params
from dashboard.views.common import dashboard_view, limit_to_project, page
from dashboard.views.saved_views import saved_views
from dashboard.views.threads import feedback_list
from runs.models import Run
from runs.query.filters import SINCE, InvalidFilter, filter_runs
from runs.query.previews import turn_lines
from runs.query.roots import page_cursor, root_runs, roots_after, trace_models
from runs.query.threads import feedback_by_trace
from runs.thread_models import TraceRollup

PAGE_SIZE = 50
MAX_OFFSET = 10_000
POLL_SECONDS = 5
RUN_TYPES = ("chain", "llm", "chat_model", "tool", "retriever", "embedding", "prompt")
# (key, label, ordering field). Every column but name and status may be
# hidden with the "Columns" menu (static/agentspy/columns.js).
COLUMNS = (
    ("name", "Name", "name"),
    ("status", "Status", "status"),
    ("input", "Input", ""),
    ("output", "Output", ""),
    ("duration", "Duration", "latency"),
    ("tokens", "Tokens", "total_tokens"),
    ("cost", "Cost", "trace_cost"),
    ("feedback", "Feedback", ""),
    ("model", "Model", ""),
    ("start", "Started", "start_time"),
    ("project", "Project", ""),
    ("tags", "Tags", ""),
)
FIXED_COLUMNS = ("name", "status")


def _columns(ordering: str) -> list[dict[str, Any]]:
    """Header links: a click sorts by the column, a second click reverses it."""
    current = ordering or "-start_time"
    columns = []
    for key, label, field in COLUMNS:
        sort = ""
        direction = ""
        if field:
            if current == f"-{field}":
                sort, direction = field, "descending"
            elif current == field:
                sort, direction = f"-{field}", "ascending"
            else:
                sort = f"-{field}" if field != "name" else field
        columns.append(
            {
                "key": key,
                "label": label,
                "sort": sort,
                "dir": direction,
                "optional": key not in FIXED_COLUMNS,
            }
        )
    return columns


def _link(params: QueryDict, **extra: Any) -> str:
    query = params.copy()
    for name, value in extra.items():
        query[name] = value
    return f"?{query.urlencode()}" if query else "?"


def load_page(request: HttpRequest) -> dict[str, Any]:
    """The rows and paging links of the table for this request's URL."""
    params = filter_params(request.GET)
    ordering = params.get("ordering", "")
    keyset = ordering in ("", "-start_time", "start_time")
    errors: dict[str, list[str]] = {}
    try:
        visible = limit_to_project(request, Run.objects.all())
        queryset = filter_runs(params, visible)
        cursor = request.GET.get("after", "")
        offset = 0
        if keyset and cursor:
            queryset = roots_after(
                queryset, cursor, descending=ordering != "start_time"
            )
        elif not keyset:
            offset = min(max(int(request.GET.get("offset") or 0), 0), MAX_OFFSET)
        result = root_runs(queryset, limit=PAGE_SIZE, offset=offset, visible=visible)
    except InvalidFilter as exc:
        errors = exc.errors
    except ValueError:
        errors = {"after": ["Not a valid page cursor."]}
    if errors:
        return {"errors": errors, "rows": [], "params": params, "columns": []}
    rows = result.runs
    models = trace_models([row["trace_id"] for row in rows])
    lines = turn_lines(row["id"] for row in rows)
    # Unsaved rollups: the thread page's reader needs only trace and root ids.
    feedback = feedback_by_trace(
        TraceRollup(trace_id=uuid.UUID(row["trace_id"]), root_id=uuid.UUID(row["id"]))
        for row in rows
    )
    stale_before = timezone.now() - timedelta(minutes=settings.STALE_AFTER_MINUTES)
    for row in rows:
        row["models"] = models.get(row["trace_id"]) or []
        row["turn"] = lines.get(row["id"])
        row["feedback"] = feedback_list(feedback.get(uuid.UUID(row["trace_id"]), {}))
        # Still "running" long after any client would have finished: it died.
        row["stale"] = row["status"] == "running" and (
            parse_datetime(row["start_time"]) < stale_before
        )
    first_page = not cursor and offset == 0
    next_link = ""
    if result.has_more:
        if keyset:
            next_link = _link(params, after=page_cursor(rows[-1]))
        elif offset + PAGE_SIZE <= MAX_OFFSET:
            next_link = _link(params, offset=offset + PAGE_SIZE)
    prev_link = ""
    if offset:
        prev_link = _link(params, offset=max(offset - PAGE_SIZE, 0))
    return {
        "errors": {},
        "rows": rows,
        "total": result.total,
        # A lower bound when the count was capped or cut short: "10,000+".
        "total_text": f"{result.total:,}{'+' if result.total_capped else ''}",
        "first_page": first_page,
        "offset": offset,
        "next_link": next_link,
        "prev_link": prev_link,
        "page_end": offset + len(rows),
        "next_label": ("Newer →" if ordering == "start_time" else "Older →")
        if keyset
        else "Next →",
        "first_link": _link(params),
        "live": first_page and keyset and ordering != "start_time",
        "params": params,
        "columns": _columns(ordering),
        "poll_seconds": POLL_SECONDS,
        "stale_minutes": settings.STALE_AFTER_MINUTES,
        "capped": not keyset and offset + PAGE_SIZE > MAX_OFFSET,
        "sorted_by_cost": ordering.lstrip("-") == "trace_cost",
    }


@dashboard_view
def traces(request: HttpRequest) -> HttpResponse:
    table = load_page(request)
    if request.htmx:
        # The poll asks for the results block only.
        return render(request, "dashboard/_traces_results.html", table)
    params = table["params"]
    context = {
        **table,
        "no_runs": not table["rows"]
        and not limit_to_project(request, Run.objects.all()).exists(),
        "statuses": [s for s, _ in Run.Status.choices],
        "run_types": RUN_TYPES,
        "since_choices": list(SINCE),
        "filtering": any(k != "ordering" for k in params),
        "form": {name: params.get(name, "") for name in FILTER_PARAMS},
        "saved_views": saved_views(request),
    }
    status = 400 if table["errors"] else 200
    return page(request, "dashboard/traces.html", context, status=status)
