"""Loading JSONL run exports back through the one ingest path.

Each line is a complete run as ``export_runs`` writes it. Lines go to the
ingest service as creates ("post" ops) in chunks, so they get exactly the
validation and merge rules of ingestion: a run already stored is merged with
an identical create and stays as it was, which makes a second import of the
same file change nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import orjson

from runs.ingest import ingest
from runs.ingest.batch import Batch
from runs.models import Project, Run
from runs.query import rollups

MAX_LINE_BYTES = 64 * 1024 * 1024


@dataclass
class LineError:
    line: int
    message: str


@dataclass
class ImportReport:
    lines: int = 0
    imported: int = 0
    new: int = 0
    rejected: list[LineError] = field(default_factory=list)


Progress = Callable[[ImportReport], None]


def import_jsonl(
    stream: BinaryIO,
    *,
    chunk_size: int = 500,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Import every line of ``stream``; ``dry_run`` validates only."""
    report = ImportReport()
    chunk: list[tuple[int, Any]] = []
    for number, raw in enumerate(stream, start=1):
        report.lines = number
        if not raw.strip():
            continue
        if len(raw) > MAX_LINE_BYTES:
            report.rejected.append(LineError(number, "line is too long"))
            continue
        try:
            chunk.append((number, orjson.loads(raw)))
        except orjson.JSONDecodeError as exc:
            report.rejected.append(LineError(number, f"not JSON: {exc}"))
            continue
        if len(chunk) >= chunk_size:
            _import_chunk(chunk, report, dry_run)
            chunk = []
            if progress is not None:
                progress(report)
    if chunk:
        _import_chunk(chunk, report, dry_run)
        if progress is not None:
            progress(report)
    report.rejected.sort(key=lambda e: e.line)
    if not dry_run:
        # Fold the rollup deltas of a big import here, not in the next
        # dashboard request.
        rollups.compact_if_needed()
    return report


def _import_chunk(
    chunk: list[tuple[int, Any]], report: ImportReport, dry_run: bool
) -> None:
    batch = Batch()
    line_of: dict[str, int] = {}
    for number, obj in chunk:
        if isinstance(obj, dict) and obj.get("id") is not None:
            line_of[str(obj["id"])] = number
        batch.add_run("post", obj, item=f"line {number}")
    for rejection in batch.rejected:
        report.rejected.append(
            LineError(int(rejection.item.split()[-1]), _message(rejection))
        )
    batch.rejected = []
    _map_projects(batch)
    ids = [op.id for op in batch.ops]
    stored = set(Run.objects.filter(id__in=ids).values_list("id", flat=True))
    if dry_run:
        report.imported += len(ids)
        report.new += len(set(ids) - stored)
        return
    result = ingest(batch)
    for rejection in result.rejected:
        number = line_of.get(rejection.run_id or "", 0)
        report.rejected.append(LineError(number, _message(rejection)))
    report.imported += len(result.accepted)
    report.new += len(set(result.accepted) - stored)


def _message(rejection: Any) -> str:
    return f"{rejection.field}: {rejection.message}"


def _map_projects(batch: Batch) -> None:
    """Keep a run's project id when it is new or known here; else go by name.

    A project exported from another server keeps its id on a fresh database;
    when a project of that name already exists here with another id, runs join
    it by name instead of creating a duplicate under the id.
    """
    wanted = {
        op.values["session_id"]
        for op in batch.ops
        if op.values.get("session_id") is not None
    }
    if not wanted:
        return
    known_ids = set(Project.objects.filter(id__in=wanted).values_list("id", flat=True))
    names = {
        op.values.get("session_name")
        for op in batch.ops
        if op.values.get("session_name")
    }
    taken = set(Project.objects.filter(name__in=names).values_list("name", flat=True))
    for op in batch.ops:
        pid: uuid.UUID | None = op.values.get("session_id")
        name = op.values.get("session_name")
        if pid is not None and pid not in known_ids and name in taken:
            del op.values["session_id"]
