"""Wire decoders: request bytes to a ``Batch``.

They know formats and limits, not models.
"""

from __future__ import annotations

import re
import uuid
import zlib
from collections.abc import Iterable, Iterator
from typing import Any

import orjson
import zstandard

from runs.ingest.batch import MAX_ITEMS, MAX_JSON_CONTAINERS, AttachmentPart, Batch
from runs.ingest.normalize import clean_text

MULTIPART_FIELDS = {"inputs", "outputs", "events", "extra", "error", "serialized"}
_CHUNK = 64 * 1024


class DecodeError(ValueError):
    """The body cannot be decoded at all; ``status`` is the HTTP answer."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def decompress(body: bytes, encoding: str, *, limit: int) -> bytes:
    """Undo Content-Encoding with a streaming decoder that stops at ``limit`` bytes.

    LangSmith SDKs send one zstd frame without a content size, so a one-shot
    decompress cannot be used; the cap defeats decompression bombs.
    """
    encoding = (encoding or "identity").strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding == "zstd":
        return _unzstd(body, limit)
    if encoding in ("gzip", "x-gzip", "deflate"):
        wbits = 16 + zlib.MAX_WBITS if encoding != "deflate" else zlib.MAX_WBITS
        inflater = zlib.decompressobj(wbits)
        out = bytearray()
        data = body
        try:
            while data:
                out += inflater.decompress(data, limit + 1 - len(out))
                if len(out) > limit:
                    raise DecodeError(
                        f"decompressed body exceeds the limit of {limit} bytes", 413
                    )
                data = inflater.unconsumed_tail
                if inflater.eof:
                    break
        except zlib.error as exc:
            raise DecodeError(f"invalid {encoding} body: {exc}") from None
        if not inflater.eof:
            raise DecodeError(f"truncated {encoding} body")
        return bytes(out)
    raise DecodeError(f"unsupported Content-Encoding {encoding!r}", 415)


def _unzstd(body: bytes, limit: int) -> bytes:
    reader = zstandard.ZstdDecompressor().stream_reader(body, read_across_frames=True)
    out = bytearray()
    try:
        while chunk := reader.read(_CHUNK):
            out += chunk
            if len(out) > limit:
                raise DecodeError(
                    f"decompressed body exceeds the limit of {limit} bytes", 413
                )
    except zstandard.ZstdError as exc:
        raise DecodeError(f"invalid zstd body: {exc}") from None
    # The stream reader stops quietly at the end of its input, so a cut frame
    # would pass as a shorter body.
    if not zstd_frames_complete(body):
        raise DecodeError("truncated zstd body")
    return bytes(out)


def zstd_frames_complete(body: bytes) -> bool:
    """Whether every zstd frame in ``body`` ends, by its headers (RFC 8878).

    Walks frame and block headers without decoding anything: a few steps per
    128 KB block, instead of decompressing the body a second time.
    """
    position, end = 0, len(body)
    while position < end:
        if end - position < 8:
            return False
        magic = int.from_bytes(body[position : position + 4], "little")
        if magic & 0xFFFFFFF0 == 0x184D2A50:  # skippable frame: 4-byte size
            size = int.from_bytes(body[position + 4 : position + 8], "little")
            position += 8 + size
            continue
        descriptor = body[position + 4]
        single_segment = descriptor >> 5 & 1
        position += 5 + (1 - single_segment)  # magic, descriptor, window
        position += (0, 1, 2, 4)[descriptor & 3]  # dictionary id
        position += (single_segment, 2, 4, 8)[descriptor >> 6]  # content size
        while True:
            if end - position < 3:
                return False
            header = int.from_bytes(body[position : position + 3], "little")
            block_type = header >> 1 & 3
            position += 3 + (1 if block_type == 1 else header >> 3)  # RLE: 1 byte
            if header & 1:  # last block
                break
        position += 4 * (descriptor >> 2 & 1)  # content checksum
    return position == end


def loads(data: bytes | str, *, max_depth: int = 200) -> Any:
    """Parse JSON; orjson refuses nesting deeper than 1024, tighten that.

    The store serialises with orjson too, which stops at 254 levels.
    """
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise DecodeError(f"malformed JSON: {exc}") from None
    # Fewer brackets than the limit cannot nest past it (a C-speed count);
    # most parts are shorter than that many bytes, which is cheaper still.
    if (
        len(data) > max_depth
        and _may_be_deep(data, max_depth)
        and _too_deep(value, max_depth)
    ):
        raise DecodeError(f"JSON nested deeper than {max_depth} levels")
    return value


def _may_be_deep(data: bytes | str, limit: int) -> bool:
    """Fewer brackets than the limit cannot nest past it (C-speed count)."""
    if isinstance(data, str):
        return data.count("{") + data.count("[") > limit
    return data.count(b"{") + data.count(b"[") > limit


def _too_deep(value: Any, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(node, dict):
            stack.extend(
                (v, depth + 1) for v in node.values() if isinstance(v, dict | list)
            )
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node if isinstance(v, dict | list))
    return False


def too_many_items(count: int) -> DecodeError:
    return DecodeError(
        f"{count} items in one request; at most {MAX_ITEMS} "
        "(send them in several requests)",
        status=413,
    )


def _check_containers(body: bytes) -> None:
    """Refuse, before parsing, a body that would make too many objects.

    Each JSON object or array costs ~60 bytes of memory for 1 or 2 bytes of
    body: the count of brackets (a C-speed scan) bounds what parsing makes.
    """
    if len(body) > MAX_JSON_CONTAINERS:
        count = body.count(b"{") + body.count(b"[")
        if count > MAX_JSON_CONTAINERS:
            raise DecodeError(
                f"{count} JSON objects and arrays in one request; at most "
                f"{MAX_JSON_CONTAINERS} (send the runs in several requests)",
                status=413,
            )


def decode_batch_json(body: bytes, *, max_depth: int = 200) -> Batch:
    """``POST /runs/batch``: ``{"post": [...], "patch": [...]}``, each optional."""
    _check_containers(body)
    payload = loads(body, max_depth=max_depth)
    if not isinstance(payload, dict):
        raise DecodeError("expected a JSON object with 'post' and/or 'patch' lists")
    lists = []
    for kind in ("post", "patch"):
        items = payload.get(kind)
        if items is None:
            continue
        if not isinstance(items, list):
            raise DecodeError(f"'{kind}' must be a list of runs")
        lists.append((kind, items))
    count = sum(len(items) for _, items in lists)
    if count > MAX_ITEMS:
        raise too_many_items(count)
    batch = Batch()
    for kind, items in lists:
        for index, raw in enumerate(items):
            batch.add_run(kind, raw, item=f"{kind}[{index}]")
    return batch


def decode_single(
    kind: str, body: bytes, *, run_id: str | None = None, max_depth: int = 200
) -> Batch:
    """``POST /runs`` or ``PATCH /runs/{id}``: one run object."""
    payload = loads(body, max_depth=max_depth)
    batch = Batch()
    if run_id is not None and isinstance(payload, dict):
        payload = {**payload, "id": run_id}
    batch.add_run(kind, payload, item=kind)
    return batch


# Searched in a part's whole header block: the name parameter of its
# Content-Disposition (not filename=), and its media type without parameters.
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
