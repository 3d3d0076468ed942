"""Liveness and readiness probes; reachable without an API key."""

from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse

import agentspy


def _database_ok() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        return False, str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return True, "ok"


def health(request: HttpRequest) -> JsonResponse:
    ok, detail = _database_ok()
    return JsonResponse(
        {
            "status": "healthy" if ok else "degraded",
            "version": agentspy.__version__,
            "database": {"vendor": connection.vendor, "status": detail},
        },
        status=200 if ok else 503,
    )


def ready(request: HttpRequest) -> JsonResponse:
    ok, detail = _database_ok()
    return JsonResponse(
        {"status": "ready" if ok else "unavailable", "database": detail},
        status=200 if ok else 503,
    )


def live(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "alive"})
