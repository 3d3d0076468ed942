"""ReDoc's bundle, served with its one outside image replaced by our icon.

The sidecar's ``redoc.standalone.js`` draws "API docs by Redocly" with a logo
from ``cdn.redoc.ly``, unconditionally; under the docs pages' CSP (nothing
from other origins) that is a blocked request and a console error on every
visit. The bundle is read once from the sidecar package and served from here
(``REDOC_DIST``) with that URL pointing at Agent Spy's own favicon.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import drf_spectacular_sidecar
from django.http import HttpRequest, HttpResponse
from django.templatetags.static import static
from django.views.decorators.cache import cache_control

BUNDLE = (
    Path(drf_spectacular_sidecar.__file__).parent
    / "static/drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js"
)
OUTSIDE_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


@cache
def _bundle(logo: str) -> bytes:
    return BUNDLE.read_bytes().replace(OUTSIDE_LOGO.encode(), logo.encode())


@cache_control(max_age=86400)
def redoc_bundle(request: HttpRequest) -> HttpResponse:
    body = _bundle(static("agentspy/favicon.svg"))
    return HttpResponse(body, content_type="text/javascript; charset=utf-8")
