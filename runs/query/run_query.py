"""``query_runs``: LangSmith's ``POST /runs/query`` body applied to runs.

The body's plain keys (sessions, ids, trace, parent, type, error, times, text)
and its filter-language keys: ``filter`` selects the runs themselves,
``trace_filter`` runs whose trace's root matches, ``tree_filter`` runs of a
trace where any run matches (``runs.query.filter_language``).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from runs.models import Run
from runs.query import trace_filters
from runs.query.filter_language import FilterError, compile_filter
from runs.query.filters import InvalidFilter

# Body key -> what its expression selects.
FILTER_SCOPES = {"filter": "run", "trace_filter": "trace", "tree_filter": "tree"}


def language_filters(data: dict[str, Any]) -> Q:
    """The filter-language keys of ``data`` as one ``Q``.

    Raises ``InvalidFilter`` naming the key, the position and what was expected.
    """
    condition = Q()
    for key, scope in FILTER_SCOPES.items():
        text = data.get(key)
        if not text or not str(text).strip():
            continue
        try:
            condition &= compile_filter(str(text), scope=scope)
        except FilterError as exc:
            raise InvalidFilter({key: [str(exc)]}) from None
    return condition


def query_runs(queryset: QuerySet, data: dict[str, Any]) -> QuerySet:
    """Apply a ``/runs/query`` body to ``queryset``, newest first.

    Raises ``InvalidFilter`` for a filter expression that cannot be used.
    """
    sessions = list(data.get("session", []))
    if "session_id" in data:
        sessions.append(data["session_id"])
    if sessions:
        queryset = queryset.filter(project_id__in=sessions)
    if data.get("id"):
        queryset = queryset.filter(id__in=data["id"])
    if "trace" in data:
        queryset = queryset.filter(trace_id=data["trace"])
    if "parent_run" in data:
        queryset = queryset.filter(parent_id=data["parent_run"])
    if "is_root" in data:
        queryset = queryset.filter(parent__isnull=data["is_root"])
    if "run_type" in data:
        queryset = queryset.filter(run_type=data["run_type"])
    if "error" in data:
        errored = Q(status=Run.Status.ERROR)
        queryset = queryset.filter(errored if data["error"] else ~errored)
    if "start_time" in data:
        queryset = queryset.filter(start_time__gte=data["start_time"])
    if "end_time" in data:
        queryset = queryset.filter(end_time__lte=data["end_time"])
    if data.get("query", "").strip():
        # Planned by the matches within the projects asked for, not everywhere.
        scope = trace_filters.projects_of(queryset)
        queryset = queryset.filter(
            trace_filters.with_text(data["query"].strip(), scope)
        )
    queryset = trace_filters.led_by_thread(queryset.filter(language_filters(data)))
    return queryset.order_by("-start_time", "-id")
