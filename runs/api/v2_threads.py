"""LangSmith's v2 threads API, as langsmith 0.15's ``client.threads`` calls it.

``POST /api/v2/threads/query`` pages a project's threads (latest activity
first), ``GET /api/v2/threads/<id>/traces`` a thread's traces (oldest first)
and ``GET /api/v2/threads/<id>/stats`` sums one thread. A thread's ``count``
is its number of traces. Pages are ``{"items": [...], "next_cursor": ...}``
and end with a null cursor. Reads go through the thread rollups
(``runs.query.threads``) and are limited to a scoped key's project.
"""

from __future__ import annotations

import statistics
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Max
from django.utils import timezone
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from runs.api.auth import limit_to_scope
from runs.models import Project, Run
from runs.query import threads as q
from runs.query.turn_text import final_answer, preview, user_input
from runs.thread_models import ThreadRollup, TraceRollup

TRACE_SELECTS = (
    "THREAD_ID", "TRACE_ID", "OP", "PROMPT_TOKENS", "COMPLETION_TOKENS",
    "TOTAL_TOKENS", "START_TIME", "END_TIME", "LATENCY", "FIRST_TOKEN_TIME",
    "INPUTS_PREVIEW", "OUTPUTS_PREVIEW", "INPUTS", "OUTPUTS", "ERROR",
    "PROMPT_COST", "COMPLETION_COST", "TOTAL_COST", "PROMPT_TOKEN_DETAILS",
    "COMPLETION_TOKEN_DETAILS", "PROMPT_COST_DETAILS", "COMPLETION_COST_DETAILS",
    "NAME", "ERROR_PREVIEW", "TURN_NUMBER",
)  # fmt: skip
DEFAULT_TRACE_SELECTS = (
    "THREAD_ID", "TRACE_ID", "NAME", "START_TIME", "END_TIME", "LATENCY",
    "PROMPT_TOKENS", "COMPLETION_TOKENS", "TOTAL_TOKENS", "INPUTS_PREVIEW",
    "OUTPUTS_PREVIEW", "ERROR_PREVIEW", "TURN_NUMBER",
)  # fmt: skip
STATS_SELECTS = (
    "TURNS", "FIRST_START_TIME", "LAST_START_TIME", "LAST_END_TIME", "LATENCY_P50",
    "LATENCY_P99", "PROMPT_TOKENS", "PROMPT_COST", "COMPLETION_TOKENS",
    "COMPLETION_COST", "TOTAL_TOKENS", "TOTAL_COST", "PROMPT_TOKEN_DETAILS",
    "COMPLETION_TOKEN_DETAILS", "PROMPT_COST_DETAILS", "COMPLETION_COST_DETAILS",
    "FEEDBACK_STATS",
)  # fmt: skip
FILTERS = ("filter", "trace_filter", "tree_filter", "thread_filter")


class NotImplementedHere(exceptions.APIException):
    status_code = 501
    default_detail = "Not available on this server."


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _project(request: Request, project_id: uuid.UUID) -> Project:
    projects = Project.objects.filter(id=project_id)
    project = limit_to_scope(request, projects, field="name").first()
    if project is None:
        raise exceptions.NotFound(f"Project {project_id} not found.")
    return project


def _no_filters(data: dict[str, Any]) -> None:
    for name in FILTERS:
        if data.get(name):
            raise exceptions.ValidationError(
                {name: "Filter expressions on threads are not supported here."}
            )


def _selects(request: Request, name: str, allowed: tuple[str, ...]) -> list[str]:
    raw = [s for value in request.query_params.getlist(name) for s in value.split(",")]
    unknown = [s for s in raw if s not in allowed]
    if unknown:
        raise exceptions.ValidationError(
            {name: f"Unknown value(s) {', '.join(unknown)}; expected {allowed}."}
        )
    return raw


class QueryInput(serializers.Serializer):
    project_id = serializers.UUIDField(required=True)
    cursor = serializers.CharField(required=False, allow_blank=True)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=100)
    min_start_time = serializers.DateTimeField(required=False)
    max_start_time = serializers.DateTimeField(required=False)
    filter = serializers.CharField(required=False, allow_blank=True)
    trace_filter = serializers.CharField(required=False, allow_blank=True)
    tree_filter = serializers.CharField(required=False, allow_blank=True)
    thread_filter = serializers.CharField(required=False, allow_blank=True)
    ai_search = serializers.CharField(required=False, allow_blank=True)
    sem_filter = serializers.CharField(required=False, allow_blank=True)


def _page(fn: Any, *args: Any, **kwargs: Any) -> q.Page:
    try:
        return fn(*args, **kwargs)
    except q.BadCursor as exc:
        raise exceptions.ValidationError({"cursor": str(exc)}) from exc


def _stats_dict(stats: dict[str, q.FeedbackStats]) -> dict[str, Any]:
    return {key: s.as_dict() for key, s in sorted(stats.items())}


class ThreadsQueryView(APIView):
    """POST /api/v2/threads/query: a page of a project's threads."""

    read_only_safe = True

    def post(self, request: Request) -> Response:
        if not isinstance(request.data, dict):
            raise exceptions.ValidationError("Expected a JSON object.")
        params = QueryInput(data=request.data)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        if data.get("ai_search") or data.get("sem_filter"):
            raise NotImplementedHere("AI and semantic search are not available here.")
        _no_filters(data)
        project = _project(request, data["project_id"])
        where = thread_window(data)
        page = _page(
            q.list_threads,
            project.id,
            where=where,
            cursor=data.get("cursor") or None,
            limit=data.get("page_size", 20),
        )
        items = thread_items(project.id, page.items)
        return Response({"items": items, "next_cursor": page.next_cursor})


def thread_window(data: dict[str, Any]) -> q.ThreadFilter:
    """Threads last active in ``[min_start_time, max_start_time)`` of a body,
    by default in the day before the request."""
    now = timezone.now()
    return q.ThreadFilter(
        active_after=data.get("min_start_time", now - timedelta(days=1)),
        active_before=data.get("max_start_time", now + timedelta(seconds=1)),
    )


def thread_items(project_id: uuid.UUID, rows: list[ThreadRollup]) -> list[dict]:
    """Threads as the SDK's ``Thread`` model, with first/last turn texts."""
    ends = q.thread_ends(project_id, [row.thread_id for row in rows])
    root_ids = {t.root_id for pair in ends.values() for t in pair}
    roots = {
        r.id: r
        for r in Run.objects.filter(id__in=root_ids).only(
            "id", "inputs", "outputs", "error"
        )
    }
    feedback = q.feedback_by_thread(project_id, [r.thread_id for r in rows])
    items = []
    for row in rows:
        first, last = ends.get(row.thread_id, (None, None))
        first_root = roots.get(first.root_id) if first else None
        last_root = roots.get(last.root_id) if last else None
        items.append(
            {
                "thread_id": row.thread_id,
                "count": row.turns,
                "start_time": _iso(row.first_start),
                "min_start_time": _iso(row.first_start),
                "max_start_time": _iso(row.last_start),
                "num_errored_turns": row.error_turns,
                "total_tokens": row.total_tokens,
                "total_cost": row.total_cost,
                "feedback_stats": _stats_dict(feedback.get(row.thread_id, {})),
                "first_trace_id": str(first.trace_id) if first else None,
                "last_trace_id": str(last.trace_id) if last else None,
                "trace_id": str(last.trace_id) if last else None,
                "first_inputs": preview(user_input(first_root.inputs))
                if first_root
                else None,
                "last_outputs": preview(final_answer(last_root.outputs))
                if last_root
                else None,
                "last_error": last_root.error if last_root else None,
            }
        )
    return items


class TracesInput(serializers.Serializer):
    project_id = serializers.UUIDField(required=True)
    cursor = serializers.CharField(required=False, allow_blank=True)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=100)
    filter = serializers.CharField(required=False, allow_blank=True)
    trace_filter = serializers.CharField(required=False, allow_blank=True)
    tree_filter = serializers.CharField(required=False, allow_blank=True)


class ThreadTracesView(APIView):
    """GET /api/v2/threads/<thread_id>/traces: a thread's traces, oldest first."""

    def get(self, request: Request, thread_id: str) -> Response:
        params = TracesInput(data=request.query_params.dict())
        params.is_valid(raise_exception=True)
        data = params.validated_data
        _no_filters(data)
        selects = set(
            _selects(request, "selects", TRACE_SELECTS) or DEFAULT_TRACE_SELECTS
        )
        project = _project(request, data["project_id"])
        page = _page(
            q.list_turns,
            project.id,
            thread_id,
            cursor=data.get("cursor") or None,
            limit=data.get("page_size", 20),
        )
        numbers = q.turn_numbers(project.id, page.items)
        roots = {
            r.id: r for r in Run.objects.filter(id__in=[t.root_id for t in page.items])
        }
        items = [
            trace_item(turn, roots.get(turn.root_id), number, selects)
            for turn, number in zip(page.items, numbers, strict=True)
        ]
        return Response({"items": items, "next_cursor": page.next_cursor})


def trace_item(
    turn: TraceRollup, root: Run | None, number: int, selects: set[str]
) -> dict[str, Any]:
    error = root.error if root else None
    values: dict[str, Any] = {
        "THREAD_ID": turn.thread_id,
        "TRACE_ID": str(turn.trace_id),
        "NAME": root.name if root else None,
        "START_TIME": _iso(turn.start_time),
        "END_TIME": _iso(turn.end_time),
        "LATENCY": turn.latency_ms / 1000 if turn.latency_ms is not None else None,
        "FIRST_TOKEN_TIME": _iso(root.first_token_time) if root else None,
        "PROMPT_TOKENS": turn.prompt_tokens,
        "COMPLETION_TOKENS": turn.completion_tokens,
        "TOTAL_TOKENS": turn.total_tokens,
        # The whole trace's, as LangSmith's root run total (null: none priced).
        "TOTAL_COST": turn.total_cost,
        "INPUTS": root.inputs if root else None,
        "OUTPUTS": root.outputs if root else None,
        "INPUTS_PREVIEW": preview(user_input(root.inputs)) if root else None,
        "OUTPUTS_PREVIEW": preview(final_answer(root.outputs)) if root else None,
        "ERROR": error,
        "ERROR_PREVIEW": preview(error) if error else None,
        "TURN_NUMBER": number,
    }
    item = {"trace_id": str(turn.trace_id)}
    for select in selects:
        key = select.lower()
        item[key] = values.get(select)  # split costs, details: not recorded
    return item


class StatsInput(serializers.Serializer):
    session_id = serializers.UUIDField(required=True)
    filter = serializers.CharField(required=False, allow_blank=True)


def _percentile(values: list[float], pct: int) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


class ThreadStatsView(APIView):
    """GET /api/v2/threads/<thread_id>/stats: one thread's turn count and sums."""

    def get(self, request: Request, thread_id: str) -> Response:
        params = StatsInput(data=request.query_params.dict())
        params.is_valid(raise_exception=True)
        data = params.validated_data
        _no_filters(data)
        selects = _selects(request, "selects", STATS_SELECTS)
        if not selects:
            raise exceptions.ValidationError({"selects": "At least one is required."})
        project = _project(request, data["session_id"])
        thread = q.get_thread(project.id, thread_id)
        if thread is None:
            raise exceptions.NotFound(f"Thread {thread_id!r} not found.")
        values = thread_stats(project.id, thread, set(selects))
        return Response({s.lower(): values.get(s) for s in selects})


def thread_stats(
    project_id: uuid.UUID, thread: ThreadRollup, selects: set[str]
) -> dict[str, Any]:
    values: dict[str, Any] = {
        "TURNS": thread.turns,
        "FIRST_START_TIME": _iso(thread.first_start),
        "LAST_START_TIME": _iso(thread.last_start),
        "PROMPT_TOKENS": thread.prompt_tokens,
        "COMPLETION_TOKENS": thread.completion_tokens,
        "TOTAL_TOKENS": thread.total_tokens,
        "TOTAL_COST": thread.total_cost,
    }
    turns = q.turns_of(project_id, thread.thread_id)
    if "LAST_END_TIME" in selects:
        values["LAST_END_TIME"] = _iso(turns.aggregate(end=Max("end_time"))["end"])
    if selects & {"LATENCY_P50", "LATENCY_P99"}:
        latencies = sorted(
            ms / 1000
            for ms in turns.exclude(latency_ms=None).values_list(
                "latency_ms", flat=True
            )
        )
        values["LATENCY_P50"] = _percentile(latencies, 50)
        values["LATENCY_P99"] = _percentile(latencies, 99)
    if "FEEDBACK_STATS" in selects:
        stats = q.feedback_by_thread(project_id, [thread.thread_id])
        values["FEEDBACK_STATS"] = _stats_dict(stats.get(thread.thread_id, {}))
    return values
