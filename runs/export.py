"""Streaming export of runs as JSONL, JSON or CSV, in constant memory.

Rows are read with ``QuerySet.iterator(chunk_size=...)`` (a server-side cursor
on PostgreSQL, a stepping cursor on SQLite) and written out chunk by chunk, so
memory does not grow with the number of runs. A JSONL row is a complete run in
LangSmith's shape plus ``session_name``: posting it back through the ingest
service (``Batch.add_run("post", row, ...)``) recreates the same run.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import orjson
from django.db.models import QuerySet

from runs.jsonnumbers import dumps
from runs.models import Run
from runs.shape import run_to_dict

FORMATS = {
    "jsonl": "application/x-ndjson",
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
}
CHUNK_SIZE = 1000
CSV_COLUMNS = (
    "id",
    "trace_id",
    "parent_run_id",
    "session_name",
    "name",
    "run_type",
    "status",
    "start_time",
    "end_time",
    "duration_ms",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "model_name",
    "error",
    "tags",
    "inputs",
    "outputs",
)
_JSON_OPTS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_UUID


def export_row(run: Run) -> dict[str, Any]:
    """One run as a LangSmith run object that the ingest path can load back."""
    row = run_to_dict(run)
    row["session_name"] = run.project.name if run.project_id else None
    return row


def _runs(queryset: QuerySet) -> Iterator[Run]:
    return queryset.select_related("project").iterator(chunk_size=CHUNK_SIZE)


def _chunks(lines: Iterator[bytes]) -> Iterator[bytes]:
    """Join small pieces into ~64 KB writes."""
    buffer: list[bytes] = []
    size = 0
    for line in lines:
        buffer.append(line)
        size += len(line)
        if size >= 65536:
            yield b"".join(buffer)
            buffer, size = [], 0
    if buffer:
        yield b"".join(buffer)


def _jsonl(queryset: QuerySet) -> Iterator[bytes]:
    for run in _runs(queryset):
        yield dumps(export_row(run), option=_JSON_OPTS) + b"\n"


def _json(queryset: QuerySet) -> Iterator[bytes]:
    yield b"["
    first = True
    for run in _runs(queryset):
        yield (b"" if first else b",") + dumps(export_row(run), option=_JSON_OPTS)
        first = False
    yield b"]\n"


def _cell(value: Any) -> Any:
    if isinstance(value, dict | list):
        return dumps(value, option=_JSON_OPTS).decode()
    return "" if value is None else value


def _csv(queryset: QuerySet) -> Iterator[bytes]:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for run in _runs(queryset):
        row = export_row(run)
        row["duration_ms"] = run.duration_ms
        row["model_name"] = run.model_name
        writer.writerow([_cell(row.get(col)) for col in CSV_COLUMNS])
        yield out.getvalue().encode()
        out.seek(0)
        out.truncate()
    if out.tell():
        yield out.getvalue().encode()


def stream_export(queryset: QuerySet, fmt: str) -> Iterator[bytes]:
    """The runs of ``queryset`` in ``fmt`` (jsonl, json or csv), as byte chunks."""
    writers = {"jsonl": _jsonl, "json": _json, "csv": _csv}
    if fmt not in writers:
        raise ValueError(f"Unknown export format {fmt!r}; use jsonl, json or csv.")
    return _chunks(writers[fmt](queryset))
