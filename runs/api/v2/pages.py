"""What the v2 list routes share: selects, time windows, cursor pages, streams.

A query route is one pipeline (``query_page``): the one query layer applied
to the ``/runs/query`` body the request stands for, the time window, the
selected columns, then one page newest first.

A page is ``{"items": [...], "next_cursor": ...}``; the cursor is null on the
last page. Streaming variants (``Accept: text/event-stream``) send the same
page as server-sent JSON Patch events (``event: data``), one ``add`` per item
and the cursor last, then ``event: end`` (langsmith ``_query_streaming``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import orjson
from django.db.models import Q, QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone
from rest_framework import serializers
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from runs.api.run_query_views import decode_cursor, encode_cursor
from runs.api.v2.fields import SELECT_FIELDS, only_needed
from runs.query.run_query import query_runs

MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 100
# LangSmith's default window: runs started in the day before the request.
DEFAULT_WINDOW = timedelta(days=1)


class SelectsField(serializers.ListField):
    child = serializers.ChoiceField(choices=SELECT_FIELDS)

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("default", list)
        kwargs.setdefault("max_length", len(SELECT_FIELDS))
        super().__init__(**kwargs)


class NullsAbsent(serializers.Serializer):
    """A body whose null values count as absent, as the SDK omits them."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            data = {k: v for k, v in data.items() if v is not None}
        return super().to_internal_value(data)


def refuse_ai_search(attrs: dict[str, Any]) -> None:
    """Natural-language and semantic search need a model this server lacks."""
    for name in ("ai_search", "sem_filter"):
        if attrs.get(name):
            raise serializers.ValidationError(
                {name: "AI search is not available here."}
            )


def query_dict(request: Request) -> dict[str, Any]:
    """Query parameters, repeated ones as lists (the SDK repeats arrays)."""
    params = request.query_params
    return {
        key: params.getlist(key) if key in ("selects", "id", "type") else params[key]
        for key in params
    }


def window(
    data: dict[str, Any], *, default: timedelta | None = DEFAULT_WINDOW
) -> tuple[datetime | None, datetime | None]:
    """``min_start_time`` (default a day ago) and ``max_start_time``."""
    low = data.get("min_start_time")
    if low is None and default is not None:
        low = timezone.now() - default
    return low, data.get("max_start_time")


def within(queryset: QuerySet, low: datetime | None, high: datetime | None) -> QuerySet:
    if low is not None:
        queryset = queryset.filter(start_time__gte=low)
    if high is not None:
        queryset = queryset.filter(start_time__lte=high)
    return queryset


def selected_runs(
    visible: QuerySet,
    body: dict[str, Any],
    data: dict[str, Any],
    *,
    default: timedelta | None = DEFAULT_WINDOW,
) -> QuerySet:
    """The runs a v2 request asks for, as the one query layer selects them.

    ``body`` is the ``/runs/query`` body the request stands for, ``data`` the
    request's own: its time window (``default`` when it names no start) and
    ``selects`` (bodies no select asks for are not read).
    """
    queryset = query_runs(visible, body)
    queryset = within(queryset, *window(data, default=default))
    return only_needed(queryset, data["selects"])


def query_page(
    visible: QuerySet, body: dict[str, Any], data: dict[str, Any]
) -> tuple[list[Any], str | None]:
    """One page of a v2 query (``selected_runs``), newest first, at ``cursor``."""
    queryset = selected_runs(visible, body, data)
    return newest_page(queryset, data.get("cursor"), data["page_size"])


def newest_page(
    queryset: QuerySet, cursor: str | None, page_size: int
) -> tuple[list[Any], str | None]:
    """One page newest first, keyed by (start_time, id) like ``/runs/query``."""
    queryset = queryset.order_by("-start_time", "-id")
    if cursor:
        start, run_id = decode_cursor(cursor)
        queryset = queryset.filter(
            Q(start_time__lt=start) | Q(start_time=start, id__lt=run_id)
        )
    rows = list(queryset[: page_size + 1])
    more = len(rows) > page_size
    rows = rows[:page_size]
    next_cursor = (
        encode_cursor(rows[-1].start_time, rows[-1].id) if more and rows else None
    )
    return rows, next_cursor


def wants_stream(request: Request) -> bool:
    return "text/event-stream" in request.META.get("HTTP_ACCEPT", "")


def _events(items: list[dict[str, Any]], next_cursor: str | None) -> Iterator[bytes]:
    yield (
        b"event: data\ndata: "
        + orjson.dumps(
            [{"op": "add", "path": "", "value": {"items": [], "next_cursor": None}}]
        )
        + b"\n\n"
    )
    for item in items:
        yield (
            b"event: data\ndata: "
            + orjson.dumps([{"op": "add", "path": "/items/-", "value": item}])
            + b"\n\n"
        )
    yield (
        b"event: data\ndata: "
        + orjson.dumps(
            [{"op": "replace", "path": "/next_cursor", "value": next_cursor}]
        )
        + b"\n\n"
    )
    yield b"event: end\ndata: {}\n\n"


def page_response(
    request: Request, items: list[dict[str, Any]], next_cursor: str | None
) -> Response | StreamingHttpResponse:
    if wants_stream(request):
        response = StreamingHttpResponse(
            _events(items, next_cursor), content_type="text/event-stream"
        )
        response["Cache-Control"] = "no-cache"
        return response
    return Response({"items": items, "next_cursor": next_cursor})


class EventStreamRenderer(BaseRenderer):
    """Lets ``Accept: text/event-stream`` through content negotiation.

    Pages are streamed by ``page_response``; what this renders is an error
    body (or a page asked for with ``?format=sse`` alone), as JSON, and so it
    is labelled application/json, as the schema documents it.
    """

    media_type = "text/event-stream"
    format = "sse"
    charset = None

    def render(
        self, data: Any, accepted_media_type: Any = None, renderer_context: Any = None
    ) -> bytes:
        response = (renderer_context or {}).get("response")
        if response is not None:
            response["Content-Type"] = "application/json"
        return orjson.dumps(data)
