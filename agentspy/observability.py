"""One structured log line and the Prometheus samples for every request.

The line carries method, path (never the query string: it may hold a key),
status, duration, route, and for ingest requests the runs accepted and
rejected and the projects written; the caller's key is named by its label,
never by its value. ``LOG_FORMAT=json`` turns the same fields into a JSON
object (see agentspy/logs.py).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse

from agentspy import metrics

logger = logging.getLogger("agentspy.requests")

# Probes and scrapes come every few seconds: log them only at DEBUG.
QUIET_ROUTES = {"health", "health-ready", "health-live", "api-health", "metrics"}
UNMATCHED = "unmatched"


def route_of(request: HttpRequest) -> str:
    """The URL pattern's name (or pattern), so labels stay few whatever the path."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return UNMATCHED
    return match.view_name if match.url_name else (match.route or UNMATCHED)


class RequestLogMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed = time.perf_counter() - started
        try:
            self._record(request, response, elapsed)
        except Exception:  # never fail a request for its log line
            logger.exception("could not record request metrics")
        return response

    def _record(
        self, request: HttpRequest, response: HttpResponse, elapsed: float
    ) -> None:
        status = response.status_code
        record(
            route=route_of(request),
            method=request.method or "-",
            path=request.path,
            status=status,
            elapsed=elapsed,
            result=getattr(request, "agentspy_ingest", None),
            key_name=getattr(getattr(request, "auth", None), "name", None),
            failed=status >= 500,
        )


def record(
    *,
    route: str,
    method: str,
    path: str,
    status: int | str,
    elapsed: float,
    result: Any = None,
    key_name: str | None = None,
    failed: bool = False,
) -> None:
    """Count and log one answered request (HTTP, or an OTLP/gRPC call).

    ``result`` is the request's ``IngestResult`` when it ingested anything.
    """
    metrics.REQUESTS.labels(route=route, method=method, status=str(status)).inc()
    metrics.LATENCY.labels(route=route, method=method).observe(elapsed)

    fields: dict[str, Any] = {
        "method": method,
        "path": path,
        "route": route,
        "status": status,
        "duration_ms": round(elapsed * 1000, 2),
    }
    text = f"{method} {path} {status} {fields['duration_ms']}ms"
    if result is not None:
        metrics.observe_ingest(result)
        projects = sorted(result.projects)
        fields.update(
            runs_accepted=len(result.accepted),
            runs_rejected=len(result.rejected),
            projects=projects,
        )
        text += (
            f" accepted={len(result.accepted)} rejected={len(result.rejected)}"
            f" projects={','.join(projects) or '-'}"
        )
    if key_name:
        fields["key_name"] = key_name
        text += f" key={key_name}"
    if failed:
        level = logging.ERROR
    elif route in QUIET_ROUTES:
        level = logging.DEBUG
    else:
        level = logging.INFO
    logger.log(level, text, extra=fields)
