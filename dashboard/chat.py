"""The chat the trace page shows: the messages ``runs.messages`` reads, with
only the images a page may display inline.

Only raster data URLs are shown as images: an SVG can carry script and a
remote URL would leak the viewer's address (the CSP blocks those anyway).
Any other image is named as text, its URL cut short.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from runs.messages import Message, Part, input_messages, output_messages

_SAFE_DATA_IMAGE = re.compile(
    r"^data:image/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=]+$"
)
URL_CHARS = 200


def _shown(part: Part) -> Part:
    if part.kind != "image" or _SAFE_DATA_IMAGE.match(part.url):
        return part
    return Part("text", f"[image: {part.url[:URL_CHARS]}]")


def _for_page(messages: list[Message] | None) -> list[Message] | None:
    if messages is None:
        return None
    return [replace(m, parts=[_shown(p) for p in m.parts]) for m in messages]


def input_chat(inputs: Any) -> list[Message] | None:
    """The conversation a run was given, as the page shows it."""
    return _for_page(input_messages(inputs))


def output_chat(outputs: Any) -> list[Message] | None:
    """What a model answered, as the page shows it."""
    return _for_page(output_messages(outputs))
