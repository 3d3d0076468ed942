"""OTLP/HTTP trace bodies (protobuf or OTLP/JSON) to plain ``Span`` records.

A body that cannot be parsed at all raises ``DecodeError`` (answered with 400
and a ``google.rpc.Status``). A span that parses but is unusable (missing or
malformed trace/span id, no start time) is listed in ``Decoded.rejected`` and
the other spans of the request are kept, as the OTLP partial-success rules ask.

OTLP/JSON differs from the protobuf JSON mapping: trace and span ids are hex,
not base64. Enums may be integers (the spec) or names, 64-bit integers strings
or numbers, and keys lowerCamelCase or the proto field names; all are accepted.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

from google.protobuf.message import DecodeError as ProtobufDecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)

from runs.ingest.decoders import DecodeError, loads

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


# --- protobuf -----------------------------------------------------------------


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
                    out.spans.append(_checked(_pb_span(pb, resource, scope)))
                except SpanError as exc:
                    out.rejected.append((item, str(exc)))
    return out


def _pb_span(pb: Any, resource: dict, scope: dict) -> Span:
    trace_id, span_id, parent = pb.trace_id, pb.span_id, pb.parent_span_id
    _check_ids(trace_id, span_id, parent, lambda b: b.hex())
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


def _checked(span: Span) -> Span:
    times = [("start time", span.start_ns), ("end time", span.end_ns)]
    times += [(f"event {e['name']!r} time", e["time_ns"]) for e in span.events]
    for name, ns in times:
        if not 0 <= ns <= MAX_NS:
            raise SpanError(f"{name} {ns} is out of range")
    return span


def _check_ids(trace_id: bytes, span_id: bytes, parent: bytes, show: Any) -> None:
    if len(trace_id) != 16 or trace_id == _ZERO_TRACE:
        raise SpanError(f"trace id {show(trace_id)!r} is not 16 non-zero bytes")
    if len(span_id) != 8 or span_id == _ZERO_SPAN:
        raise SpanError(f"span id {show(span_id)!r} is not 8 non-zero bytes")
    if parent and len(parent) != 8:
        raise SpanError(f"parent span id {show(parent)!r} is not 8 bytes")


# --- OTLP/JSON ----------------------------------------------------------------


def _get(obj: dict, camel: str, snake: str, default: Any = None) -> Any:
    value = obj.get(camel)
    if value is None:
        value = obj.get(snake, default)
    return default if value is None else value


def _list(obj: dict, camel: str, snake: str) -> list:
    value = _get(obj, camel, snake, [])
    if not isinstance(value, list):
        raise SpanError(f"{camel} must be a list")
    return value


def _dict(obj: Any, name: str) -> dict:
    if obj is None:
        return {}
    if not isinstance(obj, dict):
        raise SpanError(f"{name} must be an object")
    return obj


def _json_int(value: Any, name: str) -> int:
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        raise SpanError(f"{name} must be an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            pass
    raise SpanError(f"{name} {str(value)[:40]!r} is not an integer")


def _json_enum(value: Any, names: tuple[str, ...], prefix: str, name: str) -> int:
    if isinstance(value, str) and not value.lstrip("-").isdigit():
        short = value.removeprefix(prefix)
        if short in names:
            return names.index(short)
        raise SpanError(f"{name} {value[:40]!r} is not a known value")
    return _json_int(value, name)


def _json_value(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    for camel, snake in (
        ("stringValue", "string_value"),
        ("boolValue", "bool_value"),
        ("doubleValue", "double_value"),
    ):
        if camel in value or snake in value:
            return _get(value, camel, snake)
    if "intValue" in value or "int_value" in value:
        return _json_int(_get(value, "intValue", "int_value"), "intValue")
    if "arrayValue" in value or "array_value" in value:
        array = _dict(_get(value, "arrayValue", "array_value"), "arrayValue")
        return [_json_value(v) for v in _list(array, "values", "values")]
    if "kvlistValue" in value or "kvlist_value" in value:
        kvlist = _dict(_get(value, "kvlistValue", "kvlist_value"), "kvlistValue")
        return _json_attributes(_list(kvlist, "values", "values"))
    if "bytesValue" in value or "bytes_value" in value:
        return _get(value, "bytesValue", "bytes_value")
    return None


def _json_attributes(items: Any) -> dict[str, Any]:
    if items is None:
        return {}
    if not isinstance(items, list):
        raise SpanError("attributes must be a list of {key, value}")
    out = {}
    for kv in items:
        if not isinstance(kv, dict) or not isinstance(kv.get("key"), str):
            raise SpanError("attribute without a string key")
        out[kv["key"]] = _json_value(kv.get("value"))
    return out


def _hex_id(value: Any, size: int, name: str) -> bytes:
    if value is None or value == "":
        return b""
    if not isinstance(value, str) or len(value) != size * 2:
        raise SpanError(f"{name} {str(value)[:40]!r} is not {size * 2} hex digits")
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise SpanError(f"{name} {value!r} is not hex") from None


def decode_json(body: bytes, *, max_depth: int = 200) -> Decoded:
    """An ``ExportTraceServiceRequest`` in the OTLP/JSON encoding."""
    payload = loads(body, max_depth=max_depth)
    if not isinstance(payload, dict):
        raise DecodeError("expected an ExportTraceServiceRequest JSON object")
    resource_spans = _get(payload, "resourceSpans", "resource_spans", [])
    if not isinstance(resource_spans, list):
        raise DecodeError("resourceSpans must be a list")
    out = Decoded()
    index = 0
    for r_index, rs in enumerate(resource_spans):
        try:
            rs = _dict(rs, "resourceSpans[]")
            resource_obj = _dict(rs.get("resource"), "resource")
            resource = _json_attributes(resource_obj.get("attributes"))
            scope_spans_list = _list(rs, "scopeSpans", "scope_spans")
        except SpanError as exc:
            out.rejected.append((f"resourceSpans[{r_index}]", str(exc)))
            continue
        for ss in scope_spans_list:
            try:
                ss = _dict(ss, "scopeSpans[]")
                scope_obj = _dict(ss.get("scope"), "scope")
                scope = {
                    "name": scope_obj.get("name") or "",
                    "version": scope_obj.get("version") or "",
                    "attributes": _json_attributes(scope_obj.get("attributes")),
                }
                spans = _list(ss, "spans", "spans")
            except SpanError as exc:
                out.rejected.append((f"resourceSpans[{r_index}].scopeSpans", str(exc)))
                continue
            for raw in spans:
                item = f"span[{index}]"
                index += 1
                try:
                    out.spans.append(_checked(_json_span(raw, resource, scope)))
                except SpanError as exc:
                    out.rejected.append((item, str(exc)))
    return out


def _json_span(raw: Any, resource: dict, scope: dict) -> Span:
    raw = _dict(raw, "span")
    trace_id = _hex_id(_get(raw, "traceId", "trace_id"), 16, "traceId")
    span_id = _hex_id(_get(raw, "spanId", "span_id"), 8, "spanId")
    parent = _hex_id(_get(raw, "parentSpanId", "parent_span_id"), 8, "parentSpanId")
    _check_ids(trace_id, span_id, parent, lambda b: b.hex())
    start = _json_int(
        _get(raw, "startTimeUnixNano", "start_time_unix_nano"), "startTimeUnixNano"
    )
    if not start:
        raise SpanError("startTimeUnixNano is required")
    status = _dict(raw.get("status"), "status")
    name = raw.get("name") or ""
    if not isinstance(name, str):
        raise SpanError("name must be a string")
    dropped = {}
    for key, camel, snake in (
        ("attributes", "droppedAttributesCount", "dropped_attributes_count"),
        ("events", "droppedEventsCount", "dropped_events_count"),
        ("links", "droppedLinksCount", "dropped_links_count"),
    ):
        count = _json_int(_get(raw, camel, snake), camel)
        if count:
            dropped[key] = count
    events = []
    for event in _list(raw, "events", "events"):
        event = _dict(event, "event")
        events.append(
            {
                "name": str(event.get("name") or ""),
                "time_ns": _json_int(
                    _get(event, "timeUnixNano", "time_unix_nano"), "timeUnixNano"
                ),
                "attributes": _json_attributes(event.get("attributes")),
            }
        )
    links = []
    for link in _list(raw, "links", "links"):
        link = _dict(link, "link")
        links.append(
            {
                "trace_id": _hex_id(
                    _get(link, "traceId", "trace_id"), 16, "links.traceId"
                ).hex(),
                "span_id": _hex_id(
                    _get(link, "spanId", "span_id"), 8, "links.spanId"
                ).hex(),
                "attributes": _json_attributes(link.get("attributes")),
            }
        )
    message = status.get("message") or ""
    return Span(
        trace_id=trace_id,
        span_id=span_id,
        parent_span_id=parent,
        name=name,
        kind=_json_enum(raw.get("kind"), SPAN_KINDS, "SPAN_KIND_", "kind"),
        start_ns=start,
        end_ns=_json_int(
            _get(raw, "endTimeUnixNano", "end_time_unix_nano"), "endTimeUnixNano"
        ),
        attributes=_json_attributes(raw.get("attributes")),
        events=events,
        links=links,
        status_code=_json_enum(
            status.get("code"), STATUS_CODES, "STATUS_CODE_", "status.code"
        ),
        status_message=message if isinstance(message, str) else str(message),
        resource=resource,
        scope=scope,
        trace_state=str(_get(raw, "traceState", "trace_state", "")),
        flags=_json_int(raw.get("flags"), "flags"),
        dropped=dropped,
    )
