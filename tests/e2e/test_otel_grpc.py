"""``manage.py serve_otlp_grpc`` as a process, fed by the real OTLP/gRPC exporter."""

import os
import signal
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceResponse,
)

from runs.models import Run
from runs.otel.grpc_server import METHOD
from tests.e2e.test_otel_exporters import run_script, run_uuid
from tests.grpc_live import LISTENING, GrpcReceiver
from tests.live import ServerProcess
from tests.test_otel_api import export, pb_span

pytestmark = pytest.mark.e2e


@pytest.fixture
def receiver(transactional_db, tmp_path: Path) -> Iterator[GrpcReceiver]:
    with GrpcReceiver(log_path=tmp_path / "grpc.log") as server:
        yield server


def exporter_script(target: str, http_url: str) -> str:
    """A root exported over OTLP/HTTP, its child and grandchild over gRPC (gzip)."""
    return f"""
    import json
    from grpc import Compression
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
        OTLPSpanExporter as GrpcExporter,
    )
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
        OTLPSpanExporter as HttpExporter,
    )
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    def provider(service, exporter):
        p = TracerProvider(resource=Resource.create({{"service.name": service}}))
        p.add_span_processor(BatchSpanProcessor(exporter))
        return p

    web = provider("web", HttpExporter(endpoint="{http_url}/v1/traces"))
    worker = provider(
        "worker",
        GrpcExporter(
            endpoint="http://{target}",
            insecure=True,
            compression=Compression.Gzip,
            headers={{"langsmith-project": "mixed"}},
        ),
    )
    ids = {{}}
    with web.get_tracer("web").start_as_current_span(
        "handle request", attributes={{"langsmith.project": "mixed"}}
    ) as root:
        ids["trace"] = format(root.get_span_context().trace_id, "032x")
        ids["root"] = format(root.get_span_context().span_id, "016x")
        tracer = worker.get_tracer("worker")
        with tracer.start_as_current_span(
            "chat", attributes={{"gen_ai.request.model": "gpt-4o",
                                 "gen_ai.usage.input_tokens": 11}}
        ) as child:
            ids["child"] = format(child.get_span_context().span_id, "016x")
            with tracer.start_as_current_span("tool") as grandchild:
                ids["grandchild"] = format(
                    grandchild.get_span_context().span_id, "016x"
                )
    worker.shutdown()  # the children reach the server before their root
    web.shutdown()
    print(json.dumps(ids))
    """


def test_exporter_over_grpc_and_root_over_http_form_one_tree(
    receiver: GrpcReceiver, live_url: str, api_prefix: str
):
    ids = run_script(exporter_script(receiver.target, live_url))
    trace = ids["trace"]
    root_id = run_uuid(trace, ids["root"])
    runs = {run.name: run for run in Run.objects.select_related("project")}
    assert set(runs) == {"handle request", "chat", "tool"}
    assert runs["handle request"].id == root_id
    assert runs["chat"].id == run_uuid(trace, ids["child"])
    assert runs["chat"].parent_id == root_id
    assert runs["tool"].parent_id == runs["chat"].id
    assert {run.trace_id for run in runs.values()} == {uuid.UUID(trace)}
    assert {run.project.name for run in runs.values()} == {"mixed"}
    assert (runs["chat"].model_name, runs["chat"].prompt_tokens) == ("gpt-4o", 11)
    # The dotted orders were completed when the root arrived after its children.
    assert runs["tool"].dotted_order.startswith(runs["chat"].dotted_order + ".")
    assert runs["chat"].dotted_order.startswith(
        runs["handle request"].dotted_order + "."
    )
    with urllib.request.urlopen(
        f"{live_url}{api_prefix}/dashboard/runs/{root_id}/hierarchy?light=true"
    ) as response:
        tree = __import__("json").load(response)
    assert tree["total_runs"] == 3
    assert tree["hierarchy"]["name"] == "handle request"
    [chat] = tree["hierarchy"]["children"]
    assert [c["name"] for c in chat["children"]] == ["tool"]
    log = receiver.log()
    assert "Export " + METHOD + " OK" in log
    assert "accepted=2 rejected=0 projects=mixed" in log


def big_export(index: int, spans: int) -> tuple[bytes, set[uuid.UUID]]:
    """One export of ``spans`` spans of ~2 KB in traces of 8 (children first)."""
    out = []
    ids = set()
    for first in range(0, spans, 8):
        trace = uuid.uuid4().hex
        root = f"{index + 1:04x}{first + 1:012x}"
        for n in range(1, 8):
            span = f"{index + 1:04x}{first + n + 1:08x}{n:04x}"
            out.append(
                pb_span(span, root, trace=trace, attrs={"input.value": "x" * 2000})
            )
            ids.add(run_uuid(trace, span))
        out.append(pb_span(root, trace=trace, name="root"))
        ids.add(run_uuid(trace, root))
    return export(*out), ids


def test_sigterm_lets_exports_in_flight_finish_and_loses_nothing_acknowledged(
    receiver: GrpcReceiver,
):
    exports = [big_export(i, 800) for i in range(6)]
    outcomes: list[tuple[str, float, set[uuid.UUID]]] = []
    lock = threading.Lock()
    go = threading.Barrier(len(exports) + 1)

    def send(body: bytes, ids: set[uuid.UUID]) -> None:
        with grpc.insecure_channel(receiver.target) as channel:
            grpc.channel_ready_future(channel).result(timeout=30)
            call = channel.unary_unary(
                METHOD,
                request_serializer=None,
                response_deserializer=ExportTraceServiceResponse.FromString,
            )
            go.wait()
            try:
                response = call(body, timeout=120)
                code = "OK" if not response.partial_success.rejected_spans else "PART"
            except grpc.RpcError as exc:
                code = exc.code().name
            with lock:
                outcomes.append((code, time.monotonic(), ids))

    threads = [threading.Thread(target=send, args=export_) for export_ in exports]
    for thread in threads:
        thread.start()
    go.wait()
    time.sleep(0.5)
    signalled = time.monotonic()
    os.kill(receiver.process.pid, signal.SIGTERM)
    for thread in threads:
        thread.join(timeout=180)
    assert receiver.process.wait(timeout=60) == 0
    acknowledged = [(at, ids) for code, at, ids in outcomes if code == "OK"]
    refused = {code for code, _, _ in outcomes if code != "OK"}
    assert len(outcomes) == len(exports)
    # Exports still running when the signal came were finished, not dropped.
    assert any(at > signalled for at, _ in acknowledged)
    assert refused <= {"UNAVAILABLE"}
    stored = set(Run.objects.values_list("id", flat=True))
    for _, ids in acknowledged:
        assert ids <= stored
    log = receiver.log()
    assert "Stopping: finishing exports in flight" in log
    assert log.rstrip().endswith("OTLP/gRPC receiver stopped.")


def test_workers_share_the_port_and_the_metrics_of_the_web_process(
    transactional_db, tmp_path: Path
):
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    env = {"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    receiver = GrpcReceiver(env=env, workers=2, log_path=tmp_path / "grpc.log")
    web = ServerProcess(env=env, log_path=tmp_path / "web.log")
    with receiver, web:
        for n in range(1, 5):
            with grpc.insecure_channel(receiver.target) as channel:
                channel.unary_unary(METHOD, request_serializer=None)(
                    export(pb_span(f"{n:016x}")),
                    metadata=(("langsmith-project", "counted"),),
                    timeout=30,
                )
        with urllib.request.urlopen(f"{web.url}/metrics") as response:
            text = response.read().decode()
        # Only the parent is signalled: it passes the signal on to both receivers.
        os.kill(receiver.process.pid, signal.SIGTERM)
        assert receiver.process.wait(timeout=120) == 0
    assert receiver.log().count(LISTENING) == 2
    assert receiver.log().count("OTLP/gRPC receiver stopped.") == 2
    assert (
        'agentspy_http_requests_total{method="Export",route="otlp-grpc",status="OK"}'
        " 4.0" in text
    )
    assert 'agentspy_runs_ingested_total{project="counted"} 4.0' in text
    assert Run.objects.filter(project__name="counted").count() == 4
