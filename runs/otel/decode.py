"""OTLP/HTTP trace bodies (protobuf or OTLP/JSON) to plain ``Span`` records.

A body that cannot be parsed at all raises ``DecodeError`` (answered with 400
and a ``google.rpc.Status``). A span that parses but is unusable (missing or
malformed trace/span id, no start time) is listed in ``Decoded.rejected`` and
the other spans of the request are kept, as the OTLP partial-success rules ask.

This module holds the records and the protobuf decoder; ``otlp_json`` the
OTLP/JSON one.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

from google.protobuf.message import DecodeError as ProtobufDecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)

from runs.ingest.decoders import DecodeError

SPAN_KINDS = ("UNSPECIFIED", "INTERNAL", "SERVER", "CLIENT", "PRODUCER", "CONSUMER")
STATUS_CODES = ("UNSET", "OK", "ERROR")
_ZERO_TRACE = bytes(16)
_ZERO_SPAN = bytes(8)
# Timestamps past the year 9999 cannot be stored as datetimes.
MAX_NS = 253_402_300_799 * 10**9


@dataclass(slots=True)
class Span:
    trace_id: bytes
    span_id: bytes
    parent_span_id: bytes
    name: str
    kind: int
    start_ns: int
    end_ns: int
    attributes: dict[str, Any]
    events: list[dict[str, Any]]
    links: list[dict[str, Any]]
    status_code: int
    status_message: str
    # Shared by the spans of one resource / scope: read, never mutate.
    resource: dict[str, Any]
    scope: dict[str, Any]
    trace_state: str = ""
    flags: int = 0
    dropped: dict[str, int] = field(default_factory=dict)


@dataclass
class Decoded:
    spans: list[Span] = field(default_factory=list)
    # (item, message) of each span that was not usable.
    rejected: list[tuple[str, str]] = field(default_factory=list)


class SpanError(ValueError):
    pass


def _pb_value(value: Any) -> Any:
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [_pb_value(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return _pb_attributes(value.kvlist_value.values)
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode()
    return getattr(value, kind)


def _pb_attributes(items: Any) -> dict[str, Any]:
    return {kv.key: _pb_value(kv.value) for kv in items}


def decode_protobuf(body: bytes) -> Decoded:
    """An ``ExportTraceServiceRequest`` in the protobuf binary encoding."""
    request = ExportTraceServiceRequest()
    try:
        request.ParseFromString(body)
    except (ProtobufDecodeError, RecursionError) as exc:
        raise DecodeError(f"invalid ExportTraceServiceRequest: {exc}") from None
    out = Decoded()
    index = 0
    for resource_spans in request.resource_spans:
        resource = _pb_attributes(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            pb_scope = scope_spans.scope
            scope = {
                "name": pb_scope.name,
                "version": pb_scope.version,
                "attributes": _pb_attributes(pb_scope.attributes),
            }
            for pb in scope_spans.spans:
                item = f"span[{index}]"
                index += 1
                try:
                    out.spans.append(checked(_pb_span(pb, resource, scope)))
                except SpanError as exc:
                    out.rejected.append((item, str(exc)))
    return out


def _pb_span(pb: Any, resource: dict, scope: dict) -> Span:
    trace_id, span_id, parent = pb.trace_id, pb.span_id, pb.parent_span_id
    check_ids(trace_id, span_id, parent, lambda b: b.hex())
    if not pb.start_time_unix_nano:
        raise SpanError("start_time_unix_nano is required")
    dropped = {
        name: count
        for name, count in (
            ("attributes", pb.dropped_attributes_count),
            ("events", pb.dropped_events_count),
            ("links", pb.dropped_links_count),
        )
        if count
    }
    return Span(
        trace_id=trace_id,
        span_id=span_id,
        parent_span_id=parent,
        name=pb.name,
        kind=pb.kind,
        start_ns=pb.start_time_unix_nano,
        end_ns=pb.end_time_unix_nano,
        attributes=_pb_attributes(pb.attributes),
        events=[
            {
                "name": e.name,
                "time_ns": e.time_unix_nano,
                "attributes": _pb_attributes(e.attributes),
            }
            for e in pb.events
        ],
        links=[
            {
                "trace_id": link.trace_id.hex(),
                "span_id": link.span_id.hex(),
                "attributes": _pb_attributes(link.attributes),
            }
            for link in pb.links
        ],
        status_code=pb.status.code,
        status_message=pb.status.message,
        resource=resource,
        scope=scope,
        trace_state=pb.trace_state,
        flags=pb.flags,
        dropped=dropped,
    )


def checked(span: Span) -> Span:
    times = [("start time", span.start_ns), ("end time", span.end_ns)]
    times += [(f"event {e['name']!r} time", e["time_ns"]) for e in span.events]
    for name, ns in times:
        if not 0 <= ns <= MAX_NS:
            raise SpanError(f"{name} {ns} is out of range")
    return span


def check_ids(trace_id: bytes, span_id: bytes, parent: bytes, show: Any) -> None:
    if len(trace_id) != 16 or trace_id == _ZERO_TRACE:
        raise SpanError(f"trace id {show(trace_id)!r} is not 16 non-zero bytes")
    if len(span_id) != 8 or span_id == _ZERO_SPAN:
        raise SpanError(f"span id {show(span_id)!r} is not 8 non-zero bytes")
    if parent and len(parent) != 8:
        raise SpanError(f"parent span id {show(parent)!r} is not 8 bytes")
