"""A turn of a conversation as text: what the user said and what was answered.

The user's input is the last human message of a chat input, else the input
text; the final answer is the last AI message, else the output text. Message
formats are read by ``runs.messages``, so the API and the pages agree on a
turn's text. Images are not text: a turn of only an image reads as empty.
"""

from __future__ import annotations

import json
from typing import Any

from runs.messages import Message, input_messages, output_messages

TEXT_KEYS = ("input", "question", "query", "prompt", "text", "message", "content")
ANSWER_KEYS = ("output", "answer", "result", "response", "text", "content")


def _message_text(message: Message) -> str:
    texts = [part.text for part in message.parts if part.kind in ("text", "json")]
    return "\n".join(t for t in texts if t)


def _plain(value: Any, keys: tuple[str, ...]) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        for key in keys:
            if isinstance(value.get(key), str):
                return value[key]
        strings = [v for v in value.values() if isinstance(v, str)]
        if len(value) == 1 and strings:
            return strings[0]
    return json.dumps(value, ensure_ascii=False, default=str)


def user_input(inputs: Any) -> str:
    messages = input_messages(inputs) or []
    for message in reversed(messages):
        if message.role == "user":
            return _message_text(message)
    return _plain(inputs, TEXT_KEYS)


def final_answer(outputs: Any) -> str:
    messages = output_messages(outputs) or []
    for message in reversed(messages):
        if message.role == "assistant":
            text = _message_text(message)
            if text:
                return text
    return _plain(outputs, ANSWER_KEYS)


def preview(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
