"""The MCP tools: one declaration per tool gives its schema and its validation.

Every tool is read-only. Arguments are checked against the tool's JSON schema
before its handler runs; a bad argument, an unknown id or a filter the query
layer refuses comes back as a tool result with ``isError`` (the model reads
the message and can correct itself), never as a transport failure.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from jsonschema import Draft202012Validator

from runs.query.filters import SINCE

logger = logging.getLogger(__name__)


class ToolError(Exception):
    """A message for the model: what was wrong and how to ask instead."""


@dataclass(frozen=True)
class Caller:
    """Who calls: the project a scoped API key is limited to (None: every one)."""

    project: str | None = None


@dataclass(frozen=True)
class Tool:
    name: str
    title: str
    description: str
    input_schema: dict[str, Any]
    handler: Callable[[dict[str, Any], Caller], dict[str, Any]]

    def definition(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "inputSchema": self.input_schema,
            "annotations": {
                "title": self.title,
                "readOnlyHint": True,
                "destructiveHint": False,
                "idempotentHint": True,
                "openWorldHint": False,
            },
        }


REGISTRY: dict[str, Tool] = {}
_VALIDATORS: dict[str, Draft202012Validator] = {}

SINCE_SCHEMA = {
    "type": "string",
    "enum": list(SINCE),
    "description": "Only runs started within this window before now.",
}


def tool(
    name: str, *, title: str, description: str, properties: dict[str, Any]
) -> Callable[[Callable], Callable]:
    """Register a handler ``f(arguments, caller) -> dict`` as a tool."""
    schema = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    Draft202012Validator.check_schema(schema)

    def register(handler: Callable) -> Callable:
        REGISTRY[name] = Tool(name, title, description, schema, handler)
        _VALIDATORS[name] = Draft202012Validator(schema)
        return handler

    return register


def definitions() -> list[dict[str, Any]]:
    return [t.definition() for t in REGISTRY.values()]


def _argument_error(name: str, arguments: dict[str, Any]) -> str | None:
    errors = sorted(
        _VALIDATORS[name].iter_errors(arguments), key=lambda e: list(e.path)
    )
    if not errors:
        return None
    first = errors[0]
    where = ".".join(str(p) for p in first.path) or "arguments"
    return f"Invalid argument {where}: {first.message}"


def call(name: str, arguments: dict[str, Any], caller: Caller) -> dict[str, Any]:
    """A ``tools/call`` result: the handler's answer as JSON text, or an error."""
    problem = _argument_error(name, arguments)
    if problem is None:
        try:
            result = REGISTRY[name].handler(arguments, caller)
        except ToolError as error:
            problem = str(error)
        except Exception:  # a bug is reported to the model, not as a 5xx
            logger.exception("MCP tool %s failed", name)
            problem = f"{name} failed with an internal error; see the server log."
    if problem is not None:
        return {"content": [{"type": "text", "text": problem}], "isError": True}
    # One text block of compact JSON and no ``structuredContent`` copy: the
    # model reads the text, and a second copy would double every answer.
    text = orjson.dumps(result, default=str).decode()
    return {"content": [{"type": "text", "text": text}], "isError": False}
