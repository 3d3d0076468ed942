"""``POST /v1/traces`` and ``POST {API_PREFIX}/otel/v1/traces`` (OTLP/HTTP).

Thin: decode the body, hand the spans to ``export.store_spans`` (shared with
OTLP/gRPC; it maps them to runs for the one ingest service), and answer in the
request's encoding as the OTLP specification asks (``ExportTraceServiceResponse`` with
``partial_success``; errors as ``google.rpc.Status``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from google.protobuf import json_format
from google.rpc import code_pb2, status_pb2
from rest_framework import exceptions
from rest_framework.parsers import BaseParser
from rest_framework.request import Request
from rest_framework.views import APIView

from runs.api.auth import project_scope
from runs.api.ingest_views import project_guard_for
from runs.api.parsers import read_body
from runs.ingest.batch import MAX_ITEMS
from runs.ingest.decoders import DecodeError, too_many_items
from runs.ingest.normalize import InvalidField
from runs.otel.decode import Decoded, decode_protobuf
from runs.otel.export import agent_address, store_spans
from runs.otel.otlp_json import decode_json

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
_GRPC_CODES = {
    400: code_pb2.INVALID_ARGUMENT,
    401: code_pb2.UNAUTHENTICATED,
    403: code_pb2.PERMISSION_DENIED,
    404: code_pb2.NOT_FOUND,
    413: code_pb2.RESOURCE_EXHAUSTED,
    415: code_pb2.UNIMPLEMENTED,
    429: code_pb2.RESOURCE_EXHAUSTED,
}
_MEDIA_TYPES = {PROTOBUF, "application/protobuf", JSON}


class _OTLPParser(BaseParser):
    encoding = PROTOBUF

    def decode(self, body: bytes) -> Decoded:
        raise NotImplementedError

    def parse(
        self, stream: Any, media_type: str | None = None, parser_context: Any = None
    ) -> tuple[str, Decoded]:
        body = read_body(stream, parser_context["request"].META)
        try:
            return self.encoding, self.decode(body)
        except DecodeError as exc:
            raise exceptions.ParseError(str(exc)) from None


class OTLPProtobufParser(_OTLPParser):
    media_type = PROTOBUF

    def decode(self, body: bytes) -> Decoded:
        return decode_protobuf(body)


class OTLPProtobufAliasParser(OTLPProtobufParser):
    media_type = "application/protobuf"


class OTLPJSONParser(_OTLPParser):
    media_type = JSON
    encoding = JSON

    def decode(self, body: bytes) -> Decoded:
        return decode_json(body, max_depth=settings.MAX_JSON_DEPTH)


def _encoding_of(request: Any) -> str:
    content_type = request.META.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
    return JSON if content_type == JSON else PROTOBUF


def _answer(message: Any, encoding: str, status: int) -> HttpResponse:
    if encoding == JSON:
        body = json_format.MessageToJson(message, indent=None).encode()
    else:
        body = message.SerializeToString()
    return HttpResponse(body, status=status, content_type=encoding)


def status_response(status: int, message: str, encoding: str) -> HttpResponse:
    """A ``google.rpc.Status`` error body in the request's encoding."""
    rpc = status_pb2.Status(
        code=_GRPC_CODES.get(status, code_pb2.INTERNAL), message=message
    )
    return _answer(rpc, encoding, status)


class OTLPTracesView(APIView):
    parser_classes = [OTLPProtobufParser, OTLPProtobufAliasParser, OTLPJSONParser]

    def handle_exception(self, exc: Exception) -> HttpResponse:
        if not isinstance(exc, exceptions.APIException):
            raise exc
        if isinstance(exc, exceptions.UnsupportedMediaType):
            # Neither encoding was understood; JSON is readable by anyone.
            encoding = JSON
            message = (
                f"{exc.detail} Send {PROTOBUF} or {JSON} (OTLP/HTTP), optionally "
                "with Content-Encoding: gzip."
            )
        else:
            encoding = _encoding_of(self.request)
            message = str(exc.detail)
        response = status_response(exc.status_code, message, encoding)
        if isinstance(
            exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed
        ):
            response["WWW-Authenticate"] = self.get_authenticate_header(self.request)
        return response

    @extend_schema(
        summary="Ingest OpenTelemetry traces (OTLP/HTTP, protobuf or JSON)",
        request={
            PROTOBUF: OpenApiTypes.BINARY,
            JSON: OpenApiTypes.OBJECT,
        },
        responses={
            (code, media): OpenApiTypes.BINARY
            if media == PROTOBUF
            else OpenApiTypes.OBJECT
            for code in (200, 400, 401, 403, 413, 415)
            for media in (PROTOBUF, JSON)
        },
        description="ExportTraceServiceRequest in; ExportTraceServiceResponse "
        "(partial_success when spans were rejected) or google.rpc.Status out, "
        "in the request's encoding.",
    )
    def post(self, request: Request) -> HttpResponse:
        data = request.data
        if not isinstance(data, tuple):
            # An empty body is not parsed at all; check its media type here.
            media_type = request.content_type.split(";")[0].strip().lower()
            if media_type and media_type not in _MEDIA_TYPES:
                raise exceptions.UnsupportedMediaType(media_type)
            data = (_encoding_of(request), Decoded())
        encoding, decoded = data
        count = len(decoded.spans) + len(decoded.rejected)
        if count > MAX_ITEMS:
            return status_response(413, str(too_many_items(count)), encoding)
        try:
            address = _agent_address(request)
        except InvalidField as exc:
            return status_response(400, exc.message, encoding)
        outcome = store_spans(
            decoded,
            header_project=request.META.get("HTTP_LANGSMITH_PROJECT", "").strip(),
            # A key scoped to one project sends unnamed runs there, as on the
            # LangSmith routes, before the service name is taken as a hint.
            scope=project_scope(request),
            address=address,
            project_guard=project_guard_for(request),
        )
        request._request.agentspy_ingest = outcome.result  # read by the request log
        if outcome.forbidden:
            return status_response(403, outcome.message, encoding)
        return _answer(outcome.response(), encoding, 200)


def _agent_address(request: Request) -> str | None:
    """The wire address named by the LangSmith OTLP agent headers, if any."""
    return agent_address(
        request.META.get("HTTP_LANGSMITH_AGENT_ID", ""),
        request.META.get("HTTP_LANGSMITH_AGENT_ENVIRONMENT", ""),
    )
