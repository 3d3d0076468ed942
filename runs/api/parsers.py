"""DRF parsers: the HTTP side of the wire decoders (size caps, encodings)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework import exceptions
from rest_framework.parsers import BaseParser

from runs.api.errors import PayloadTooLarge, UnsupportedEncoding
from runs.ingest import decoders
from runs.ingest.batch import Batch


def read_body(stream: Any, meta: dict[str, Any]) -> bytes:
    """Read the request body, refusing more than MAX_TRACE_SIZE_MB, and decode it."""
    limit = settings.MAX_TRACE_SIZE_BYTES
    try:
        declared = int(meta.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise PayloadTooLarge(
            f"Request body of {declared} bytes exceeds MAX_TRACE_SIZE_MB "
            f"({limit} bytes)."
        )
    body = stream.read(limit + 1) if stream is not None else b""
    if len(body) > limit:
        raise PayloadTooLarge(f"Request body exceeds {limit} bytes.")
    try:
        return decoders.decompress(
            body,
            meta.get("HTTP_CONTENT_ENCODING", ""),
            limit=settings.MAX_DECODED_SIZE_BYTES,
        )
    except decoders.DecodeError as exc:
        raise _as_api_error(exc) from None


def _as_api_error(exc: decoders.DecodeError) -> exceptions.APIException:
    if exc.status == 413:
        return PayloadTooLarge(str(exc))
    if exc.status == 415:
        return UnsupportedEncoding(str(exc))
    return exceptions.ParseError(str(exc))


class ORJSONParser(BaseParser):
    """Plain JSON bodies of the read and management routes."""

    media_type = "application/json"

    def parse(
        self, stream: Any, media_type: str | None = None, parser_context: Any = None
    ) -> Any:
        request = parser_context["request"]
        body = read_body(stream, request.META)
        if not body:
            return {}
        try:
            return decoders.loads(body, max_depth=settings.MAX_JSON_DEPTH)
        except decoders.DecodeError as exc:
            raise exceptions.ParseError(str(exc)) from None


class _IngestParser(BaseParser):
    def decode(self, body: bytes, media_type: str, context: Any) -> Batch:
        raise NotImplementedError

    def parse(
        self, stream: Any, media_type: str | None = None, parser_context: Any = None
    ) -> Batch:
        request = parser_context["request"]
        body = read_body(stream, request.META)
        try:
            return self.decode(body, media_type or "", parser_context)
        except decoders.DecodeError as exc:
            raise _as_api_error(exc) from None


class BatchJSONParser(_IngestParser):
    """``{"post": [...], "patch": [...]}`` for ``POST /runs/batch``."""

    media_type = "application/json"

    def decode(self, body: bytes, media_type: str, context: Any) -> Batch:
        return decoders.decode_batch_json(body, max_depth=settings.MAX_JSON_DEPTH)


class SingleRunJSONParser(_IngestParser):
    """One run object for ``POST /runs`` and ``PATCH /runs/{id}``."""

    media_type = "application/json"

    def decode(self, body: bytes, media_type: str, context: Any) -> Batch:
        request = context["request"]
        kind = "patch" if request.method == "PATCH" else "post"
        run_id = context.get("kwargs", {}).get("run_id")
        return decoders.decode_single(
            kind,
            body,
            run_id=str(run_id) if run_id else None,
            max_depth=settings.MAX_JSON_DEPTH,
        )


class MultipartRunsParser(_IngestParser):
    """LangSmith's ``multipart/form-data`` runs, plain or zstd/gzip encoded."""

    media_type = "multipart/form-data"

    def decode(self, body: bytes, media_type: str, context: Any) -> Batch:
        return decoders.decode_multipart(
            body, media_type, max_depth=settings.MAX_JSON_DEPTH
        )
