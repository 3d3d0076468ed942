"""Links the server hands out: absolute URLs, SDK app paths, attachment URLs.

URLs the server returns itself (``runs.get_url``, share links, attachments'
``presigned_url``) are absolute, with the scheme, host and port of the
request; behind a proxy Django's ``USE_X_FORWARDED_HOST`` /
``USE_X_FORWARDED_PORT`` / ``SECURE_PROXY_SSL_HEADER`` (set by
``TRUST_X_FORWARDED``) make them the proxy's.
"""

from __future__ import annotations

import functools
import ipaddress
import socket
import uuid
from typing import Any

from django.conf import settings
from django.core import signing
from django.http.request import split_domain_port
from django.urls import reverse

from runs.models import Attachment, SharedTrace

ATTACHMENT_SALT = "agentspy.attachment"
_LOOPBACK_NAMES = {"localhost", "127.0.0.1", "0.0.0.0", "::1"}


def absolute(request: Any, path: str) -> str:
    """``path`` on this server as the client reached it."""
    return request.build_absolute_uri(path)


def trace_path(trace_id: uuid.UUID | str, run_id: uuid.UUID | str | None) -> str:
    path = reverse("dashboard:trace", args=[trace_id])
    return f"{path}?run={run_id}" if run_id else path


def share_url(request: Any, token: uuid.UUID | str) -> str:
    """The read-only page of a shared trace (the SDK's ``/public/<token>/r``)."""
    return absolute(request, reverse("shared-trace", args=[token]))


@functools.lru_cache(maxsize=256)
def _is_loopback(host: str) -> bool:
    name = host.lower().strip("[]")
    if name in _LOOPBACK_NAMES:
        return True
    try:
        address = ipaddress.ip_address(socket.gethostbyname(name))
    except (OSError, UnicodeError, ValueError):
        return False
    return address.is_loopback or address.is_unspecified


def sdk_app_path(request: Any, path: str) -> str:
    """A run's ``app_path`` such that the SDK's ``Run.url`` opens it here.

    The SDK prefixes ``app_path`` with its web URL, which for an API on a
    loopback host is ``http://localhost`` without the port (langsmith
    ``utils.get_host_url``). For a request to a loopback host with a port the
    path therefore starts with ``:<port>``, which makes the SDK's URL
    ``http://localhost:<port>/traces/...``: this server.
    """
    if request is None:
        return path
    name, port = split_domain_port(request.get_host())
    if port and _is_loopback(name):
        return f":{port}{path}"
    return path


# --- attachments --------------------------------------------------------------


def sign_attachment(attachment: Attachment) -> str:
    return signing.dumps(
        [attachment.pk, str(attachment.run_id)], salt=ATTACHMENT_SALT, compress=False
    )


def unsign_attachment(token: str) -> tuple[int, str] | None:
    """The (attachment pk, run id) a token names, or None if forged or expired."""
    try:
        pk, run_id = signing.loads(
            token, salt=ATTACHMENT_SALT, max_age=settings.ATTACHMENT_URL_MAX_AGE
        )
    except (signing.BadSignature, TypeError, ValueError):
        return None
    return pk, run_id


def s3_urls(request: Any, run_ids: list[uuid.UUID]) -> dict[uuid.UUID, dict]:
    """LangSmith's ``s3_urls`` of each run: signed, expiring download links."""
    found: dict[uuid.UUID, dict] = {}
    for item in Attachment.objects.filter(run_id__in=run_ids).order_by("name"):
        url = absolute(
            request, reverse("attachment-download", args=[sign_attachment(item)])
        )
        found.setdefault(item.run_id, {})[f"attachment.{item.name}"] = {
            "presigned_url": url,
            "mime_type": item.content_type,
        }
    return found


def shared_tokens(trace_ids: list[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
    return dict(
        SharedTrace.objects.filter(trace_id__in=trace_ids).values_list(
            "trace_id", "token"
        )
    )
