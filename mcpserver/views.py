"""``/mcp``: the Streamable HTTP transport, stateless, answering in JSON.

Every response is one JSON body (the specification's SSE stream is optional
for a server that sends no requests or progress of its own), so the endpoint
is a short request on the production server's sync workers. The API's
authentication applies: with ``REQUIRE_AUTH`` a call without a valid key is a
401 before any MCP handling, and a scoped key sees only its project.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

import orjson
from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework.parsers import BaseParser
from rest_framework.request import Request
from rest_framework.views import APIView

from mcpserver import protocol
from mcpserver.protocol import RpcError
from mcpserver.tools import Caller
from runs.api.auth import project_scope

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
MAX_BATCH = 100
# Methods whose requests must carry a negotiated revision in the header.
HEADER_EXEMPT = {"initialize"}


def _json(payload: Any, status: int = 200) -> HttpResponse:
    return HttpResponse(
        orjson.dumps(payload), status=status, content_type="application/json"
    )


def _origin_allowed(request: Request) -> bool:
    """DNS-rebinding guard: a browser origin must be this server or allowed."""
    origin = request.headers.get("Origin")
    if not origin or settings.CORS_ALLOW_ALL_ORIGINS:
        return True
    if origin in settings.CORS_ALLOWED_ORIGINS:
        return True
    return urlsplit(origin).netloc == request.get_host()


class RawBodyParser(BaseParser):
    """The body as bytes, at most one byte over the cap (the view refuses more)."""

    media_type = "*/*"

    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None):
        return stream.read(MAX_BODY_BYTES + 1) if stream is not None else b""


@extend_schema(exclude=True)
class MCPView(APIView):
    # POST carries reads here; read-only keys may call it.
    read_only_safe = True
    parser_classes = [RawBodyParser]

    def post(self, request: Request) -> HttpResponse:
        if not _origin_allowed(request):
            error = RpcError(protocol.INVALID_REQUEST, "Origin not allowed.")
            return _json(protocol.error_response(None, error), status=403)
        body = request.data if isinstance(request.data, bytes) else b""
        if len(body) > MAX_BODY_BYTES:
            error = RpcError(protocol.INVALID_REQUEST, "Request body too large.")
            return _json(protocol.error_response(None, error), status=413)
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            error = RpcError(protocol.PARSE_ERROR, f"Parse error: {exc}")
            return _json(protocol.error_response(None, error), status=400)
        caller = Caller(project=project_scope(request))
        header = request.headers.get("MCP-Protocol-Version")
        if isinstance(payload, list):
            # JSON-RPC batches (revision 2025-03-26 only): answered in one array.
            if not payload or len(payload) > MAX_BATCH:
                error = RpcError(protocol.INVALID_REQUEST, "Bad batch size.")
                return _json(protocol.error_response(None, error), status=400)
            answers = [self._answer(m, caller, header) for m in payload]
            answers = [a for a in answers if a is not None]
            return _json(answers) if answers else HttpResponse(status=202)
        answer = self._answer(payload, caller, header)
        if answer is None:
            return HttpResponse(status=202)
        status = 400 if answer.get("error", {}).get("code") == -32000 else 200
        return _json(answer, status=status)

    def _answer(
        self, message: Any, caller: Caller, header: str | None
    ) -> dict[str, Any] | None:
        """The response to one message; None for notifications and responses."""
        request_id = message.get("id") if isinstance(message, dict) else None
        try:
            protocol.validate(message)
        except RpcError as error:
            return protocol.error_response(request_id, error)
        if not protocol.is_request(message):
            return None
        method = message["method"]
        if (
            header is not None
            and header not in protocol.PROTOCOL_VERSIONS
            and method not in HEADER_EXEMPT
            and protocol.is_known(method)
        ):
            error = RpcError(-32000, f"Unsupported MCP-Protocol-Version: {header}")
            return protocol.error_response(request_id, error)
        try:
            return protocol.handle(message, caller)
        except Exception:  # a bug must still answer in JSON-RPC, never a 5xx
            logger.exception("MCP %s failed", method)
            error = RpcError(-32603, "Internal error.")
            return protocol.error_response(request_id, error)
