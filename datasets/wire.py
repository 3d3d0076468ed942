"""Dataset wire formats: the SDK's multipart examples, CSV and JSONL files."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any

import orjson
from django.conf import settings

from datasets.services import AttachmentPart, ExampleInput, parse_example
from runs.ingest import decoders
from runs.ingest.normalize import InvalidField

MAX_CSV_ROWS = 100_000


def _json(data: bytes, name: str) -> Any:
    try:
        return decoders.loads(data, max_depth=settings.MAX_JSON_DEPTH)
    except decoders.DecodeError as exc:
        raise InvalidField(name, str(exc)) from None


def decode_examples_multipart(
    parts: Iterable[tuple[str, str, bytes]], *, creating: bool
) -> list[ExampleInput]:
    """Examples from ``<id>``, ``<id>.inputs``, ``<id>.outputs``,
    ``<id>.attachment.<name>`` and ``<id>.attachments_operations`` parts."""
    bodies: dict[str, dict[str, Any]] = {}
    files: dict[str, list[AttachmentPart]] = {}
    for name, ctype, data in parts:
        example_id, _, field = name.partition(".")
        body = bodies.setdefault(example_id, {"id": example_id})
        if field == "":
            value = _json(data, name)
            if not isinstance(value, dict):
                raise InvalidField(name, "expected a JSON object")
            body.update({k: v for k, v in value.items() if k != "id"})
        elif field in ("inputs", "outputs", "attachments_operations"):
            body[field] = _json(data, name)
        elif field.startswith("attachment."):
            files.setdefault(example_id, []).append(
                AttachmentPart(field.removeprefix("attachment."), ctype, data)
            )
        else:
            raise InvalidField(
                name,
                "unknown part (expected <id>[.inputs|.outputs|"
                ".attachment.<name>|.attachments_operations])",
            )
    examples = []
    for example_id, body in bodies.items():
        example = parse_example(body, creating=creating)
        example.attachments = files.get(example_id, [])
        examples.append(example)
    return examples


def csv_examples(
    data: bytes, input_keys: list[str], output_keys: list[str]
) -> list[ExampleInput]:
    """One example per CSV row: the input columns become inputs, and so on."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidField("file", "the CSV file is not UTF-8") from None
    reader = csv.DictReader(io.StringIO(text))
    columns = reader.fieldnames or []
    unknown = [k for k in input_keys + output_keys if k not in columns]
    if unknown:
        raise InvalidField("input_keys", f"no such column(s): {', '.join(unknown)}")
    examples = []
    for row in reader:
        if len(examples) >= MAX_CSV_ROWS:
            raise InvalidField("file", f"more than {MAX_CSV_ROWS} rows")
        raw = {
            "inputs": {k: row[k] for k in input_keys},
            "outputs": {k: row[k] for k in output_keys} if output_keys else None,
        }
        examples.append(parse_example(raw, creating=True))
    return examples


def jsonl_examples(lines: Iterable[bytes]) -> list[ExampleInput]:
    """One example object per line (``{"inputs", "outputs"?, "metadata"?}``)."""
    examples = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            raw = _json(line, f"line {number}")
            examples.append(parse_example(raw, creating=True))
        except InvalidField as exc:
            raise InvalidField(f"line {number}: {exc.field}", exc.message) from None
    return examples


def to_jsonl(rows: Iterable[dict[str, Any]]) -> Iterator[bytes]:
    for row in rows:
        yield orjson.dumps(row) + b"\n"


def to_csv(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    """Columns ``inputs.<key>``/``outputs.<key>`` (JSON for non-text values)."""
    rows = list(rows)
    keys: dict[str, None] = {"id": None}
    for row in rows:
        for part in ("inputs", "outputs"):
            for key in row.get(part) or {}:
                keys[f"{part}.{key}"] = None
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(list(keys))
    yield _drain(buffer)
    for row in rows:
        values = []
        for column in keys:
            if column == "id":
                values.append(row["id"])
                continue
            part, _, key = column.partition(".")
            value = (row.get(part) or {}).get(key)
            if value is None:
                values.append("")
            elif isinstance(value, str):
                values.append(value)
            else:
                values.append(orjson.dumps(value).decode())
        writer.writerow(values)
        yield _drain(buffer)


def _drain(buffer: io.StringIO) -> str:
    value = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return value
