"""Short, readable forms of run content for a language model's context."""

from __future__ import annotations

from typing import Any

import orjson


def text_of(value: Any) -> str:
    """A body as compact text: strings as they are, anything else as JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", "replace")
    return orjson.dumps(value, default=str).decode()


def clip(text: str | None, limit: int) -> str | None:
    """``text`` cut to ``limit`` characters, saying how much was left out."""
    if text is None:
        return None
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [+{len(text) - limit} chars]"


def preview(value: Any, limit: int) -> str | None:
    if value is None or limit <= 0:
        return None
    text = text_of(value)
    return clip(text, limit) if text else None


def size_of(value: Any) -> int:
    return len(orjson.dumps(value, default=str))
