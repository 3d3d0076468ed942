"""Read chat messages out of run inputs and outputs, whatever format sent them.

Understood: LangChain serialized messages (``{"lc": 1, "type": "constructor",
"id": [..., "HumanMessage"], "kwargs": {...}}``), LangChain message dicts
(``{"type": "human", "content": ...}``), OpenAI chat messages (``{"role": ...,
"content": ..., "tool_calls": [...]}``, also what OpenTelemetry LLM spans are
mapped to), LangChain ``generations`` outputs, OpenAI ``choices`` outputs and
completion-style ``prompts``. The result is plain data, read by the domain
(``runs.query.turn_text``) and shown by the trace page (``dashboard.chat``,
which decides which images a page may display).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

MAX_MESSAGES = 500
MAX_TEXT = 100_000

_LC_ROLES = {
    "HumanMessage": "user",
    "HumanMessageChunk": "user",
    "AIMessage": "assistant",
    "AIMessageChunk": "assistant",
    "SystemMessage": "system",
    "SystemMessageChunk": "system",
    "ToolMessage": "tool",
    "ToolMessageChunk": "tool",
    "FunctionMessage": "function",
    "FunctionMessageChunk": "function",
}
_TYPE_ROLES = {
    "human": "user",
    "ai": "assistant",
    "system": "system",
    "tool": "tool",
    "function": "function",
    "user": "user",
    "assistant": "assistant",
    "developer": "system",
}


@dataclass
class ToolCall:
    name: str
    arguments: str
    id: str = ""


@dataclass
class Part:
    kind: str  # "text", "image" or "json"
    text: str = ""
    url: str = ""  # an image's URL as sent: untrusted, any scheme


@dataclass
class Message:
    role: str
    parts: list[Part] = field(default_factory=list)
    name: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_call_id: str = ""


def _clip(text: str) -> str:
    if len(text) <= MAX_TEXT:
        return text
    return text[:MAX_TEXT] + f"\n… ({len(text) - MAX_TEXT:,} more characters)"


def _pretty(value: Any) -> str:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return _clip(value)
    return _clip(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def _parts(content: Any) -> tuple[list[Part], list[ToolCall]]:
    """Text/image parts and any tool calls embedded in a content value."""
    if content is None or content == "":
        return [], []
    if isinstance(content, str):
        return [Part("text", _clip(content))], []
    if not isinstance(content, list):
        return [Part("json", _pretty(content))], []
    parts: list[Part] = []
    calls: list[ToolCall] = []
    for item in content:
        if isinstance(item, str):
            parts.append(Part("text", _clip(item)))
            continue
        kind = item.get("type") if isinstance(item, dict) else None
        if kind in ("text", "input_text", "output_text") and isinstance(
            item.get("text"), str
        ):
            parts.append(Part("text", _clip(item["text"])))
        elif kind == "image_url":
            image = item.get("image_url")
            url = image.get("url") if isinstance(image, dict) else image
            parts.append(Part("image", url=url if isinstance(url, str) else ""))
        elif kind == "tool_use":
            calls.append(
                ToolCall(
                    str(item.get("name", "")),
                    _pretty(item.get("input")),
                    str(item.get("id", "")),
                )
            )
        else:
            parts.append(Part("json", _pretty(item)))
    return parts, calls


def _tool_calls(fields: dict[str, Any]) -> list[ToolCall]:
    calls = fields.get("tool_calls")
    extra = fields.get("additional_kwargs")
    if not calls and isinstance(extra, dict):
        calls = extra.get("tool_calls")
        if not calls and isinstance(extra.get("function_call"), dict):
            calls = [{"function": extra["function_call"]}]
    if not calls and isinstance(fields.get("function_call"), dict):
        calls = [{"function": fields["function_call"]}]
    result = []
    for call in calls if isinstance(calls, list) else []:
        if not isinstance(call, dict):
            continue
        function = call.get("function")
        if isinstance(function, dict):  # OpenAI shape
            name, arguments = function.get("name", ""), function.get("arguments")
        else:  # LangChain shape
            name, arguments = call.get("name", ""), call.get("args")
        result.append(
            ToolCall(str(name), _pretty(arguments), str(call.get("id") or ""))
        )
    return result


def to_message(value: Any) -> Message | None:
    """One message from any known shape, or None if it is not a message."""
    if not isinstance(value, dict):
        return None
    if value.get("lc") == 1 and isinstance(value.get("kwargs"), dict):
        ident = value.get("id")
        class_name = ident[-1] if isinstance(ident, list) and ident else ""
        fields = value["kwargs"]
        role = _LC_ROLES.get(class_name) or str(fields.get("role") or class_name)
    elif isinstance(value.get("role"), str):
        fields, role = value, _TYPE_ROLES.get(value["role"], value["role"])
    elif isinstance(value.get("type"), str) and value["type"] in _TYPE_ROLES:
        fields, role = value, _TYPE_ROLES[value["type"]]
    else:
        return None
    if not role or ("content" not in fields and "tool_calls" not in fields):
        return None
    parts, embedded_calls = _parts(fields.get("content"))
    return Message(
        role=role,
        parts=parts,
        name=str(fields.get("name") or ""),
        tool_calls=_tool_calls(fields) or embedded_calls,
        tool_call_id=str(fields.get("tool_call_id") or ""),
    )


def _message_list(values: Any) -> list[Message] | None:
    if not isinstance(values, list) or not values:
        return None
    # LangChain chat models receive a batch: a list of message lists.
    if all(isinstance(v, list) for v in values):
        values = [m for group in values for m in group]
    messages = []
    for value in values[:MAX_MESSAGES]:
        if isinstance(value, str):
            return None  # a list of plain strings is data, not a conversation
        message = to_message(value)
        if message is None:
            return None
        messages.append(message)
    return messages or None


def input_messages(inputs: Any) -> list[Message] | None:
    """The conversation a run was given, or None if its inputs are not one."""
    if not isinstance(inputs, dict):
        return None
    if "messages" in inputs:
        return _message_list(inputs["messages"])
    prompts = inputs.get("prompts")
    if (
        isinstance(prompts, list)
        and prompts
        and all(isinstance(p, str) for p in prompts)
    ):
        return [Message("user", [Part("text", _clip(p))]) for p in prompts]
    return None


def output_messages(outputs: Any) -> list[Message] | None:
    """What a model answered, or None if the outputs are not messages."""
    if not isinstance(outputs, dict):
        return None
    generations = outputs.get("generations")
    if isinstance(generations, list) and generations:
        messages = []
        for group in generations:
            for gen in group if isinstance(group, list) else [group]:
                if not isinstance(gen, dict):
                    continue
                message = to_message(gen.get("message")) if gen.get("message") else None
                if message is None and isinstance(gen.get("text"), str):
                    message = Message("assistant", [Part("text", _clip(gen["text"]))])
                if message is not None:
                    messages.append(message)
        return messages or None
    choices = outputs.get("choices")
    if isinstance(choices, list) and choices:
        found = [to_message(c.get("message")) for c in choices if isinstance(c, dict)]
        return [m for m in found if m is not None] or None
    if "messages" in outputs:
        return _message_list(outputs["messages"])
    for key in ("output", "message"):
        if isinstance(outputs.get(key), dict):
            message = to_message(outputs[key])
            if message is not None:
                return [message]
    message = to_message(outputs)
    return [message] if message is not None else None
