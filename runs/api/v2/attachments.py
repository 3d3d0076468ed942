"""An attachment's ``presigned_url``: its bytes for whoever holds the signed link.

The link names one attachment (and its run), is signed with the server's
secret and expires after ``ATTACHMENT_URL_MAX_AGE`` seconds. The bytes are a
download with a neutral type, sandboxed, so stored content never runs here.
"""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpRequest
from django.utils.csp import CSP
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_GET

from runs.api.links import unsign_attachment
from runs.models import Attachment

SANDBOX = {"default-src": [CSP.NONE], "sandbox": True}


@require_GET
@csp_override(SANDBOX)
def download(request: HttpRequest, token: str) -> FileResponse:
    signed = unsign_attachment(token)
    if signed is None:
        raise Http404("This attachment link is invalid or has expired.")
    pk, run_id = signed
    item = Attachment.objects.filter(pk=pk, run_id=run_id).first()
    if item is None:
        raise Http404("The attachment is gone.")
    try:
        handle = item.file.open("rb")
    except (FileNotFoundError, ValueError) as exc:
        raise Http404("The attachment's file is gone.") from exc
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=item.name,
        content_type="application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
