"""Webhook destinations: which URLs are allowed, what is sent, how it is signed.

A delivery is a JSON POST. A Slack incoming-webhook URL gets Slack's message
shape (``text`` with mrkdwn); every other URL gets the generic payload as is.
With a rule secret, ``X-AgentSpy-Signature-256: sha256=<hex>`` is the
HMAC-SHA256 of the exact body bytes under that secret (GitHub's scheme).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import orjson
from django.conf import settings

SIGNATURE_HEADER = "X-AgentSpy-Signature-256"
SLACK_HOSTS = {"hooks.slack.com", "hooks.slack-gov.com"}
USER_AGENT = "AgentSpy-Alerts/1"
# Enough of an error page to tell what went wrong, not a whole page.
MAX_ERROR_CHARS = 500


class UnsafeURL(ValueError):
    """A webhook URL that may not be used."""


def check_url(url: str, *, resolve: bool = True) -> None:
    """http/https with a host; with ALERT_WEBHOOK_ALLOW_PRIVATE off, public only.

    Internal and loopback hosts are allowed by default: self-hosted teams alert
    internal services. Restricted, every address the host resolves to must be
    public (checked when the rule is saved and again before each attempt).
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError as exc:
        raise UnsafeURL(f"Not a valid URL: {exc}.") from None
    if parts.scheme not in ("http", "https"):
        raise UnsafeURL("Only http and https webhook URLs are allowed.")
    if not host:
        raise UnsafeURL("The URL has no host.")
    if settings.ALERT_WEBHOOK_ALLOW_PRIVATE or not resolve:
        return
    for address in _addresses(host):
        if not address.is_global or address.is_multicast:
            raise UnsafeURL(
                f"{host} resolves to {address}, an internal address; "
                "ALERT_WEBHOOK_ALLOW_PRIVATE=false allows only public hosts."
            )


def _addresses(host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError as exc:
        raise UnsafeURL(f"Cannot resolve {host}: {exc}.") from None
    return [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]


def is_slack(url: str) -> bool:
    parts = urlsplit(url)
    return parts.hostname in SLACK_HOSTS and parts.path.startswith("/services/")


def _slack_escape(text: str) -> str:
    """Slack's three control characters; names come from users and ingested data."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_body(payload: dict[str, Any]) -> dict[str, Any]:
    """An incoming-webhook message: one mrkdwn text with a link to the traces."""
    resolved = payload["resolved"]
    icon = ":white_check_mark:" if resolved else ":rotating_light:"
    state = "resolved" if resolved else "fired"
    project = payload["project"] or "all projects"
    sign = ">" if payload["comparison"] == "gt" else "<"
    value = "no data" if payload["value"] is None else payload["value"]
    text = (
        f"{icon} Agent Spy alert *{_slack_escape(payload['rule'])}* {state}: "
        f"{payload['metric']} is {value} "
        f"(threshold {sign} {payload['threshold']}) over the last "
        f"{payload['window_minutes']} min in {_slack_escape(project)}. "
        f"<{_slack_escape(payload['url'])}|View traces>"
    )
    return {"text": text}


def request_body(url: str, payload: dict[str, Any]) -> bytes:
    body = slack_body(payload) if is_slack(url) else payload
    return orjson.dumps(body)


def signature(secret: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


@dataclass
class Attempt:
    http_status: int | None
    error: str

    @property
    def ok(self) -> bool:
        return self.http_status is not None and 200 <= self.http_status < 300

    @property
    def retryable(self) -> bool:
        """Network errors, timeouts, 5xx, 408 and 429 may heal; other 4xx will not."""
        if self.http_status is None:
            return True
        return self.http_status >= 500 or self.http_status in (408, 429)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect could lead a restricted webhook to an internal host.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: float) -> Attempt:
    """One POST; any answer or failure becomes an ``Attempt``, never an exception."""
    try:
        check_url(url)
    except UnsafeURL as exc:
        return Attempt(None, f"refused: {exc}")
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            **headers,
        },
    )
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return Attempt(response.status, "")
    except urllib.error.HTTPError as exc:
        detail = exc.read(MAX_ERROR_CHARS).decode("utf-8", "replace")
        return Attempt(exc.code, f"HTTP {exc.code}: {detail}".strip())
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return Attempt(None, f"{type(exc).__name__}: {reason}"[:MAX_ERROR_CHARS])
