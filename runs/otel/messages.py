"""Chat messages of LLM spans, from every vocabulary, in OpenAI's message shape.

The dashboard renders ``{"role", "content", "tool_calls": [{"id", "type":
"function", "function": {"name", "arguments"}}], "tool_call_id"}`` for
LangChain runs; spans from OpenInference (``llm.input_messages.N.message.*``),
OpenLLMetry (``gen_ai.prompt.N.*``), the GenAI semantic conventions
(``gen_ai.input.messages`` JSON parts, or the older ``gen_ai.*.message`` and
``gen_ai.choice`` events) become the same shape. Keys a message carries that
have no OpenAI equivalent (``finish_reason``, ...) are kept on the message.
"""

from __future__ import annotations

from typing import Any

import orjson

Messages = list[dict[str, Any]]
_ROLES = {"human": "user", "ai": "assistant", "function": "tool", "model": "assistant"}


def parse_json(value: Any) -> Any:
    """A JSON-looking string decoded, anything else unchanged."""
    if isinstance(value, str) and value[:1] in ("{", "[", '"'):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return value


def _arguments(value: Any) -> str:
    if isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


def _role(value: Any) -> str:
    role = str(value or "").lower()
    return _ROLES.get(role, role)


def _tool_call(call_id: Any, name: Any, arguments: Any) -> dict[str, Any]:
    return {
        "id": call_id if call_id is None else str(call_id),
        "type": "function",
        "function": {"name": name, "arguments": _arguments(arguments or "")},
    }


# --- flattened attributes: llm.input_messages.0.message.role = "user" ---------


def _nest(flat: dict[str, Any]) -> dict[int, dict[str, Any]]:
    """``{"0.message.role": v}`` -> ``{0: {"message.role": v}}``."""
    out: dict[int, dict[str, Any]] = {}
    for key, value in flat.items():
        index, _, rest = key.partition(".")
        if index.isdigit() and rest:
            out.setdefault(int(index), {})[rest] = value
    return out


# Prefixes of flattened attributes, gathered in one pass over a span's keys.
PREFIXES = (
    "llm.input_messages.",
    "llm.output_messages.",
    "gen_ai.prompt.",
    "gen_ai.completion.",
    "traceloop.association.properties.",
    "langsmith.metadata.",
)


def group_prefixes(attrs: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The attributes under each of ``PREFIXES`` (full keys kept)."""
    groups: dict[str, dict[str, Any]] = {prefix: {} for prefix in PREFIXES}
    for key, value in attrs.items():
        if key.startswith(PREFIXES):
            for prefix in PREFIXES:
                if key.startswith(prefix):
                    groups[prefix][key] = value
                    break
    return groups


def flat_group(attrs: dict[str, Any], prefix: str, used: set[str]) -> dict[str, Any]:
    """Attributes under ``prefix`` with the prefix removed; marks them used."""
    if not attrs:
        return {}
    found = {k[len(prefix) :]: v for k, v in attrs.items() if k.startswith(prefix)}
    used.update(prefix + k for k in found)
    return found


def _flat_message(fields: dict[str, Any]) -> dict[str, Any]:
    fields = {k.removeprefix("message."): v for k, v in fields.items()}
    message: dict[str, Any] = {"role": _role(fields.pop("role", ""))}
    content = fields.pop("content", None)
    parts = _nest(
        {
            k[len("contents.") :]: v
            for k, v in fields.items()
            if k.startswith("contents.")
        }
    )
    calls = _nest(
        {
            k[len("tool_calls.") :]: v
            for k, v in fields.items()
            if k.startswith("tool_calls.")
        }
    )
    for key in [k for k in fields if k.startswith(("contents.", "tool_calls."))]:
        del fields[key]
    if parts:
        content = _content_parts(
            [
                {k.removeprefix("message_content."): v for k, v in parts[i].items()}
                for i in sorted(parts)
            ]
        )
    message["content"] = content
    if calls:
        message["tool_calls"] = [
            _flat_tool_call(calls[i]) for i in sorted(calls) if calls[i]
        ]
    if "function_call_name" in fields:
        message.setdefault("tool_calls", []).append(
            _tool_call(
                None,
                fields.pop("function_call_name"),
                fields.pop("function_call_arguments_json", ""),
            )
        )
    if "tool_call_id" in fields:
        message["tool_call_id"] = fields.pop("tool_call_id")
    message.update(fields)
    return message


def _flat_tool_call(fields: dict[str, Any]) -> dict[str, Any]:
    fields = {k.removeprefix("tool_call."): v for k, v in fields.items()}
    return _tool_call(
        fields.get("id"),
        fields.get("function.name", fields.get("name")),
        fields.get("function.arguments", fields.get("arguments", "")),
    )


def _content_parts(parts: list[dict[str, Any]]) -> Any:
    """Text-only content as one string; otherwise OpenAI content parts."""
    if all(p.get("type", "text") == "text" for p in parts):
        return "".join(str(p.get("text", p.get("content", ""))) for p in parts)
    out = []
    for part in parts:
        kind = part.get("type", "text")
        if kind == "text":
            out.append({"type": "text", "text": part.get("text", part.get("content"))})
        elif kind == "image" and "image.image.url" in part:
            out.append(
                {"type": "image_url", "image_url": {"url": part["image.image.url"]}}
            )
        else:
            out.append(part)
    return out


def flat_messages(attrs: dict[str, Any], prefix: str, used: set[str]) -> Messages:
    """OpenInference and OpenLLMetry indexed message attributes."""
    if not attrs:
        return []
    found = {}
    for key, value in attrs.items():
        if key.startswith(prefix):
            index, _, rest = key[len(prefix) :].partition(".")
            if index.isdigit() and rest:
                found[key[len(prefix) :]] = value
                used.add(key)
    nested = _nest(found)
    return [_flat_message(nested[i]) for i in sorted(nested)]


# --- GenAI semantic conventions: gen_ai.input.messages JSON ------------------


def genai_messages(value: Any) -> Messages | None:
    """``[{"role", "parts": [{"type": "text", "content"}, ...]}]`` to OpenAI."""
    value = parse_json(value)
    if not isinstance(value, list):
        return None
    out: Messages = []
    for raw in value:
        if not isinstance(raw, dict):
            return None
        if "parts" not in raw:
            out.append(_openai_message(raw))
            continue
        role = _role(raw.get("role"))
        message: dict[str, Any] = {"role": role}
        texts, calls, other = [], [], []
        responses = 0
        for part in raw.get("parts") or []:
            if not isinstance(part, dict):
                continue
            kind = part.get("type")
            if kind == "text":
                texts.append({"type": "text", "text": part.get("content")})
            elif kind == "tool_call":
                calls.append(
                    _tool_call(part.get("id"), part.get("name"), part.get("arguments"))
                )
            elif kind == "tool_call_response":
                responses += 1
                response = part.get("response")
                out.append(
                    {
                        "role": "tool",
                        "tool_call_id": part.get("id"),
                        "content": response
                        if isinstance(response, str)
                        else _arguments(response),
                    }
                )
            else:
                other.append(part)
        if responses and not (texts or calls or other):
            continue  # a message made only of tool responses was split above
        message["content"] = _content_parts(texts + other) if (texts or other) else ""
        if calls:
            message["tool_calls"] = calls
        for key, extra in raw.items():
            if key not in ("role", "parts"):
                message[key] = extra
        out.append(message)
    return out


def system_instructions(value: Any) -> dict[str, Any] | None:
    value = parse_json(value)
    if isinstance(value, str):
        return {"role": "system", "content": value}
    if isinstance(value, list):
        parts = [p for p in value if isinstance(p, dict)]
        return {"role": "system", "content": _content_parts(parts)}
    return None


def _openai_message(raw: dict[str, Any]) -> dict[str, Any]:
    """A message already close to OpenAI's shape (events, older JSON)."""
    message = dict(raw)
    message["role"] = _role(message.get("role"))
    message.setdefault("content", "")
    calls = parse_json(message.get("tool_calls"))
    if isinstance(calls, list):
        message["tool_calls"] = [_event_tool_call(c) for c in calls]
    elif "tool_calls" in message:
        del message["tool_calls"]
    return message


def _event_tool_call(call: Any) -> Any:
    if not isinstance(call, dict):
        return call
    function = call.get("function") if isinstance(call.get("function"), dict) else {}
    return _tool_call(
        call.get("id"),
        function.get("name", call.get("name")),
        function.get("arguments", call.get("arguments", "")),
    )


# --- GenAI events: gen_ai.user.message, gen_ai.choice, ... --------------------

_EVENT_ROLES = {
    "gen_ai.system.message": "system",
    "gen_ai.user.message": "user",
    "gen_ai.assistant.message": "assistant",
    "gen_ai.tool.message": "tool",
}


def _event_body(event: dict[str, Any]) -> dict[str, Any]:
    attrs = event["attributes"]
    body = parse_json(attrs.get("gen_ai.event.content"))
    if isinstance(body, dict):
        return body
    return {k: v for k, v in attrs.items() if not k.startswith("gen_ai.")}


def event_messages(events: list[dict[str, Any]]) -> tuple[Messages, Messages]:
    """(input messages, output messages) from GenAI span events."""
    inputs: Messages = []
    outputs: Messages = []
    for event in events:
        name = event["name"]
        if name in _EVENT_ROLES:
            body = _event_body(event)
            body.setdefault("role", _EVENT_ROLES[name])
            if name == "gen_ai.tool.message" and "id" in body:
                body["tool_call_id"] = body.pop("id")
            inputs.append(_openai_message(body))
        elif name == "gen_ai.choice":
            body = _event_body(event)
            message = parse_json(body.pop("message", None))
            message = dict(message) if isinstance(message, dict) else {}
            message.setdefault("role", "assistant")
            for key, value in body.items():
                message.setdefault(key, value)
            outputs.append(_openai_message(message))
        elif name == "gen_ai.content.prompt":
            found = genai_messages(event["attributes"].get("gen_ai.prompt"))
            inputs.extend(found or [])
        elif name == "gen_ai.content.completion":
            found = genai_messages(event["attributes"].get("gen_ai.completion"))
            outputs.extend(found or [])
    return inputs, outputs
