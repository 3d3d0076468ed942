"""OTLP payloads for bench/ingest.py (``--otlp``, ``--otlp-grpc``).

One request is an ``ExportTraceServiceRequest`` in protobuf of N spans (512 by
default, the BatchSpanProcessor's batch size), 8 spans per trace, each with
about 2 KB of OpenInference attributes. Within a trace the children come
before the root, as exporters send spans when they end. The rows handed to the
raw ceiling are the runs the server stores for these spans.
"""

from __future__ import annotations

import logging
import os
import random
import time
import uuid
from collections.abc import Callable
from typing import Any

import django
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)
from opentelemetry.proto.common.v1.common_pb2 import (
    AnyValue,
    InstrumentationScope,
    KeyValue,
)
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

# The mapping is the server's own code, which needs configured settings.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "agentspy.settings")
django.setup()
# Django's logging config would otherwise log every benchmark request.
logging.getLogger("httpx").setLevel(logging.WARNING)

from runs.ingest.normalize import segment  # noqa: E402
from runs.otel.decode import decode_protobuf  # noqa: E402
from runs.otel.mapping import span_to_run  # noqa: E402

SPANS_PER_TRACE = 8
PATH = "/otel/v1/traces"
PROJECT = "Langsmith-Project"
GRPC_METHOD = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"


def _kv(key: str, value: Any) -> KeyValue:
    if isinstance(value, int):
        return KeyValue(key=key, value=AnyValue(int_value=value))
    return KeyValue(key=key, value=AnyValue(string_value=value))


def _attributes(text: Callable[[random.Random, int], str], rng, llm: bool) -> dict:
    # bench/ingest_db.py checks these token counts on every stored run.
    attrs: dict[str, Any] = {
        "openinference.span.kind": "LLM" if llm else "CHAIN",
        "session.id": "bench-session",
        "llm.model_name": "gpt-4o-mini",
        "llm.provider": "openai",
        "llm.token_count.prompt": 600,
        "llm.token_count.completion": 420,
        "llm.token_count.total": 1020,
    }
    if llm:
        attrs |= {
            "llm.input_messages.0.message.role": "system",
            "llm.input_messages.0.message.content": text(rng, 200),
            "llm.input_messages.1.message.role": "user",
            "llm.input_messages.1.message.content": text(rng, 800),
            "llm.output_messages.0.message.role": "assistant",
            "llm.output_messages.0.message.content": text(rng, 800),
        }
    else:
        attrs |= {
            "input.value": text(rng, 900),
            "output.value": text(rng, 900),
            "metadata": '{"bench": true, "step": "chain"}',
        }
    return attrs


def build(
    rng: random.Random,
    spans: int,
    project: str,
    text: Callable[[random.Random, int], str],
) -> tuple[bytes, dict[str, str], list[uuid.UUID], list[dict]]:
    """(body, headers, run ids, stored rows) of one export request."""
    out: list[Span] = []
    base = time.time_ns()
    for first in range(0, spans, SPANS_PER_TRACE):
        trace_id = rng.randbytes(16)
        ids = [rng.randbytes(8) for _ in range(min(SPANS_PER_TRACE, spans - first))]
        start = base + first * 1_000_000
        # Children end (and are exported) before their root.
        for index in [*range(1, len(ids)), 0]:
            out.append(
                Span(
                    trace_id=trace_id,
                    span_id=ids[index],
                    parent_span_id=b"" if index == 0 else ids[0],
                    name=f"step_{index}",
                    kind=Span.SPAN_KIND_INTERNAL,
                    start_time_unix_nano=start + index * 37_000,
                    end_time_unix_nano=start + index * 37_000 + 120_000_000,
                    attributes=[
                        _kv(k, v)
                        for k, v in _attributes(text, rng, index % 2 == 1).items()
                    ],
                )
            )
    body = ExportTraceServiceRequest(
        resource_spans=[
            ResourceSpans(
                resource=Resource(attributes=[_kv("service.name", "bench-service")]),
                scope_spans=[
                    ScopeSpans(
                        scope=InstrumentationScope(name="bench", version="1"),
                        spans=out,
                    )
                ],
            )
        ]
    ).SerializeToString()
    rows = _rows(body)
    headers = {"Content-Type": "application/x-protobuf", PROJECT: project}
    return body, headers, [row["id"] for row in rows], rows


def _rows(body: bytes) -> list[dict]:
    """The runs of these spans as the server stores them (for the ceiling)."""
    rows = [span_to_run(span) for span in decode_protobuf(body).spans]
    by_id = {row["id"]: row for row in rows}
    for row in rows:
        own = segment(row["start_time"], row["id"])
        parent = by_id.get(row["parent_run_id"])
        row["dotted_order"] = (
            f"{segment(parent['start_time'], parent['id'])}.{own}" if parent else own
        )
    return rows


def grpc_send_all(target: str, payloads: list) -> tuple[list[float], set, float]:
    """Each client sends its exports in turn over its own gRPC channel.

    The bodies are the OTLP/HTTP ones, sent as the Export message's bytes;
    returns latencies, acknowledged run ids and the wall time.
    """
    import threading

    import grpc
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceResponse,
    )

    latencies: list[float] = []
    acked: set[uuid.UUID] = set()
    errors: list[str] = []
    lock = threading.Lock()

    def client(mine: list) -> None:
        with grpc.insecure_channel(target) as channel:
            export = channel.unary_unary(
                GRPC_METHOD,
                request_serializer=None,
                response_deserializer=ExportTraceServiceResponse.FromString,
            )
            for payload in mine:
                began = time.perf_counter()
                try:
                    response = export(
                        payload.body,
                        metadata=[("langsmith-project", payload.headers[PROJECT])],
                        timeout=300,
                    )
                except grpc.RpcError as exc:
                    with lock:
                        errors.append(f"{exc.code().name} {exc.details()}")
                    continue
                took = time.perf_counter() - began
                with lock:
                    latencies.append(took)
                    if response.partial_success.rejected_spans:
                        errors.append(response.partial_success.error_message)
                    else:
                        acked.update(payload.run_ids)

    threads = [threading.Thread(target=client, args=(mine,)) for mine in payloads]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    if errors:
        raise SystemExit(f"{len(errors)} export(s) failed, first: {errors[0]}")
    return latencies, acked, wall
