"""LangSmith's multipart bodies: one part per run field, feedback or attachment."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

from runs.ingest.batch import MAX_ITEMS, AttachmentPart, Batch
from runs.ingest.decoders.errors import DecodeError
from runs.ingest.decoders.json_bodies import loads, too_many_items
from runs.ingest.normalize import clean_text

MULTIPART_FIELDS = {"inputs", "outputs", "events", "extra", "error", "serialized"}

_DISPOSITION_NAME = re.compile(
    rb'(?:^|\n)content-disposition:[^\n]*?[;\s]name="([^"]*)"', re.IGNORECASE
)
_CONTENT_TYPE = re.compile(rb"(?:^|\n)content-type:[ \t]*([^;\r\n]*)", re.IGNORECASE)


_SDK_DISPOSITION = b'Content-Disposition: form-data; name="'
_SDK_TYPE = b"\r\nContent-Type: "


def _part_name(headers: bytes) -> str:
    """The part's name; the SDKs' exact spelling is read directly."""
    name = None
    if headers.startswith(_SDK_DISPOSITION):
        stop = headers.find(b'"', len(_SDK_DISPOSITION))
        if stop > 0:
            name = headers[len(_SDK_DISPOSITION) : stop]
    if name is None:
        found = _DISPOSITION_NAME.search(headers)
        name = found.group(1) if found else b""
    return name.decode("utf-8", "replace")


def _part_type(headers: bytes) -> str:
    """The part's media type without parameters."""
    start = headers.find(_SDK_TYPE)
    if start >= 0:
        start += len(_SDK_TYPE)
        stop = headers.find(b"\r\n", start)
        ctype = headers[start : stop if stop >= 0 else len(headers)]
        ctype = ctype.split(b";", 1)[0]
    else:
        found = _CONTENT_TYPE.search(headers)
        ctype = found.group(1) if found else b"application/octet-stream"
    return ctype.strip().decode("latin-1")


def _part_headers(headers: bytes) -> tuple[str, str]:
    """(name, media type) of a part."""
    return _part_name(headers), _part_type(headers)


def _boundary(content_type: str) -> bytes:
    match = re.search(r'boundary="?([^";,]+)"?', content_type or "", re.IGNORECASE)
    if not match:
        raise DecodeError("multipart body without a boundary")
    return match.group(1).encode("latin-1")


def iter_parts(body: bytes, content_type: str) -> Iterator[tuple[str, str, bytes]]:
    """Yield (name, content type, payload) of each multipart/form-data part."""
    for headers, payload in _raw_parts(body, content_type):
        yield _part_name(headers), _part_type(headers), payload


def _raw_parts(body: bytes, content_type: str) -> Iterable[tuple[bytes, bytes]]:
    """(header block, payload) of each part: split at C speed when well formed."""
    boundary = _boundary(content_type)
    parts = _split_parts(body, boundary)
    return parts if parts is not None else _scan_parts(body, boundary)


def _split_parts(body: bytes, boundary: bytes) -> list[tuple[bytes, bytes]] | None:
    """One ``bytes.split`` at every delimiter, for bodies as clients write them.

    Gives what ``_scan_parts`` gives, or None for anything unusual (a part
    without a header end, a delimiter inside a header block, no closing
    delimiter), which ``_scan_parts`` then reads or refuses with its message.
    """
    delimiter = b"--" + boundary
    separator = b"\r\n" + delimiter
    if body.startswith(delimiter):
        rest = body[len(delimiter) :]
    else:
        start = body.find(separator)
        if start < 0:
            return None
        rest = body[start + len(separator) :]
    parts = []
    append = parts.append
    for chunk in rest.split(separator):
        if chunk[:2] != b"\r\n":
            return parts if chunk[:2] == b"--" else None
        header_end = chunk.find(b"\r\n\r\n")
        if header_end < 0:
            return None
        append((chunk[2:header_end], chunk[header_end + 4 :]))
    return None  # no closing delimiter


def _scan_parts(body: bytes, boundary: bytes) -> Iterator[tuple[bytes, bytes]]:
    delimiter = b"--" + boundary
    if not body.startswith(delimiter):
        start = body.find(b"\r\n" + delimiter)
        if start < 0:
            raise DecodeError("multipart body has no part")
        body = body[start + 2 :]
    position = len(delimiter)
    separator = b"\r\n" + delimiter
    while True:
        if body[position : position + 2] == b"--":
            return
        if body[position : position + 2] != b"\r\n":
            raise DecodeError("malformed multipart boundary line")
        header_end = body.find(b"\r\n\r\n", position)
        if header_end < 0:
            raise DecodeError("multipart part without a header end")
        headers = body[position + 2 : header_end]
        end = body.find(separator, header_end + 4)
        if end < 0:
            raise DecodeError("truncated multipart body (no closing boundary)")
        yield headers, body[header_end + 4 : end]
        position = end + len(separator)


def decode_multipart(body: bytes, content_type: str, *, max_depth: int = 200) -> Batch:
    """``POST /runs/multipart``: runs, feedback and attachments as parts.

    Field parts override the same key inline in the run object. A run with a
    bad part is dropped whole, and the other runs of the request are kept.
    """
    batch = Batch()
    # (kind, run id) -> [inline run object, {field: value of its own part}]
    runs: dict[tuple[str, str], list[Any]] = {}
    broken: dict[tuple[str, str], tuple[str, str, str]] = {}
    fields = MULTIPART_FIELDS
    for headers, payload in _raw_parts(body, content_type):
        name = _part_name(headers)
        kind, _, rest = name.partition(".")
        if kind == "post" or kind == "patch":
            run_id, _, field_name = rest.partition(".")
            key = (kind, run_id)
            entry = runs.get(key)
            if entry is None:
                items = len(runs) + len(batch) + len(batch.rejected)
                if items >= MAX_ITEMS:
                    raise too_many_items(items + 1)
                entry = runs[key] = [{}, {}]
            if field_name and field_name not in fields:
                continue  # an unknown field part is ignored like an unknown key
            try:
                value = loads(payload, max_depth=max_depth)
            except DecodeError as exc:
                broken.setdefault(key, (name, field_name or "run", str(exc)))
                continue
            if field_name:
                entry[1][field_name] = value
            elif isinstance(value, dict):
                entry[0].update(value)
            else:
                broken.setdefault(key, (name, "run", "expected a JSON object"))
        elif len(runs) + len(batch) + len(batch.rejected) >= MAX_ITEMS:
            raise too_many_items(len(runs) + len(batch) + len(batch.rejected) + 1)
        elif kind == "feedback":
            try:
                value = loads(payload, max_depth=max_depth)
            except DecodeError as exc:
                batch.reject(name, "feedback", str(exc))
                continue
            if isinstance(value, dict):
                value.setdefault("id", rest)
            batch.add_feedback(value, item=name)
        elif kind == "attachment":
            run_id, _, attachment_name = rest.partition(".")
            if not attachment_name:
                batch.reject(
                    name, "attachment", "part name must be attachment.{run_id}.{name}"
                )
                continue
            try:
                uuid.UUID(run_id)
            except ValueError:
                batch.reject(name, "run_id", f"{run_id[:60]!r} is not a valid UUID")
                continue
            batch.attachments.append(
                AttachmentPart(
                    run_id, clean_text(attachment_name), _part_type(headers), payload
                )
            )
        else:
            batch.reject(name or "(unnamed part)", "name", "unknown part name")
    for key, (raw, fields) in runs.items():
        kind, run_id = key
        if key in broken:
            item, field_name, message = broken[key]
            batch.reject(item, field_name, message, run_id=run_id)
            continue
        raw.update(fields)  # a field's own part wins over the inline key
        batch.add_run(kind, raw, item=f"{kind}.{run_id}", run_id=run_id)
    # A run whose create or patch was rejected is not stored half-way.
    bad_ids = {_canonical(r.run_id) for r in batch.rejected if r.run_id}
    if bad_ids:
        batch.ops = [op for op in batch.ops if str(op.id) not in bad_ids]
        batch.attachments = [
            a for a in batch.attachments if _canonical(a.run_id) not in bad_ids
        ]
    return batch


def _canonical(run_id: str) -> str:
    try:
        return str(uuid.UUID(run_id))
    except ValueError:
        return run_id
