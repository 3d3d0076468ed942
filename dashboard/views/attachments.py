"""Attachment bytes, served so that stored content can never run in the page.

Only raster images are ever served inline (for previews); everything else,
SVG and HTML included, is a download with a neutral content type. Every
response is sandboxed by its own CSP and carries ``nosniff``.
"""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.csp import CSP
from django.views.decorators.csp import csp_override

from dashboard.views.common import dashboard_view, limit_to_project
from dashboard.views.trace import PREVIEW_TYPES
from runs.models import Attachment, Run

SANDBOX = {"default-src": [CSP.NONE], "sandbox": True}


@dashboard_view
@csp_override(SANDBOX)
def attachment(request: HttpRequest, pk: int) -> FileResponse:
    item = get_object_or_404(Attachment, pk=pk)
    runs = limit_to_project(request, Run.objects.filter(id=item.run_id))
    if runs.query.where and not runs.exists():
        raise Http404("No such attachment.")  # another project's, for this viewer
    inline = request.GET.get("inline") == "1" and item.content_type in PREVIEW_TYPES
    try:
        handle = item.file.open("rb")
    except (FileNotFoundError, ValueError) as exc:
        raise Http404("The attachment's file is gone.") from exc
    response = FileResponse(
        handle,
        as_attachment=not inline,
        filename=item.name,
        content_type=item.content_type if inline else "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
