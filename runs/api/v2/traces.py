"""``client.traces``: query (a root and aggregates per trace) and a trace's runs."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import Min, QuerySet, Sum
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from runs.api.auth import limit_to_scope
from runs.api.dashboard_views import validated
from runs.api.renderers import ORJSONRenderer
from runs.api.v2 import pages
from runs.api.v2.fields import runs_v2
from runs.api.v2.runs import FILTER_MAX
from runs.models import Run


class TracesQueryInput(pages.NullsAbsent):
    project_id = serializers.UUIDField(required=False)
    trace_ids = serializers.ListField(
        child=serializers.UUIDField(), required=False, max_length=1000
    )
    min_start_time = serializers.DateTimeField(required=False)
    max_start_time = serializers.DateTimeField(required=False)
    trace_filter = serializers.CharField(required=False, max_length=FILTER_MAX)
    tree_filter = serializers.CharField(required=False, max_length=FILTER_MAX)
    selects = pages.SelectsField()
    page_size = serializers.IntegerField(
        min_value=1, max_value=pages.MAX_PAGE_SIZE, default=pages.DEFAULT_PAGE_SIZE
    )
    cursor = serializers.CharField(required=False, max_length=200)
    ai_search = serializers.CharField(required=False)
    sem_filter = serializers.CharField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        pages.refuse_ai_search(attrs)
        return attrs


def aggregates(
    trace_ids: list[uuid.UUID], visible: QuerySet
) -> dict[uuid.UUID, dict[str, Any]]:
    """Totals of each trace over the runs the caller sees (``visible``)."""
    rows = (
        visible.filter(trace_id__in=trace_ids)
        .values("trace_id")
        .annotate(
            tokens=Sum("total_tokens"),
            cost=Sum("total_cost"),
            first_token=Min("first_token_time"),
        )
    )
    return {
        row["trace_id"]: {
            "total_tokens": row["tokens"] or 0,
            # Null when no run of the trace was priced, as a root's total is.
            "total_cost": row["cost"],
            "first_token_time": row["first_token"].isoformat()
            if row["first_token"]
            else None,
        }
        for row in rows
    }


class TracesQueryView(APIView):
    renderer_classes = [ORJSONRenderer, pages.EventStreamRenderer]
    read_only_safe = True

    @extend_schema(
        operation_id="v2_traces_query",
        summary="Query traces newest first: root run plus aggregates per item",
        request=TracesQueryInput,
        responses={200: OpenApiTypes.OBJECT},
    )
    def post(self, request: Request) -> Any:
        data = validated(TracesQueryInput, request.data)
        body: dict[str, Any] = {"is_root": True}
        if "project_id" in data:
            body["session"] = [data["project_id"]]
        if data.get("trace_ids"):
            body["id"] = data["trace_ids"]
        # On roots, a trace filter is a filter of the run itself.
        for name in ("trace_filter", "tree_filter"):
            if data.get(name, "").strip():
                body[name] = data[name]
        visible = limit_to_scope(request, Run.objects.all())
        roots, next_cursor = pages.query_page(visible, body, data)
        totals = aggregates([root.trace_id for root in roots], visible)
        items = [
            {"root_run": body, "trace_aggregates": totals.get(root.trace_id)}
            for root, body in zip(
                roots, runs_v2(request, roots, data["selects"]), strict=True
            )
        ]
        return pages.page_response(request, items, next_cursor)


class TraceRunsParams(serializers.Serializer):
    project_id = serializers.UUIDField()
    filter = serializers.CharField(required=False, max_length=FILTER_MAX)
    min_start_time = serializers.DateTimeField(required=False)
    max_start_time = serializers.DateTimeField(required=False)
    selects = pages.SelectsField()


class TraceRunsView(APIView):
    renderer_classes = [ORJSONRenderer, pages.EventStreamRenderer]

    @extend_schema(
        operation_id="v2_traces_list_runs",
        summary="The runs of one trace, oldest first",
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request, trace_id: uuid.UUID) -> Any:
        params = validated(TraceRunsParams, pages.query_dict(request))
        body: dict[str, Any] = {"trace": trace_id, "session": [params["project_id"]]}
        if params.get("filter", "").strip():
            body["filter"] = params["filter"]
        visible = limit_to_scope(request, Run.objects.all())
        queryset = pages.selected_runs(visible, body, params, default=None)
        runs = list(queryset.order_by("start_time", "dotted_order"))
        items = runs_v2(request, runs, params["selects"])
        if pages.wants_stream(request):
            return pages.page_response(request, items, None)
        return Response({"items": items})
