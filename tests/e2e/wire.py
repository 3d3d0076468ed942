"""Build LangSmith wire bodies the way the SDKs do, for tests that post by hand."""

from __future__ import annotations

import os
import time
import uuid
from typing import Any

import orjson
import zstandard

BOUNDARY = "114bc61a3148469497456716f475c76a"
MULTIPART_TYPE = f"multipart/form-data; boundary={BOUNDARY}"


def part(name: str, value: Any, content_type: str = "application/json") -> bytes:
    """One form-data part; ``value`` is JSON-encoded unless it is already bytes."""
    data = value if isinstance(value, bytes) else orjson.dumps(value)
    return (
        (
            f"--{BOUNDARY}\r\n"
            f'Content-Disposition: form-data; name="{name}"\r\n'
            f"Content-Type: {content_type}\r\n"
            f"Content-Length: {len(data)}\r\n\r\n"
        ).encode()
        + data
        + b"\r\n"
    )


def multipart(*parts: bytes) -> bytes:
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def zstd_stream(data: bytes) -> bytes:
    """One zstd frame without a content size, as the SDK's streaming compressor."""
    compressor = zstandard.ZstdCompressor(level=1).compressobj()
    return compressor.compress(data) + compressor.flush()


def uuid7(unix_ms: int | None = None) -> uuid.UUID:
    """A version-7 id (time-ordered), as langsmith >= 0.4 makes them."""
    ms = unix_ms if unix_ms is not None else time.time_ns() // 1_000_000
    value = (ms & (2**48 - 1)) << 80 | int.from_bytes(os.urandom(10)) & (2**80 - 1)
    value = value & ~(0xF << 76) | 0x7 << 76  # version 7
    value = value & ~(0x3 << 62) | 0x2 << 62  # RFC 4122 variant
    return uuid.UUID(int=value)
