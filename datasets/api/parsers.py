"""Multipart bodies of the dataset routes, as (name, content type, bytes) parts."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions
from rest_framework.parsers import BaseParser

from runs.api.parsers import read_body
from runs.ingest import decoders


class MultipartPartsParser(BaseParser):
    """The parts of a ``multipart/form-data`` body, under the size caps."""

    media_type = "multipart/form-data"

    def parse(
        self, stream: Any, media_type: str | None = None, parser_context: Any = None
    ) -> list[tuple[str, str, bytes]]:
        request = parser_context["request"]
        body = read_body(stream, request.META)
        try:
            return list(decoders.iter_parts(body, media_type or ""))
        except decoders.DecodeError as exc:
            raise exceptions.ParseError(str(exc)) from None
