"""OTLP/gRPC: the ``TraceService.Export`` call of opentelemetry-proto.

The handler takes the request as bytes (gRPC has already undone any gzip) and
hands them to the OTLP/HTTP protobuf decoder and ``export.store_spans``, so a
span is mapped, placed and written exactly as over HTTP: the same run ids,
parents, projects, limits and partial-success answers. What is particular to
gRPC is only how a request is authenticated (metadata instead of headers) and
how a refusal is answered (a status code instead of an HTTP status):

* ``UNAUTHENTICATED``: no key, or a wrong one, when ``REQUIRE_AUTH`` is on;
* ``PERMISSION_DENIED``: a read-only key, or a scoped key whose every span
  aims at another project (some spans elsewhere: ``partial_success``);
* ``RESOURCE_EXHAUSTED``: a message over ``MAX_TRACE_SIZE_MB`` once decoded;
* ``INVALID_ARGUMENT``: bytes that are not an ``ExportTraceServiceRequest``.

Each call is logged and counted like an HTTP request (route ``otlp-grpc``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from concurrent import futures
from typing import Any

import grpc
from django.conf import settings
from django.db import close_old_connections
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2_grpc import (
    TraceServiceServicer,
)

from agentspy.observability import record
from runs.api.auth import ApiKey, identify
from runs.ingest.batch import MAX_ITEMS
from runs.ingest.decoders import DecodeError, too_many_items
from runs.ingest.normalize import InvalidField
from runs.otel.decode import decode_protobuf
from runs.otel.export import agent_address, store_spans

logger = logging.getLogger("agentspy.otlp_grpc")

SERVICE = trace_service_pb2.DESCRIPTOR.services_by_name["TraceService"].full_name
METHOD = f"/{SERVICE}/Export"
ROUTE = "otlp-grpc"
# Failures of our own: logged as errors, as an HTTP 5xx is.
_FAILED = {grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN}


class Refused(Exception):
    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def key_from_metadata(metadata: dict[str, str]) -> str | None:
    """``x-api-key`` or ``authorization: Bearer KEY``, as on the HTTP routes."""
    key = metadata.get("x-api-key", "").strip()
    if key:
        return key
    scheme, _, token = metadata.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def authenticate(metadata: dict[str, str]) -> ApiKey | None:
    """The caller's identity; without ``REQUIRE_AUTH`` an unknown key is ignored."""
    key = key_from_metadata(metadata)
    identity = identify(key) if key else None
    if identity is None and settings.REQUIRE_AUTH:
        raise Refused(
            grpc.StatusCode.UNAUTHENTICATED,
            "Invalid API key."
            if key
            else "An API key is required (x-api-key or "
            "authorization: Bearer metadata).",
        )
    if identity is not None and identity.read_only:
        raise Refused(
            grpc.StatusCode.PERMISSION_DENIED,
            "This API key is read-only; it cannot ingest or change data.",
        )
    return identity


class TraceService(TraceServiceServicer):
    """``Export`` over the one OTLP store function (a connection per thread)."""

    def Export(self, request: bytes, context: grpc.ServicerContext) -> Any:  # noqa: N802
        started = time.perf_counter()
        code = grpc.StatusCode.OK
        identity: ApiKey | None = None
        result = None
        close_old_connections()
        try:
            metadata = _metadata(context.invocation_metadata())
            identity = authenticate(metadata)
            limit = settings.MAX_TRACE_SIZE_BYTES
            if len(request) > limit:
                raise Refused(
                    grpc.StatusCode.RESOURCE_EXHAUSTED,
                    f"Export message of {len(request)} bytes exceeds "
                    f"MAX_TRACE_SIZE_MB ({limit} bytes).",
                )
            try:
                decoded = decode_protobuf(request)
            except DecodeError as exc:
                raise Refused(grpc.StatusCode.INVALID_ARGUMENT, str(exc)) from None
            count = len(decoded.spans) + len(decoded.rejected)
            if count > MAX_ITEMS:
                raise Refused(
                    grpc.StatusCode.RESOURCE_EXHAUSTED, str(too_many_items(count))
                )
            try:
                address = agent_address(
                    metadata.get("langsmith-agent-id", ""),
                    metadata.get("langsmith-agent-environment", ""),
                )
            except InvalidField as exc:
                raise Refused(grpc.StatusCode.INVALID_ARGUMENT, exc.message) from None
            outcome = store_spans(
                decoded,
                header_project=metadata.get("langsmith-project", "").strip(),
                scope=identity.project if identity else None,
                address=address,
                # The key's whole access: runs stored in another project stay
                # out of reach, as on every other write path.
                project_guard=identity.access if identity else None,
            )
            result = outcome.result
            if outcome.forbidden:
                raise Refused(grpc.StatusCode.PERMISSION_DENIED, outcome.message)
            return outcome.response()
        except Refused as refusal:
            code = refusal.code
            context.abort(refusal.code, refusal.message)
        except Exception:
            code = grpc.StatusCode.INTERNAL
            logger.exception("OTLP/gRPC export failed")
            context.abort(code, "Internal error; the export was not stored.")
        finally:
            close_old_connections()
            record(
                route=ROUTE,
                method="Export",
                path=METHOD,
                status=code.name,
                elapsed=time.perf_counter() - started,
                result=result,
                key_name=identity.name if identity else None,
                failed=code in _FAILED,
            )


def _metadata(items: Iterable[Any]) -> dict[str, str]:
    """Metadata keys are lower case on the wire; the first value of a key wins."""
    out: dict[str, str] = {}
    for item in items or ():
        if isinstance(item.value, str):
            out.setdefault(item.key, item.value)
    return out


def build_server(
    host: str, port: int, *, threads: int, reuse_port: bool = False
) -> tuple[grpc.Server, int]:
    """A started-to-be server for ``TraceService`` and the port it bound."""
    servicer = TraceService()
    handler = grpc.method_handlers_generic_handler(
        SERVICE,
        {
            "Export": grpc.unary_unary_rpc_method_handler(
                servicer.Export,
                # Bytes in: the HTTP route's decoder parses them.
                request_deserializer=None,
                response_serializer=ExportTraceServiceResponse.SerializeToString,
            )
        },
    )
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=threads, thread_name_prefix="otlp-grpc"),
        handlers=[handler],
        options=[
            # gRPC refuses (RESOURCE_EXHAUSTED) and never inflates a message
            # past this, whatever its compression; up to it, the handler
            # applies MAX_TRACE_SIZE_MB and answers in its own words.
            ("grpc.max_receive_message_length", settings.MAX_DECODED_SIZE_BYTES),
            # Several processes share the port only when asked to.
            ("grpc.so_reuseport", 1 if reuse_port else 0),
        ],
        compression=grpc.Compression.NoCompression,
    )
    bound = server.add_insecure_port(f"{_host(host)}:{port}")
    return server, bound


def _host(host: str) -> str:
    # An IPv6 literal needs brackets in a gRPC address.
    return f"[{host}]" if ":" in host and not host.startswith("[") else host
