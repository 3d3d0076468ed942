import orjson
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)
from opentelemetry.proto.common.v1.common_pb2 import (
    AnyValue,
    ArrayValue,
    KeyValue,
    KeyValueList,
)
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

from runs.ingest.decoders import DecodeError
from runs.otel import messages
from runs.otel.decode import decode_protobuf
from runs.otel.otlp_json import decode_json

TRACE = "5b8efff798038103d269b633813fc60c"
SPAN = "eee19b7ec3c1b174"


def test_protobuf_values_links_events_and_dropped_counts():
    nested = AnyValue(
        kvlist_value=KeyValueList(
            values=[
                KeyValue(
                    key="list",
                    value=AnyValue(
                        array_value=ArrayValue(
                            values=[AnyValue(int_value=1), AnyValue(double_value=2.5)]
                        )
                    ),
                ),
                KeyValue(key="blob", value=AnyValue(bytes_value=b"\x00\x01")),
                KeyValue(key="unset", value=AnyValue()),
            ]
        )
    )
    span = Span(
        trace_id=bytes.fromhex(TRACE),
        span_id=bytes.fromhex(SPAN),
        name="n",
        start_time_unix_nano=5,
        attributes=[KeyValue(key="nested", value=nested)],
        events=[Span.Event(name="e", time_unix_nano=6)],
        links=[
            Span.Link(
                trace_id=bytes.fromhex(TRACE),
                span_id=bytes.fromhex(SPAN),
                attributes=[KeyValue(key="k", value=AnyValue(bool_value=True))],
            )
        ],
        dropped_attributes_count=1,
        dropped_links_count=3,
        flags=257,
        trace_state="a=b",
    )
    body = ExportTraceServiceRequest(
        resource_spans=[ResourceSpans(scope_spans=[ScopeSpans(spans=[span])])]
    ).SerializeToString()
    decoded = decode_protobuf(body)
    assert decoded.rejected == []
    (out,) = decoded.spans
    assert out.attributes == {
        "nested": {"list": [1, 2.5], "blob": "AAE=", "unset": None}
    }
    assert out.events == [{"name": "e", "time_ns": 6, "attributes": {}}]
    assert out.links == [
        {"trace_id": TRACE, "span_id": SPAN, "attributes": {"k": True}}
    ]
    assert out.dropped == {"attributes": 1, "links": 3}
    assert (out.flags, out.trace_state, out.scope) == (
        257,
        "a=b",
        {"name": "", "version": "", "attributes": {}},
    )


def test_garbage_is_not_a_protobuf_request():
    with pytest.raises(DecodeError) as caught:
        decode_protobuf(b"\xff\xff\xff\xff")
    assert str(caught.value).startswith("invalid ExportTraceServiceRequest: ")


def json_request(spans, resource=None, scope=None) -> bytes:
    scope_spans = {"spans": spans}
    if scope is not None:
        scope_spans["scope"] = scope
    return orjson.dumps(
        {"resourceSpans": [{"resource": resource or {}, "scopeSpans": [scope_spans]}]}
    )


def span(**fields):
    out = {"traceId": TRACE, "spanId": SPAN, "startTimeUnixNano": "1"}
    out.update(fields)
    return out


def test_json_links_dropped_counts_and_scope_attributes():
    body = json_request(
        [
            span(
                links=[{"traceId": TRACE, "spanId": SPAN, "attributes": []}],
                droppedEventsCount=2,
                flags=1,
                traceState="x=y",
            )
        ],
        scope={
            "name": "s",
            "attributes": [{"key": "a", "value": {"stringValue": "b"}}],
        },
    )
    (out,) = decode_json(body).spans
    assert out.links == [{"trace_id": TRACE, "span_id": SPAN, "attributes": {}}]
    assert (out.dropped, out.flags, out.trace_state) == ({"events": 2}, 1, "x=y")
    assert out.scope == {"name": "s", "version": "", "attributes": {"a": "b"}}


def test_json_structural_errors_reject_only_their_part():
    body = orjson.dumps(
        {
            "resourceSpans": [
                "not an object",
                {"resource": {"attributes": "nope"}, "scopeSpans": []},
                {"scopeSpans": [{"scope": [], "spans": []}, {"spans": {}}]},
                {
                    "scopeSpans": [
                        {
                            "spans": [
                                [],
                                span(name=5),
                                span(status="bad"),
                                span(events="x"),
                                span(events=["x"]),
                                span(droppedLinksCount=True),
                                span(
                                    attributes=[
                                        {"key": "a", "value": {"arrayValue": []}}
                                    ]
                                ),
                                span(
                                    attributes=[
                                        {"key": "a", "value": {"intValue": 1.5}}
                                    ]
                                ),
                                span(endTimeUnixNano=2.0),
                            ]
                        }
                    ]
                },
            ]
        }
    )
    decoded = decode_json(body)
    assert decoded.rejected == [
        ("resourceSpans[0]", "resourceSpans[] must be an object"),
        ("resourceSpans[1]", "attributes must be a list of {key, value}"),
        ("resourceSpans[2].scopeSpans", "scope must be an object"),
        ("resourceSpans[2].scopeSpans", "spans must be a list"),
        ("span[0]", "span must be an object"),
        ("span[1]", "name must be a string"),
        ("span[2]", "status must be an object"),
        ("span[3]", "events must be a list"),
        ("span[4]", "event must be an object"),
        ("span[5]", "droppedLinksCount must be an integer"),
        ("span[6]", "arrayValue must be an object"),
        ("span[7]", "intValue '1.5' is not an integer"),
    ]
    assert [s.end_ns for s in decoded.spans] == [2]


def test_json_plain_values_are_kept_as_they_are():
    body = json_request(
        [span(attributes=[{"key": "loose", "value": "no wrapper"}])],
    )
    assert decode_json(body).spans[0].attributes == {"loose": "no wrapper"}


def test_openinference_image_parts_and_legacy_function_calls():
    attrs = {
        "p.0.message.role": "user",
        "p.0.message.contents.0.message_content.type": "text",
        "p.0.message.contents.0.message_content.text": "What is this?",
        "p.0.message.contents.1.message_content.type": "image",
        "p.0.message.contents.1.message_content.image.image.url": "http://x/y.png",
        "p.0.message.contents.2.message_content.type": "audio",
        "p.1.message.role": "ai",
        "p.1.message.function_call_name": "f",
        "p.1.message.function_call_arguments_json": '{"a": 1}',
        "p.1.message.name": "bot",
        "p.x": "not a message",
    }
    used: set[str] = set()
    assert messages.flat_messages(attrs, "p.", used) == [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is this?"},
                {"type": "image_url", "image_url": {"url": "http://x/y.png"}},
                {"type": "audio"},
            ],
        },
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": None,
                    "type": "function",
                    "function": {"name": "f", "arguments": '{"a": 1}'},
                }
            ],
            "name": "bot",
        },
    ]
    assert "p.x" not in used


def test_genai_messages_with_other_parts_and_plain_messages():
    value = [
        {
            "role": "user",
            "parts": [
                {"type": "text", "content": "See"},
                {"type": "uri", "uri": "http://x", "modality": "image"},
                "junk",
            ],
        },
        {"role": "assistant", "content": "plain", "tool_calls": "not-a-list"},
        {"role": "assistant", "content": "", "tool_calls": ["odd"]},
    ]
    assert messages.genai_messages(value) == [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "See"},
                {"type": "uri", "uri": "http://x", "modality": "image"},
            ],
        },
        {"role": "assistant", "content": "plain"},
        {"role": "assistant", "content": "", "tool_calls": ["odd"]},
    ]
    assert messages.genai_messages("not json") is None
    assert messages.genai_messages(["not a message"]) is None
    assert messages.genai_messages('{"not": "a list"}') is None


def test_system_instructions_as_text_or_parts():
    assert messages.system_instructions('"Be kind."') == {
        "role": "system",
        "content": "Be kind.",
    }
    assert messages.system_instructions(None) is None
    assert messages.parse_json("{broken") == "{broken"


def test_choice_event_with_structured_message_and_event_content_body():
    events = [
        {
            "name": "gen_ai.user.message",
            "time_ns": 0,
            "attributes": {"gen_ai.event.content": '{"content": "Hi"}'},
        },
        {
            "name": "gen_ai.choice",
            "time_ns": 0,
            "attributes": {
                "gen_ai.system": "openai",
                "message": {"content": "Yo", "tool_calls": [{"id": "1", "name": "f"}]},
                "finish_reason": "tool_calls",
            },
        },
    ]
    assert messages.event_messages(events) == (
        [{"content": "Hi", "role": "user"}],
        [
            {
                "content": "Yo",
                "tool_calls": [
                    {
                        "id": "1",
                        "type": "function",
                        "function": {"name": "f", "arguments": ""},
                    }
                ],
                "role": "assistant",
                "finish_reason": "tool_calls",
            }
        ],
    )
