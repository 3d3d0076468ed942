"""``POST /api/v2/threads/stats``: langsmith 0.15's ``client.threads.aggregate_stats``.

Aggregates of the threads of a project last active in the window (as the
threads query selects them), read from the thread rollups
(``runs.query.thread_stats``); with ``stride``, also per time bucket, each
thread in the bucket where its latest turn started. Only the selected
statistics are answered. Costs, token and cost details, first-token times and
streaming rates are not kept in the rollups: they answer null.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from runs.api.dashboard_views import validated
from runs.api.v2.pages import NullsAbsent
from runs.api.v2_threads import (
    _iso,
    _no_filters,
    _percentile,
    _project,
    _stats_dict,
    thread_window,
)
from runs.query.thread_stats import Stride, ThreadTotals, thread_totals

SELECTS = (
    "THREAD_COUNT", "TRACE_COUNT", "TOTAL_TOKENS", "TOTAL_COST", "ERROR_RATE",
    "STREAMING_RATE", "LATENCY_P50", "LATENCY_P99", "MEDIAN_TOKENS",
    "FIRST_TOKEN_P50", "FIRST_TOKEN_P99", "PROMPT_TOKENS", "COMPLETION_TOKENS",
    "PROMPT_COST", "COMPLETION_COST", "PROMPT_TOKEN_DETAILS",
    "COMPLETION_TOKEN_DETAILS", "PROMPT_COST_DETAILS", "COMPLETION_COST_DETAILS",
    "THREAD_FEEDBACK_STATS",
)  # fmt: skip
# Response keys that are not the select's name in lower case.
KEYS = {
    "LATENCY_P50": "latency_p50_seconds",
    "LATENCY_P99": "latency_p99_seconds",
    "FIRST_TOKEN_P50": "first_token_p50_seconds",
    "FIRST_TOKEN_P99": "first_token_p99_seconds",
}
PER_TURN = {"LATENCY_P50", "LATENCY_P99", "MEDIAN_TOKENS"}
UNITS = {
    "SECOND": timedelta(seconds=1),
    "MINUTE": timedelta(minutes=1),
    "HOUR": timedelta(hours=1),
    "DAY": timedelta(days=1),
}
MAX_BUCKETS = 1000


class StrideInput(serializers.Serializer):
    unit = serializers.ChoiceField(choices=list(UNITS))
    value = serializers.IntegerField(min_value=1, default=1)


class AggregateInput(NullsAbsent):
    project_id = serializers.UUIDField()
    select = serializers.ListField(
        child=serializers.ChoiceField(choices=SELECTS),
        min_length=1,
        max_length=len(SELECTS),
    )
    min_start_time = serializers.DateTimeField(required=False)
    max_start_time = serializers.DateTimeField(required=False)
    stride = StrideInput(required=False)
    filter = serializers.CharField(required=False, allow_blank=True)
    trace_filter = serializers.CharField(required=False, allow_blank=True)
    tree_filter = serializers.CharField(required=False, allow_blank=True)
    thread_filter = serializers.CharField(required=False, allow_blank=True)


def _median_tokens(totals: ThreadTotals) -> int | None:
    median = _percentile(sorted(totals.turn_tokens), 50)
    return None if median is None else round(median)


def stats_body(totals: ThreadTotals, selects: list[str]) -> dict[str, Any]:
    """The selected statistics of ``totals``, under the SDK's response keys."""
    latencies = sorted(totals.latencies)
    values: dict[str, Any] = {
        "THREAD_COUNT": totals.threads,
        "TRACE_COUNT": totals.traces,
        "TOTAL_TOKENS": totals.total_tokens,
        "PROMPT_TOKENS": totals.prompt_tokens,
        "COMPLETION_TOKENS": totals.completion_tokens,
        "ERROR_RATE": totals.error_rate,
        "LATENCY_P50": _percentile(latencies, 50),
        "LATENCY_P99": _percentile(latencies, 99),
        "MEDIAN_TOKENS": _median_tokens(totals),
        "THREAD_FEEDBACK_STATS": _stats_dict(totals.feedback),
    }
    return {KEYS.get(s, s.lower()): values.get(s) for s in selects}


class ThreadsAggregateStatsView(APIView):
    """POST /api/v2/threads/stats: aggregates of a project's recent threads."""

    read_only_safe = True

    def post(self, request: Request) -> Response:
        if not isinstance(request.data, dict):
            raise exceptions.ValidationError("Expected a JSON object.")
        data = validated(AggregateInput, request.data)
        _no_filters(data)
        selects = list(dict.fromkeys(data["select"]))
        where = thread_window(data)
        stride = None
        if "stride" in data:
            step = UNITS[data["stride"]["unit"]] * data["stride"]["value"]
            stride = Stride(where.active_after, where.active_before, step)
            if stride.count > MAX_BUCKETS:
                raise exceptions.ValidationError(
                    {"stride": f"At most {MAX_BUCKETS} buckets fit the window."}
                )
        project = _project(request, data["project_id"])
        whole, buckets = thread_totals(
            project.id,
            where,
            stride,
            per_turn=bool(PER_TURN.intersection(selects)),
            feedback="THREAD_FEEDBACK_STATS" in selects,
        )
        body = stats_body(whole, selects)
        if stride is not None:
            body["buckets"] = [
                {"bucket_start_time": _iso(start), **stats_body(totals, selects)}
                for start, totals in zip(stride.starts(), buckets, strict=True)
            ]
        return Response(body)
