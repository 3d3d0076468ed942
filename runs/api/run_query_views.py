"""LangSmith's ``POST /runs/query`` (``Client.list_runs``) and the runs it lists."""

from __future__ import annotations

import base64
import uuid
from datetime import datetime
from typing import Any

import orjson
from django.db.models import Q, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from runs.access import EVERYTHING, access_of
from runs.api import links
from runs.api.auth import limit_to_scope
from runs.api.dashboard_views import validated
from runs.api.serializers import (
    RunsQueryInput,
    run_to_dict,
    with_trace_totals,
)
from runs.models import Run
from runs.query.newest import newest_first
from runs.query.roots import trace_aggregates
from runs.query.run_query import query_runs
from runs.query.trace_filters import led_by_traces


def encode_cursor(start_time: datetime, run_id: uuid.UUID) -> str:
    raw = orjson.dumps([start_time.isoformat(), str(run_id)])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        start, run_id = orjson.loads(raw)
        return datetime.fromisoformat(start), uuid.UUID(run_id)
    except (ValueError, TypeError, orjson.JSONDecodeError):
        raise ValidationError({"cursor": "Not a cursor this server issued."}) from None


def runs_with_children(
    runs: list[Run], request: Request | None = None, visible: QuerySet | None = None
) -> list[dict[str, Any]]:
    """LangSmith run objects with ``child_run_ids`` (those the caller sees).

    With the request, children are those its access sees, and links are made
    for the client that asked: ``app_path`` for the SDK's ``Run.url`` and
    ``s3_urls`` for its attachments. ``visible`` (the runs a share token
    opens) narrows the children further.
    """
    access = access_of(request) if request is not None else EVERYTHING
    children: dict[uuid.UUID, list[str]] = {run.id: [] for run in runs}
    pairs = (
        access.runs(visible)
        .filter(parent_id__in=list(children))
        .order_by("dotted_order")
        .values_list("parent_id", "id")
    )
    for parent_id, child_id in pairs:
        children[parent_id].append(str(child_id))
    totals = trace_aggregates(
        [run.trace_id for run in runs if run.parent_id is None], access.runs(visible)
    )
    rows = []
    for run in runs:
        row = run_to_dict(run, child_run_ids=children[run.id])
        if run.parent_id is None:
            with_trace_totals(row, totals.get(run.trace_id))
        rows.append(row)
    if request is not None:
        attachments = links.s3_urls(request, list(children))
        for run, body in zip(runs, rows, strict=True):
            body["app_path"] = links.sdk_app_path(request, body["app_path"])
            body["s3_urls"] = attachments.get(run.id, {})
    return rows


def _indexed(data: dict[str, Any], queryset: QuerySet) -> bool:
    """Whether an index already serves this query newest first (else a recent
    window is read first: ``runs.query.newest``); a thread's traces do."""
    narrowing = ("session", "session_id", "id", "trace", "parent_run")
    if any(data.get(k) for k in narrowing) or data.get("is_root") is True:
        return True
    return led_by_traces(queryset.query.where)


class RunsQueryView(GenericAPIView):
    queryset = Run.objects.all()
    pagination_class = None
    # A read answered through POST: read-only keys may call it.
    read_only_safe = True

    @extend_schema(
        summary="Query runs (LangSmith list_runs), newest first, cursor paging",
        request=RunsQueryInput,
        responses={200: OpenApiTypes.OBJECT},
    )
    def post(self, request: Request) -> Response:
        data = validated(RunsQueryInput, request.data)
        queryset = query_runs(limit_to_scope(request, Run.objects.all()), data)
        oldest_first = data["order"] == "asc"
        if oldest_first:
            queryset = queryset.order_by("start_time", "id")
        start = None
        if "cursor" in data:
            start, run_id = decode_cursor(data["cursor"])
            queryset = queryset.filter(
                Q(start_time__gt=start) | Q(start_time=start, id__gt=run_id)
                if oldest_first
                else Q(start_time__lt=start) | Q(start_time=start, id__lt=run_id)
            )
        limit = data["limit"]
        if oldest_first or _indexed(data, queryset):
            page = list(queryset[: limit + 1])
        else:
            page = newest_first(queryset, limit + 1, before=start)
        more = len(page) > limit
        page = page[:limit]
        next_cursor = (
            encode_cursor(page[-1].start_time, page[-1].id) if more and page else None
        )
        return Response(
            {
                "runs": runs_with_children(page, request),
                "cursors": {"next": next_cursor},
            }
        )
