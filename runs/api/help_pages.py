"""A helpful answer to GET on the write-only ingest routes.

Someone who opens ``/api/v1/runs/batch`` in a browser gets a page (the DRF
browsable API) that says what the route accepts, instead of a bare 405. The
ingest views stay untouched: ``with_help`` subclasses them with a ``get``.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

HELP = {
    "runs/batch": (
        'POST a JSON object {"post": [run, ...], "patch": [run, ...]}: the '
        "LangSmith batch ingest format."
    ),
    "runs/multipart": (
        "POST multipart/form-data with post.{id}, patch.{id}, post.{id}.inputs, "
        "... parts (zstd or gzip Content-Encoding allowed): LangSmith's multipart "
        "ingest format."
    ),
    "runs": "POST one run as a JSON object (LangSmith create_run).",
}


def with_help(view_class: type, route: str) -> Any:
    """``view_class.as_view()`` plus a GET that describes the route."""

    def get(self: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(
            {
                "route": f"{request.path}",
                "methods": ["POST"],
                "detail": HELP[route],
                "docs": request.build_absolute_uri("/docs"),
                "send_traces_with": "LANGCHAIN_ENDPOINT="
                + request.build_absolute_uri(request.path[: -len(route)].rstrip("/")),
            }
        )

    get = extend_schema(
        operation_id=f"{route.replace('/', '_')}_help",
        summary="Describe this ingest route",
        responses={200: OpenApiTypes.OBJECT},
    )(get)
    helpful = type(
        view_class.__name__,
        (view_class,),
        {
            "get": get,
            "__module__": view_class.__module__,
            "__doc__": view_class.__doc__,
        },
    )

    def get_permissions(self: Any) -> list:
        if self.request.method == "GET":
            return [AllowAny()]
        return view_class.get_permissions(self)

    helpful.get_permissions = get_permissions
    return helpful.as_view()
