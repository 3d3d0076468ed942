import gzip
import uuid
from datetime import UTC, datetime

import orjson
import pytest
from google.rpc import code_pb2, status_pb2
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import (
    AnyValue,
    InstrumentationScope,
    KeyValue,
)
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Status
from opentelemetry.proto.trace.v1.trace_pb2 import Span as PbSpan

from runs.models import Run

pytestmark = pytest.mark.django_db

PROTOBUF = "application/x-protobuf"
TRACE = "5b8efff798038103d269b633813fc60c"
ROOT = "eee19b7ec3c1b174"
CHILD = "eee19b7ec3c1b173"
GRANDCHILD = "eee19b7ec3c1b172"
T0 = 1_764_072_000_000_000_000  # 2025-11-25T12:00:00Z


def rid(span_hex: str, trace_hex: str = TRACE) -> uuid.UUID:
    return uuid.UUID(span_hex + trace_hex[16:])


def any_value(value) -> AnyValue:
    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, int):
        return AnyValue(int_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    if isinstance(value, list):
        out = AnyValue()
        out.array_value.values.extend(any_value(v) for v in value)
        return out
    return AnyValue(string_value=value)


def kvs(attrs: dict) -> list[KeyValue]:
    return [KeyValue(key=k, value=any_value(v)) for k, v in attrs.items()]


def pb_span(span_hex, parent_hex="", *, name="op", start=T0, attrs=None, **kw):
    return PbSpan(
        trace_id=bytes.fromhex(kw.pop("trace", TRACE)),
        span_id=bytes.fromhex(span_hex),
        parent_span_id=bytes.fromhex(parent_hex),
        name=name,
        kind=kw.pop("kind", PbSpan.SPAN_KIND_INTERNAL),
        start_time_unix_nano=start,
        end_time_unix_nano=start + 1_000_000_000,
        attributes=kvs(attrs or {}),
        status=kw.pop("status", Status(code=Status.STATUS_CODE_OK)),
        **kw,
    )


def export(*spans, resource=None) -> bytes:
    request = ExportTraceServiceRequest(
        resource_spans=[
            ResourceSpans(
                resource=Resource(attributes=kvs(resource or {"service.name": "shop"})),
                scope_spans=[
                    ScopeSpans(
                        scope=InstrumentationScope(name="test", version="1"),
                        spans=list(spans),
                    )
                ],
            )
        ]
    )
    return request.SerializeToString()


def post(client, body, content_type=PROTOBUF, path="/v1/traces", **environ):
    return client.post(path, body, content_type=content_type, **environ)


def proto_response(response) -> ExportTraceServiceResponse:
    assert response["Content-Type"] == PROTOBUF
    return ExportTraceServiceResponse.FromString(response.content)


def rpc_status(response) -> status_pb2.Status:
    assert response["Content-Type"] == PROTOBUF
    return status_pb2.Status.FromString(response.content)


def json_span(span_id=ROOT, parent="", **fields):
    span = {
        "traceId": TRACE,
        "spanId": span_id,
        "parentSpanId": parent,
        "name": "op",
        "kind": 2,
        "startTimeUnixNano": str(T0),
        "endTimeUnixNano": str(T0 + 500_000_000),
        "attributes": [],
        "status": {},
    }
    span.update(fields)
    return span


def json_body(*spans, resource=None) -> bytes:
    return orjson.dumps(
        {
            "resourceSpans": [
                {
                    "resource": {
                        "attributes": resource
                        if resource is not None
                        else [{"key": "service.name", "value": {"stringValue": "web"}}]
                    },
                    "scopeSpans": [
                        {"scope": {"name": "manual", "version": "2"}, "spans": spans}
                    ],
                }
            ]
        }
    )


def test_protobuf_export_stores_the_tree_and_answers_an_empty_response(client):
    body = export(
        pb_span(ROOT, name="agent", attrs={"openinference.span.kind": "AGENT"}),
        pb_span(
            CHILD,
            ROOT,
            name="llm",
            start=T0 + 1000,
            attrs={"gen_ai.operation.name": "chat", "gen_ai.request.model": "m1"},
        ),
    )
    response = post(client, body)
    assert response.status_code == 200
    assert proto_response(response) == ExportTraceServiceResponse()
    root, child = Run.objects.order_by("dotted_order")
    assert (root.id, root.parent_id, root.trace_id) == (
        rid(ROOT),
        None,
        uuid.UUID(TRACE),
    )
    assert (child.id, child.parent_id, child.trace_id) == (
        rid(CHILD),
        rid(ROOT),
        uuid.UUID(TRACE),
    )
    assert root.dotted_order == f"20251125T120000000000Z{rid(ROOT)}"
    assert child.dotted_order == (
        f"{root.dotted_order}.20251125T120000000001Z{rid(CHILD)}"
    )
    assert (root.name, root.run_type, root.status) == ("agent", "chain", "success")
    assert (child.run_type, child.model_name) == ("llm", "m1")
    assert child.start_time == datetime(2025, 11, 25, 12, 0, 0, 1, tzinfo=UTC)
    assert child.end_time == datetime(2025, 11, 25, 12, 0, 1, 1, tzinfo=UTC)
    assert {root.project.name, child.project.name} == {"shop"}


def test_both_routes_accept_exports(client, api_prefix):
    post(client, export(pb_span(ROOT)), path=f"{api_prefix}/otel/v1/traces")
    post(client, export(pb_span(CHILD)), path="/v1/traces")
    assert set(Run.objects.values_list("id", flat=True)) == {rid(ROOT), rid(CHILD)}


def test_otlp_json_body_as_the_specification_writes_it(client):
    body = json_body(
        json_span(
            attributes=[
                {"key": "input.value", "value": {"stringValue": "hello"}},
                {"key": "retries", "value": {"intValue": "3"}},
                {"key": "ratio", "value": {"doubleValue": 0.5}},
                {"key": "ok", "value": {"boolValue": True}},
                {
                    "key": "list",
                    "value": {
                        "arrayValue": {
                            "values": [{"stringValue": "a"}, {"intValue": 2}]
                        }
                    },
                },
                {
                    "key": "map",
                    "value": {
                        "kvlistValue": {
                            "values": [{"key": "k", "value": {"stringValue": "v"}}]
                        }
                    },
                },
                {"key": "raw", "value": {"bytesValue": "AAE="}},
                {"key": "empty", "value": {}},
            ],
            events=[
                {
                    "timeUnixNano": T0 + 1000,
                    "name": "cache.miss",
                    "attributes": [{"key": "key", "value": {"stringValue": "x"}}],
                }
            ],
            status={"code": 1},
        )
    )
    response = post(client, body, content_type="application/json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert orjson.loads(response.content) == {}
    run = Run.objects.get()
    assert run.inputs == {"input": "hello"}
    otel = run.extra["metadata"]["otel"]
    assert otel["attributes"] == {
        "retries": 3,
        "ratio": 0.5,
        "ok": True,
        "list": ["a", 2],
        "map": {"k": "v"},
        "raw": "AAE=",
        "empty": None,
    }
    assert (otel["kind"], otel["status"]) == (
        "SPAN_KIND_SERVER",
        {"code": "STATUS_CODE_OK", "message": ""},
    )
    assert otel["scope"] == {"name": "manual", "version": "2", "attributes": {}}
    assert run.events == [
        {
            "name": "cache.miss",
            "time": "2025-11-25T12:00:00.000001+00:00",
            "kwargs": {"key": "x"},
        }
    ]
    assert run.project.name == "web"


def test_json_accepts_numbers_enum_names_and_proto_field_names(client):
    body = orjson.dumps(
        {
            "resource_spans": [
                {
                    "scope_spans": [
                        {
                            "spans": [
                                {
                                    "trace_id": TRACE,
                                    "span_id": ROOT,
                                    "name": "n",
                                    "kind": "SPAN_KIND_CLIENT",
                                    "start_time_unix_nano": T0,
                                    "end_time_unix_nano": float(T0 + 1_000_000_000),
                                    "status": {"code": "STATUS_CODE_ERROR"},
                                }
                            ]
                        }
                    ]
                }
            ]
        }
    )
    response = post(client, body, content_type="application/json; charset=utf-8")
    assert (response.status_code, orjson.loads(response.content)) == (200, {})
    run = Run.objects.get()
    assert (run.status, run.error, run.project.name) == ("error", "Error", "default")
    assert run.extra["metadata"]["otel"]["kind"] == "SPAN_KIND_CLIENT"


def test_gzip_bodies_are_decoded(client):
    body = gzip.compress(json_body(json_span()))
    response = post(
        client, body, content_type="application/json", HTTP_CONTENT_ENCODING="gzip"
    )
    assert response.status_code == 200
    response = client.post(
        "/v1/traces",
        gzip.compress(export(pb_span(CHILD, ROOT))),
        content_type=PROTOBUF,
        headers={"Content-Encoding": "gzip"},
    )
    assert response.status_code == 200
    assert Run.objects.count() == 2


def test_gzip_bomb_is_refused_with_a_status(client, settings):
    settings.MAX_DECODED_SIZE_BYTES = 1024 * 1024
    bomb = gzip.compress(b"\0" * (8 * 1024 * 1024))
    assert len(bomb) < 10_000
    response = client.post(
        "/v1/traces", bomb, content_type=PROTOBUF, headers={"Content-Encoding": "gzip"}
    )
    assert response.status_code == 413
    assert rpc_status(response) == status_pb2.Status(
        code=code_pb2.RESOURCE_EXHAUSTED,
        message="decompressed body exceeds the limit of 1048576 bytes",
    )
    assert Run.objects.count() == 0


def test_truncated_protobuf_is_a_400_status_in_protobuf(client):
    body = export(pb_span(ROOT, attrs={"k": "v" * 50}))
    response = post(client, body[:-20])
    assert response.status_code == 400
    status = rpc_status(response)
    assert status.code == code_pb2.INVALID_ARGUMENT
    assert status.message.startswith("invalid ExportTraceServiceRequest: ")
    assert Run.objects.count() == 0


def test_malformed_json_is_a_400_status_in_json(client):
    response = post(client, b'{"resourceSpans": [', content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    status = orjson.loads(response.content)
    assert status["code"] == code_pb2.INVALID_ARGUMENT
    assert status["message"].startswith("malformed JSON: ")


def test_json_that_is_not_an_export_request_is_a_400(client):
    for body, message in (
        (b"[]", "expected an ExportTraceServiceRequest JSON object"),
        (b'{"resourceSpans": 1}', "resourceSpans must be a list"),
    ):
        response = post(client, body, content_type="application/json")
        assert response.status_code == 400
        assert orjson.loads(response.content) == {"code": 3, "message": message}


def test_unknown_media_type_is_415(client):
    response = post(client, b"spans", content_type="text/plain")
    assert response.status_code == 415
    assert orjson.loads(response.content) == {
        "code": code_pb2.UNIMPLEMENTED,
        "message": 'Unsupported media type "text/plain" in request. Send '
        "application/x-protobuf or application/json (OTLP/HTTP), optionally with "
        "Content-Encoding: gzip.",
    }


def test_bad_spans_are_rejected_and_counted_and_valid_ones_kept(client):
    body = json_body(
        json_span(traceId="xyz"),
        json_span(spanId="abc"),
        json_span(traceId=""),
        json_span(traceId="zz" * 16),
        json_span(traceId="00" * 16),
        json_span(parentSpanId="12"),
        json_span(startTimeUnixNano="soon"),
        json_span(startTimeUnixNano=None),
        json_span(kind="SPAN_KIND_SIDEWAYS"),
        json_span(attributes=[{"value": {"stringValue": "keyless"}}]),
        json_span(CHILD, ROOT),
    )
    response = post(client, body, content_type="application/json")
    assert response.status_code == 200
    assert orjson.loads(response.content) == {
        "partialSuccess": {
            "rejectedSpans": "10",
            "errorMessage": "10 span(s) rejected: "
            "span[0]: traceId 'xyz' is not 32 hex digits; "
            "span[1]: spanId 'abc' is not 16 hex digits; "
            "span[2]: trace id '' is not 16 non-zero bytes; "
            f"span[3]: traceId '{'zz' * 16}' is not hex; "
            f"span[4]: trace id '{'00' * 16}' is not 16 non-zero bytes; "
            "span[5]: parentSpanId '12' is not 16 hex digits; "
            "span[6]: startTimeUnixNano 'soon' is not an integer; "
            "span[7]: startTimeUnixNano is required; "
            "span[8]: kind 'SPAN_KIND_SIDEWAYS' is not a known value; "
            "span[9]: attribute without a string key",
        }
    }
    assert list(Run.objects.values_list("id", "parent_id")) == [(rid(CHILD), rid(ROOT))]


def test_protobuf_spans_without_ids_are_rejected_and_counted(client):
    body = export(
        PbSpan(span_id=bytes.fromhex(ROOT), name="no trace", start_time_unix_nano=T0),
        pb_span(CHILD, trace="00" * 16),
        PbSpan(trace_id=bytes.fromhex(TRACE), name="no span", start_time_unix_nano=T0),
        PbSpan(trace_id=bytes.fromhex(TRACE), span_id=bytes.fromhex(ROOT)),
        pb_span(GRANDCHILD, "01"),
        pb_span(ROOT),
    )
    response = post(client, body)
    assert response.status_code == 200
    partial = proto_response(response).partial_success
    assert partial.rejected_spans == 5
    assert partial.error_message == (
        "5 span(s) rejected: "
        "span[0]: trace id '' is not 16 non-zero bytes; "
        f"span[1]: trace id '{'00' * 16}' is not 16 non-zero bytes; "
        "span[2]: span id '' is not 8 non-zero bytes; "
        "span[3]: start_time_unix_nano is required; "
        "span[4]: parent span id '01' is not 8 bytes"
    )
    assert list(Run.objects.values_list("id", flat=True)) == [rid(ROOT)]


def test_child_before_parent_links_up_and_gets_its_full_dotted_order(client):
    post(client, export(pb_span(GRANDCHILD, CHILD, name="gc", start=T0 + 2000)))
    gc = Run.objects.get()
    assert (gc.parent_id, gc.trace_id) == (rid(CHILD), uuid.UUID(TRACE))
    post(client, export(pb_span(CHILD, ROOT, name="c", start=T0 + 1000)))
    post(client, export(pb_span(ROOT, name="r")))
    runs = list(Run.objects.order_by("dotted_order"))
    assert [(r.name, r.parent_id) for r in runs] == [
        ("r", None),
        ("c", rid(ROOT)),
        ("gc", rid(CHILD)),
    ]
    r_seg = f"20251125T120000000000Z{rid(ROOT)}"
    c_seg = f"20251125T120000000001Z{rid(CHILD)}"
    g_seg = f"20251125T120000000002Z{rid(GRANDCHILD)}"
    assert [r.dotted_order for r in runs] == [
        r_seg,
        f"{r_seg}.{c_seg}",
        f"{r_seg}.{c_seg}.{g_seg}",
    ]
    assert runs[2].parent_run_ids == [str(rid(ROOT)), str(rid(CHILD))]
    assert {r.status for r in runs} == {"success"}


def test_a_resent_span_maps_to_the_same_run(client):
    body = export(pb_span(ROOT, attrs={"input.value": "x"}), pb_span(CHILD, ROOT))
    for _ in range(3):
        assert post(client, body).status_code == 200
    assert Run.objects.count() == 2
    assert Run.objects.get(id=rid(ROOT)).inputs == {"input": "x"}


def test_spans_of_one_request_may_come_in_any_order(client):
    post(
        client, export(pb_span(GRANDCHILD, CHILD), pb_span(CHILD, ROOT), pb_span(ROOT))
    )
    gc = Run.objects.get(id=rid(GRANDCHILD))
    assert gc.parent_run_ids == [str(rid(ROOT)), str(rid(CHILD))]


def test_project_header_beats_attributes_and_service_name(client):
    body = export(
        pb_span(ROOT, attrs={"langsmith.trace.session_name": "from-span"}),
        pb_span(CHILD, ROOT),
        resource={"service.name": "svc"},
    )
    post(client, body, HTTP_LANGSMITH_PROJECT="from-header")
    assert set(Run.objects.values_list("project__name", flat=True)) == {"from-header"}


def test_project_from_span_attribute_then_resource(client):
    body = export(
        pb_span(ROOT, attrs={"langsmith.trace.session_name": "from-span"}),
        pb_span(CHILD, ROOT),
        resource={"service.name": "svc", "telemetry.sdk.language": "python"},
    )
    post(client, body)
    assert dict(Run.objects.values_list("id", "project__name")) == {
        rid(ROOT): "from-span",
        rid(CHILD): "svc",
    }


def test_an_empty_request_is_accepted(client):
    assert post(client, b"").status_code == 200
    response = post(client, ExportTraceServiceRequest().SerializeToString())
    assert proto_response(response) == ExportTraceServiceResponse()


def test_body_over_the_size_limit_is_413(client, settings):
    settings.MAX_TRACE_SIZE_BYTES = 100
    response = post(client, json_body(json_span()), content_type="application/json")
    assert response.status_code == 413
    assert orjson.loads(response.content)["code"] == code_pb2.RESOURCE_EXHAUSTED


def test_api_key_is_required_when_auth_is_on(client, settings):
    settings.REQUIRE_AUTH = True
    settings.API_KEYS = ["secret-key"]
    body = export(pb_span(ROOT))
    response = post(client, body)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert rpc_status(response) == status_pb2.Status(
        code=code_pb2.UNAUTHENTICATED,
        message="Authentication credentials were not provided.",
    )
    assert post(client, body, HTTP_X_API_KEY="wrong").status_code == 401
    assert Run.objects.count() == 0
    assert post(client, body, HTTP_X_API_KEY="secret-key").status_code == 200
    assert Run.objects.count() == 1


def test_a_scoped_key_sends_unnamed_spans_to_its_project(client, settings):
    from runs.apikeys import create_api_key

    key = create_api_key(name="otel", project="team-a").key
    body = export(pb_span(ROOT), resource={"service.name": "svc"})
    assert post(client, body, HTTP_X_API_KEY=key).status_code == 200
    assert Run.objects.get().project.name == "team-a"


def test_a_scoped_key_may_not_write_elsewhere(client):
    from runs.apikeys import create_api_key

    key = create_api_key(name="otel", project="team-a").key
    response = post(
        client,
        json_body(json_span(), json_span(CHILD, ROOT)),
        content_type="application/json",
        HTTP_X_API_KEY=key,
        HTTP_LANGSMITH_PROJECT="team-b",
    )
    assert response.status_code == 403
    status = orjson.loads(response.content)
    assert status["code"] == code_pb2.PERMISSION_DENIED
    assert status["message"].startswith(
        f"span[0] ({rid(ROOT)}) session_name: "
        "This API key may only write to project 'team-a'."
    )
    assert Run.objects.count() == 0


def test_a_read_only_key_may_not_export(client):
    from runs.apikeys import create_api_key

    key = create_api_key(name="viewer", read_only=True).key
    response = post(client, export(pb_span(ROOT)), HTTP_X_API_KEY=key)
    assert response.status_code == 403
    assert rpc_status(response) == status_pb2.Status(
        code=code_pb2.PERMISSION_DENIED,
        message="This API key is read-only; it cannot ingest or change data.",
    )


def test_an_empty_body_of_another_media_type_is_still_415(client):
    # The test client sends no Content-Type with an empty body unless told.
    response = post(client, b"", content_type="text/csv", CONTENT_TYPE="text/csv")
    assert response.status_code == 415
    assert orjson.loads(response.content)["code"] == code_pb2.UNIMPLEMENTED


def test_times_out_of_range_reject_the_span(client):
    body = json_body(
        json_span(startTimeUnixNano="-1"),
        json_span(endTimeUnixNano=str(10**21)),
        json_span(events=[{"name": "late", "timeUnixNano": str(10**21)}]),
        json_span(CHILD, ROOT),
    )
    response = post(client, body, content_type="application/json")
    assert orjson.loads(response.content) == {
        "partialSuccess": {
            "rejectedSpans": "3",
            "errorMessage": "3 span(s) rejected: "
            "span[0]: start time -1 is out of range; "
            f"span[1]: end time {10**21} is out of range; "
            f"span[2]: event 'late' time {10**21} is out of range",
        }
    }
    assert Run.objects.count() == 1


def test_a_parent_arriving_with_a_grandchild_fixes_the_stored_child_first(client):
    # Stored: child (its parent not yet seen). Then root and grandchild together.
    post(client, export(pb_span(CHILD, ROOT, name="c", start=T0 + 1000)))
    post(
        client,
        export(
            pb_span(GRANDCHILD, CHILD, name="gc", start=T0 + 2000),
            pb_span(ROOT, name="r"),
        ),
    )
    r_seg = f"20251125T120000000000Z{rid(ROOT)}"
    c_seg = f"20251125T120000000001Z{rid(CHILD)}"
    g_seg = f"20251125T120000000002Z{rid(GRANDCHILD)}"
    assert dict(Run.objects.values_list("name", "dotted_order")) == {
        "r": r_seg,
        "c": f"{r_seg}.{c_seg}",
        "gc": f"{r_seg}.{c_seg}.{g_seg}",
    }


def test_a_late_root_reaches_every_stored_generation(client):
    post(client, export(pb_span(GRANDCHILD, CHILD, start=T0 + 2000)))
    post(client, export(pb_span(CHILD, ROOT, start=T0 + 1000)))
    # Re-sending the child changes nothing.
    post(client, export(pb_span(CHILD, ROOT, start=T0 + 1000)))
    post(client, export(pb_span(ROOT)))
    depths = sorted(
        d.count(".") for d in Run.objects.values_list("dotted_order", flat=True)
    )
    assert depths == [0, 1, 2]


def test_a_parent_cycle_does_not_hang(client):
    response = post(
        client, export(pb_span(CHILD, GRANDCHILD), pb_span(GRANDCHILD, CHILD))
    )
    # The span that closes the cycle is refused; the other is kept.
    assert proto_response(response).partial_success.rejected_spans == 1
    assert dict(Run.objects.values_list("id", "parent_id")) == {
        rid(CHILD): rid(GRANDCHILD)
    }
    post(client, export(pb_span(CHILD, GRANDCHILD)))
    assert Run.objects.count() == 1


def test_json_with_uppercase_hex_ids_and_numeric_times(client):
    body = orjson.dumps(
        {
            "resourceSpans": [
                {
                    "resource": {
                        "attributes": [
                            {"key": "service.name", "value": {"stringValue": "inn"}}
                        ]
                    },
                    "scopeSpans": [
                        {
                            "scope": {
                                "name": "lib",
                                "version": "0.9",
                                "attributes": [
                                    {"key": "tier", "value": {"stringValue": "gold"}}
                                ],
                            },
                            "spans": [
                                {
                                    "traceId": TRACE.upper(),
                                    "spanId": CHILD.upper(),
                                    "parentSpanId": ROOT.upper(),
                                    "name": "server span",
                                    "startTimeUnixNano": 1544712660000000000,
                                    "endTimeUnixNano": 1544712661000000000,
                                    "kind": 2,
                                }
                            ],
                        }
                    ],
                }
            ]
        }
    )
    response = post(client, body, content_type="application/json")
    assert (response.status_code, orjson.loads(response.content)) == (200, {})
    run = Run.objects.get()
    assert (run.id, run.parent_id, run.name, run.project.name) == (
        rid(CHILD),
        rid(ROOT),
        "server span",
        "inn",
    )
    assert (run.start_time, run.end_time) == (
        datetime(2018, 12, 13, 14, 51, 0, tzinfo=UTC),
        datetime(2018, 12, 13, 14, 51, 1, tzinfo=UTC),
    )
    assert run.extra["metadata"]["otel"]["scope"] == {
        "name": "lib",
        "version": "0.9",
        "attributes": {"tier": "gold"},
    }
