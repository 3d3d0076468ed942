"""Files for export and import: plain, gzip or zstd by the name's ending; ``-``
means stdin/stdout."""

from __future__ import annotations

import contextlib
import gzip
import io
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import zstandard


def compression_of(name: str) -> str | None:
    lowered = name.lower()
    if lowered.endswith(".gz"):
        return "gzip"
    if lowered.endswith(".zst"):
        return "zstd"
    return None


@contextlib.contextmanager
def open_for_writing(name: str) -> Iterator[BinaryIO]:
    """A binary stream writing (and compressing) to ``name``."""
    kind = compression_of(name)
    with open(Path(name), "wb") as raw:
        if kind == "gzip":
            with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6) as out:
                yield out
        elif kind == "zstd":
            with zstandard.ZstdCompressor(level=3).stream_writer(
                raw, closefd=False
            ) as out:
                yield out
        else:
            yield raw


@contextlib.contextmanager
def open_for_reading(name: str) -> Iterator[BinaryIO]:
    """A binary stream of ``name``'s (decompressed) bytes; ``-`` is stdin."""
    if name == "-":
        yield sys.stdin.buffer
        return
    kind = compression_of(name)
    with open(Path(name), "rb") as raw:
        if kind == "gzip":
            with gzip.GzipFile(fileobj=raw, mode="rb") as stream:
                yield stream
        elif kind == "zstd":
            reader = zstandard.ZstdDecompressor().stream_reader(raw, closefd=False)
            with io.BufferedReader(reader) as stream:
                yield stream
        else:
            yield raw
