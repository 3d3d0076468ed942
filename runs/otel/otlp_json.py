"""OTLP/JSON trace bodies to ``Span`` records (see ``runs.otel.decode``).

OTLP/JSON differs from the protobuf JSON mapping: trace and span ids are hex,
not base64. Enums may be integers (the spec) or names, 64-bit integers strings
or numbers, and keys lowerCamelCase or the proto field names; all are accepted.
"""

from __future__ import annotations

from typing import Any

from runs.ingest.decoders import DecodeError, loads
from runs.otel.decode import (
    SPAN_KINDS,
    STATUS_CODES,
    Decoded,
    Span,
    SpanError,
    check_ids,
    checked,
)


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
                    out.spans.append(checked(_json_span(raw, resource, scope)))
                except SpanError as exc:
                    out.rejected.append((item, str(exc)))
    return out


def _json_span(raw: Any, resource: dict, scope: dict) -> Span:
    raw = _dict(raw, "span")
    trace_id = _hex_id(_get(raw, "traceId", "trace_id"), 16, "traceId")
    span_id = _hex_id(_get(raw, "spanId", "span_id"), 8, "spanId")
    parent = _hex_id(_get(raw, "parentSpanId", "parent_span_id"), 8, "parentSpanId")
    check_ids(trace_id, span_id, parent, lambda b: b.hex())
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
