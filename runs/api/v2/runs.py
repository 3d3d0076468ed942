"""``client.runs``: query (pages and streams), retrieve, url."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from runs.api import links
from runs.api.auth import limit_to_scope
from runs.api.dashboard_views import validated
from runs.api.renderers import ORJSONRenderer
from runs.api.v2 import pages
from runs.api.v2.fields import runs_v2
from runs.models import Run

FILTER_MAX = 20_000


class RunsQueryInput(pages.NullsAbsent):
    project_ids = serializers.ListField(
        child=serializers.UUIDField(), required=False, max_length=100
    )
    reference_dataset_id = serializers.UUIDField(required=False)
    ids = serializers.ListField(
        child=serializers.UUIDField(), required=False, max_length=1000
    )
    trace_id = serializers.UUIDField(required=False)
    is_root = serializers.BooleanField(required=False)
    has_error = serializers.BooleanField(required=False)
    run_type = serializers.CharField(required=False, max_length=64)
    min_start_time = serializers.DateTimeField(required=False)
    max_start_time = serializers.DateTimeField(required=False)
    filter = serializers.CharField(required=False, max_length=FILTER_MAX)
    trace_filter = serializers.CharField(required=False, max_length=FILTER_MAX)
    tree_filter = serializers.CharField(required=False, max_length=FILTER_MAX)
    selects = pages.SelectsField()
    page_size = serializers.IntegerField(
        min_value=1, max_value=pages.MAX_PAGE_SIZE, default=pages.DEFAULT_PAGE_SIZE
    )
    cursor = serializers.CharField(required=False, max_length=200)
    ai_search = serializers.CharField(required=False)
    sem_filter = serializers.CharField(required=False)
    reference_examples = serializers.ListField(
        child=serializers.UUIDField(), required=False
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        pages.refuse_ai_search(attrs)
        if attrs.get("reference_dataset_id") or attrs.get("reference_examples"):
            raise ValidationError(
                {"reference_dataset_id": "Datasets are not supported here."}
            )
        if not attrs.get("project_ids"):
            raise ValidationError({"project_ids": "Name at least one project."})
        return attrs


def v1_body(data: dict[str, Any]) -> dict[str, Any]:
    """The ``/runs/query`` body of the one query layer for a v2 body."""
    body: dict[str, Any] = {"session": data["project_ids"]}
    if data.get("ids"):
        body["id"] = data["ids"]
    if "trace_id" in data:
        body["trace"] = data["trace_id"]
    if "is_root" in data:
        body["is_root"] = data["is_root"]
    if "has_error" in data:
        body["error"] = data["has_error"]
    if "run_type" in data:
        body["run_type"] = data["run_type"].lower()
    for name in ("filter", "trace_filter", "tree_filter"):
        if data.get(name, "").strip():
            body[name] = data[name]
    return body


class RunsQueryView(APIView):
    renderer_classes = [ORJSONRenderer, pages.EventStreamRenderer]
    read_only_safe = True

    @extend_schema(
        operation_id="v2_runs_query",
        summary="Query runs newest first: {items, next_cursor}; SSE when asked",
        request=RunsQueryInput,
        responses={200: OpenApiTypes.OBJECT},
    )
    def post(self, request: Request) -> Any:
        data = validated(RunsQueryInput, request.data)
        visible = limit_to_scope(request, Run.objects.all())
        rows, next_cursor = pages.query_page(visible, v1_body(data), data)
        items = runs_v2(request, rows, data["selects"])
        return pages.page_response(request, items, next_cursor)


class RetrieveParams(serializers.Serializer):
    project_id = serializers.UUIDField()
    selects = pages.SelectsField()
    start_time = serializers.DateTimeField(required=False)


def visible_run(request: Request, run_id: uuid.UUID, project_id: uuid.UUID) -> Run:
    run = (
        limit_to_scope(request, Run.objects.all())
        .filter(id=run_id, project_id=project_id)
        .first()
    )
    if run is None:
        raise Http404("No such run in this project.")
    return run


class RunRetrieveView(APIView):
    @extend_schema(
        operation_id="v2_runs_retrieve",
        summary="One run of a project, with the selected properties",
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request, run_id: uuid.UUID) -> Response:
        params = validated(RetrieveParams, pages.query_dict(request))
        run = visible_run(request, run_id, params["project_id"])
        return Response(runs_v2(request, [run], params["selects"])[0])


class UrlParams(serializers.Serializer):
    project_id = serializers.UUIDField()
    trace_id = serializers.UUIDField()
    start_time = serializers.DateTimeField(required=False)


class RunUrlView(APIView):
    @extend_schema(
        operation_id="v2_runs_get_url",
        summary="The dashboard URL of a run (absolute, this server's address)",
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request, run_id: uuid.UUID) -> Response:
        params = validated(UrlParams, request.query_params)
        run = visible_run(request, run_id, params["project_id"])
        if run.trace_id != params["trace_id"]:
            raise Http404("No such run in this trace.")
        path = links.trace_path(run.trace_id, run.id)
        return Response({"url": links.absolute(request, path)})
