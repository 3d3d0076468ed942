"""OTLP/gRPC Export against a receiver in this process (a real gRPC server).

The receiver's threads open their own database connections, so these tests
commit (``transactional_db``). End-to-end tests of the command, the real
exporter and SIGTERM are in tests/e2e/test_otel_grpc.py.
"""

import gzip
import logging
from collections.abc import Iterator

import grpc
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span as PbSpan
from prometheus_client import REGISTRY

from runs.apikeys import create_api_key
from runs.models import Run
from runs.otel.grpc_server import METHOD, build_server, key_from_metadata
from tests.test_otel_api import CHILD, ROOT, TRACE, export, pb_span, post, rid

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def target(transactional_db, settings) -> Iterator[str]:
    server, port = build_server("127.0.0.1", 0, threads=4)
    server.start()
    yield f"127.0.0.1:{port}"
    server.stop(None)


def call(
    target: str,
    body: bytes,
    *,
    metadata: tuple = (),
    compression: grpc.Compression | None = None,
) -> ExportTraceServiceResponse:
    with grpc.insecure_channel(target) as channel:
        export_call = channel.unary_unary(
            METHOD,
            request_serializer=None,
            response_deserializer=ExportTraceServiceResponse.FromString,
        )
        return export_call(body, metadata=metadata, timeout=30, compression=compression)


def refused(target: str, body: bytes, **kwargs) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as info:
        call(target, body, **kwargs)
    return info.value


def test_export_stores_the_runs_with_the_otlp_http_ids(target):
    body = export(pb_span(CHILD, ROOT, name="child"), pb_span(ROOT, name="root"))
    response = call(target, body, metadata=(("langsmith-project", "grpc-a"),))
    assert response == ExportTraceServiceResponse()
    runs = {run.id: run for run in Run.objects.select_related("project")}
    assert set(runs) == {rid(ROOT), rid(CHILD)}
    assert runs[rid(CHILD)].parent_id == rid(ROOT)
    assert runs[rid(ROOT)].parent_id is None
    assert str(runs[rid(ROOT)].trace_id).replace("-", "") == TRACE
    assert {run.project.name for run in runs.values()} == {"grpc-a"}
    child_dotted = runs[rid(CHILD)].dotted_order
    assert child_dotted.startswith(runs[rid(ROOT)].dotted_order + ".")


def test_grpc_and_http_store_the_same_rows_for_the_same_export(target, client):
    body = export(
        pb_span(ROOT, name="agent", attrs={"openinference.span.kind": "AGENT"}),
        pb_span(
            CHILD,
            ROOT,
            name="llm",
            attrs={"llm.model_name": "gpt-4o", "llm.token_count.prompt": 7},
        ),
    )
    fields = (
        "id trace_id parent_id dotted_order name run_type status start_time "
        "end_time inputs outputs extra events tags total_tokens model_name"
    ).split()

    def stored() -> list[dict]:
        return list(Run.objects.order_by("id").values(*fields, "project__name"))

    call(target, body)
    over_grpc = stored()
    Run.objects.all().delete()
    assert post(client, body).status_code == 200
    assert stored() == over_grpc
    assert over_grpc[0]["project__name"] == "shop"  # the resource's service.name


def test_gzip_compressed_exports_are_stored(target):
    call(target, export(pb_span(ROOT)), compression=grpc.Compression.Gzip)
    assert Run.objects.get().id == rid(ROOT)


def test_bad_spans_are_rejected_in_partial_success_and_good_ones_kept(target):
    bad = pb_span(CHILD, ROOT)
    bad.trace_id = b""
    response = call(target, export(pb_span(ROOT), bad))
    assert response.partial_success.rejected_spans == 1
    assert response.partial_success.error_message == (
        "1 span(s) rejected: span[1]: trace id '' is not 16 non-zero bytes"
    )
    assert list(Run.objects.values_list("id", flat=True)) == [rid(ROOT)]


def test_bytes_that_are_no_export_request_are_invalid_argument(target):
    error = refused(target, b"\xff\xff\xff\xff")
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details().startswith("invalid ExportTraceServiceRequest")


def test_a_message_over_the_size_limit_is_resource_exhausted(target, settings):
    settings.MAX_TRACE_SIZE_BYTES = 1000
    body = export(*(pb_span(f"{i:016x}", name="x" * 100) for i in range(1, 20)))
    error = refused(target, body)
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert error.details() == (
        f"Export message of {len(body)} bytes exceeds MAX_TRACE_SIZE_MB (1000 bytes)."
    )
    assert Run.objects.count() == 0


def test_a_gzip_bomb_is_never_inflated_past_the_decoded_cap(transactional_db, settings):
    settings.MAX_DECODED_SIZE_BYTES = 64 * 1024
    server, port = build_server("127.0.0.1", 0, threads=1)
    server.start()
    try:
        span = pb_span(ROOT, attrs={"input.value": "0" * 1_000_000})
        body = export(span)
        assert len(gzip.compress(body)) < 5000
        error = refused(f"127.0.0.1:{port}", body, compression=grpc.Compression.Gzip)
    finally:
        server.stop(None)
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert Run.objects.count() == 0


def test_without_a_key_auth_refuses_unauthenticated(target, settings):
    settings.REQUIRE_AUTH = True
    error = refused(target, export(pb_span(ROOT)))
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    assert error.details() == (
        "An API key is required (x-api-key or authorization: Bearer metadata)."
    )
    wrong = refused(target, export(pb_span(ROOT)), metadata=(("x-api-key", "nope"),))
    assert wrong.code() == grpc.StatusCode.UNAUTHENTICATED
    assert wrong.details() == "Invalid API key."
    assert Run.objects.count() == 0


def test_keys_are_read_from_x_api_key_or_bearer_metadata(target, settings):
    settings.REQUIRE_AUTH = True
    settings.API_KEYS = ["env-key"]
    call(target, export(pb_span(ROOT)), metadata=(("x-api-key", "env-key"),))
    stored = create_api_key(name="collector").key
    call(
        target,
        export(pb_span(CHILD, ROOT)),
        metadata=(("authorization", f"Bearer {stored}"),),
    )
    assert Run.objects.count() == 2


def test_key_from_metadata_ignores_other_schemes():
    assert key_from_metadata({"authorization": "Basic abc"}) is None
    assert key_from_metadata({"authorization": "bearer  k1 "}) == "k1"
    assert key_from_metadata({"x-api-key": " k2 ", "authorization": "Bearer x"}) == (
        "k2"
    )


def test_an_unknown_key_is_ignored_when_auth_is_off(target):
    call(target, export(pb_span(ROOT)), metadata=(("x-api-key", "unknown"),))
    assert Run.objects.count() == 1


def test_a_read_only_key_is_permission_denied(target):
    key = create_api_key(name="viewer", read_only=True).key
    error = refused(target, export(pb_span(ROOT)), metadata=(("x-api-key", key),))
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    assert error.details() == (
        "This API key is read-only; it cannot ingest or change data."
    )


def test_a_scoped_key_writing_elsewhere_is_permission_denied(target):
    key = create_api_key(name="team", project="team-a").key
    error = refused(
        target,
        export(pb_span(ROOT)),
        metadata=(("x-api-key", key), ("langsmith-project", "team-b")),
    )
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    assert error.details() == (
        f"span[0] ({rid(ROOT)}) session_name: "
        "This API key may only write to project 'team-a'."
    )
    assert Run.objects.count() == 0


def test_a_scoped_key_sends_unnamed_spans_to_its_project(target):
    key = create_api_key(name="team", project="team-a").key
    call(target, export(pb_span(ROOT)), metadata=(("x-api-key", key),))
    assert Run.objects.get().project.name == "team-a"


def test_a_scoped_key_keeps_its_own_spans_of_a_mixed_export(target):
    key = create_api_key(name="team", project="team-a").key
    elsewhere = pb_span(CHILD, ROOT, attrs={"langsmith.trace.session_name": "team-b"})
    response = call(
        target, export(pb_span(ROOT), elsewhere), metadata=(("x-api-key", key),)
    )
    assert response.partial_success.rejected_spans == 1
    assert "span[1]" in response.partial_success.error_message
    assert list(Run.objects.values_list("id", flat=True)) == [rid(ROOT)]


def test_each_export_is_logged_and_counted_like_a_request(target, caplog):
    def sample(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    before = sample(
        "agentspy_http_requests_total", route="otlp-grpc", method="Export", status="OK"
    )
    ingested = sample("agentspy_runs_ingested_total", project="logged")
    with caplog.at_level(logging.INFO, logger="agentspy.requests"):
        call(
            target,
            export(pb_span(ROOT, kind=PbSpan.SPAN_KIND_SERVER)),
            metadata=(("langsmith-project", "logged"),),
        )
    [line] = [r for r in caplog.records if r.name == "agentspy.requests"]
    assert line.getMessage().startswith(f"Export {METHOD} OK ")
    assert line.getMessage().endswith(" accepted=1 rejected=0 projects=logged")
    assert (line.route, line.status, line.runs_accepted) == ("otlp-grpc", "OK", 1)
    after = sample(
        "agentspy_http_requests_total", route="otlp-grpc", method="Export", status="OK"
    )
    assert after == before + 1
    assert sample("agentspy_runs_ingested_total", project="logged") == ingested + 1


def test_the_command_refuses_a_bad_port_or_worker_count():
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="--port 70000 is not a TCP port"):
        call_command("serve_otlp_grpc", port=70000)
    with pytest.raises(CommandError, match="must be at least 1"):
        call_command("serve_otlp_grpc", port=4317, threads=-1)


def test_a_port_in_use_is_a_command_error(transactional_db):
    import socket

    from django.core.management import CommandError, call_command

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(CommandError, match=f"Could not bind 127.0.0.1:{port}"):
            call_command(
                "serve_otlp_grpc", host="127.0.0.1", port=port, workers=1, threads=1
            )
