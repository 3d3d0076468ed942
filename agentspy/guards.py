"""Request guards shared by the API and the pages: NUL in queries, JSON 404s."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.views.defaults import page_not_found


def _is_api(request: HttpRequest) -> bool:
    prefix = settings.API_PREFIX.rstrip("/") + "/"
    return request.path.startswith(prefix) or request.path == "/v1/traces"


class RefuseNulMiddleware:
    """A NUL character in the query string is a 400 before any view runs.

    PostgreSQL cannot compare text with NUL in it, and no filter, project
    name or search means anything with one.
    """

    MESSAGE = "NUL characters are not allowed in the query string."

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "%00" in request.META.get("QUERY_STRING", ""):
            if _is_api(request):
                return JsonResponse({"detail": self.MESSAGE}, status=400)
            return HttpResponseBadRequest(self.MESSAGE, content_type="text/plain")
        return self.get_response(request)


def not_found(request: HttpRequest, exception: Any) -> HttpResponse:
    """404: JSON under the API prefix (like every other API error), else the page."""
    if _is_api(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return page_not_found(request, exception)
