"""One OTLP export, whatever carried it: decoded spans in, stored runs out.

OTLP/HTTP (``views``) and OTLP/gRPC (``grpc``) decode their requests into the
same ``Decoded`` records and call ``store_spans``, so both transports share the
project rules, the span-to-run mapping, the tree placement and the one ingest
service; only the way the outcome is answered differs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceResponse,
)

from runs.ingest import IngestResult, ingest, store
from runs.ingest.addresses import check_address, to_lrn
from runs.ingest.batch import Batch
from runs.ingest.normalize import InvalidField
from runs.ingest.projects import ProjectGuard
from runs.otel import tree
from runs.otel.decode import Decoded
from runs.otel.mapping import named_project, service_project, span_to_run

# Messages quoted in one answer; the count of rejected spans is always exact.
MAX_MESSAGES = 20


@dataclass
class ExportOutcome:
    result: IngestResult
    rejected: int = 0
    problems: list[str] = field(default_factory=list)
    # Every span was refused for its project (a scoped key writing elsewhere).
    forbidden: bool = False

    @property
    def message(self) -> str:
        return "; ".join(self.problems[:MAX_MESSAGES])

    def response(self) -> ExportTraceServiceResponse:
        """The OTLP answer: ``partial_success`` names what was not stored."""
        response = ExportTraceServiceResponse()
        if self.rejected or self.problems:
            response.partial_success.rejected_spans = self.rejected
            response.partial_success.error_message = (
                f"{self.rejected} span(s) rejected: {self.message}"
            )
        return response


def agent_address(agent_id: str, environment: str) -> str | None:
    """The wire address named by the LangSmith agent headers (or gRPC metadata).

    The headers address the whole export, so a bad one refuses it, naming
    the headers; the ingest service then treats the address like a run's
    ``address`` field.
    """
    agent_id, environment = agent_id.strip(), environment.strip()
    if not agent_id and not environment:
        return None
    try:
        return to_lrn(check_address(agent_id, environment))
    except InvalidField as exc:
        raise InvalidField(
            "address",
            f"Langsmith-Agent-Id / Langsmith-Agent-Environment: {exc.message}",
        ) from None


def store_spans(
    decoded: Decoded,
    *,
    header_project: str = "",
    scope: str | None = None,
    address: str | None = None,
    project_guard: ProjectGuard | None = None,
) -> ExportOutcome:
    """Store the spans of one export as runs, in one transaction.

    Project of each run: the transport's ``Langsmith-Project`` header (or gRPC
    metadata), else a span or resource attribute naming one, else the scoped
    key's project, else the resource's ``service.name``; with an agent
    ``address`` (the LangSmith agent headers or metadata), that address's
    project for every span of the export.
    """
    problems = [f"{item}: {message}" for item, message in decoded.rejected]
    runs = []
    for span in decoded.spans:
        run = span_to_run(span)
        if address is not None:
            run["address"] = address
        else:
            run["session_name"] = (
                header_project or named_project(span) or scope or service_project(span)
            )
        runs.append(run)
    # The stored tree is read and rewritten in one transaction, under the
    # traces' locks (SQLite: the database write lock, taken at BEGIN).
    with transaction.atomic():
        store.lock_traces({run["trace_id"] for run in runs})
        patches = tree.place(runs)
        batch = Batch()
        for index, run in enumerate(runs):
            batch.add_run("post", run, item=f"span[{index}]")
        for index, patch in enumerate(patches):
            batch.add_run("patch", patch, item=f"descendant[{index}]")
        result = ingest(batch, project_guard=project_guard)
    accepted = set(result.accepted)
    lost = [run for run in runs if run["id"] not in accepted]
    # The service names runs; name the span each one came from instead.
    items = {str(run["id"]): f"span[{i}]" for i, run in enumerate(runs)}
    problems += [
        f"{items.get(r.run_id or '', r.item)} ({r.run_id or '-'}) "
        f"{r.field}: {r.message}"
        for r in result.rejected
    ]
    forbidden = (
        bool(runs)
        and len(lost) == len(runs)
        and not decoded.rejected
        and all(r.forbidden for r in result.rejected)
    )
    return ExportOutcome(
        result=result,
        rejected=len(decoded.rejected) + len(lost),
        problems=problems,
        forbidden=forbidden,
    )
