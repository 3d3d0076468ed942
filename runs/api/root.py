"""``{API_PREFIX}/``: the API's front door, naming every resource and its URL.

JSON for API clients; DRF's browsable page for a browser, from which every
read route is one click away. It lists routes only (no data), so it is open
like ``/info``.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

# resource -> {link name: URL pattern name}; ids in a path are shown as {id}.
RESOURCES: dict[str, dict[str, str]] = {
    "info": {"info": "info"},
    "sessions": {"list": "sessions"},
    "runs": {
        "query": "runs-query",
        "batch": "runs-batch",
        "multipart": "runs-multipart",
        "create": "runs-create",
    },
    "feedback": {"list": "feedback"},
    "dashboard": {
        "roots": "dashboard-roots",
        "stats": "dashboard-stats",
        "projects": "dashboard-projects",
    },
    "export": {"runs": "export-runs"},
    "otel": {"traces": "otel-traces"},
    "datasets": {"list": "datasets", "upload": "datasets-upload"},
    "examples": {"list": "examples", "bulk": "examples-bulk"},
    "alerts": {"list": "alerts"},
    # LangSmith's v2 API, served beside the prefix at /api/v2/.
    "v2": {
        "runs": "v2-runs-query",
        "traces": "v2-traces-query",
        "threads": "v2-threads-query",
        "sessions": "v2-sessions",
    },
}
DETAIL_ROUTES = {
    "sessions": "sessions/{id}",
    "runs": "runs/{id}",
    "feedback": "feedback/{id}",
    "dashboard": "dashboard/runs/{id}/hierarchy",
    "datasets": "datasets/{id}",
    "examples": "examples/{id}",
    "alerts": "alerts/{id}",
}
ROOT_EXAMPLE = {
    "info": {"info": "http://localhost:8000/api/v1/info"},
    "sessions": {
        "list": "http://localhost:8000/api/v1/sessions",
        "detail": "http://localhost:8000/api/v1/sessions/{id}",
    },
    "docs": {
        "swagger": "http://localhost:8000/docs",
        "redoc": "http://localhost:8000/redoc",
        "schema": "http://localhost:8000/api/schema/",
    },
}


class ApiRootView(APIView):
    """Agent Spy's API: the LangSmith-compatible routes and the exploration API."""

    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []

    @extend_schema(
        tags=["info"],
        responses={
            200: inline_serializer("ApiRoot", {"info": serializers.DictField()})
        },
        examples=[OpenApiExample("The resources", value=ROOT_EXAMPLE)],
    )
    def get(self, request: Request) -> Response:
        links: dict[str, dict[str, str]] = {}
        for resource, routes in RESOURCES.items():
            links[resource] = {
                label: reverse(name, request=request) for label, name in routes.items()
            }
            if resource in DETAIL_ROUTES:
                base = reverse("api-root", request=request)
                links[resource]["detail"] = base + DETAIL_ROUTES[resource]
        links["docs"] = {
            "swagger": reverse("docs", request=request),
            "redoc": reverse("redoc", request=request),
            "schema": reverse("schema", request=request),
        }
        return Response(links)
