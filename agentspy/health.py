"""Liveness and readiness probes; reachable without an API key."""

from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse

import agentspy

# A probe must answer within a load balancer's timeout, not after the pool's
# 30 s wait for a connection that will never come.
PROBE_TIMEOUT_SECONDS = 3.0


def _database_ok() -> tuple[bool, str]:
    try:
        pool = getattr(connection, "pool", None)
        if pool is not None:
            pool.open()  # idempotent; Django opens it lazily on first use
            with pool.connection(timeout=PROBE_TIMEOUT_SECONDS) as conn:
                conn.execute("SELECT 1").fetchone()
        else:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()
    except DatabaseError as exc:
        return False, _first_line(exc)
    except Exception as exc:  # psycopg errors outside Django's wrapper
        if type(exc).__module__.startswith(("psycopg", "sqlite3")):
            return False, _first_line(exc)
        raise
    return True, "ok"


def _first_line(exc: BaseException) -> str:
    text = str(exc)
    return text.splitlines()[0] if text else type(exc).__name__


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
