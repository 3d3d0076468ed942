"""JSON-RPC 2.0 dispatch for the Model Context Protocol (handshake era).

Stateless: nothing is kept between requests, so any worker of the production
server answers any request of a session. ``initialize`` negotiates a protocol
revision and every later request stands on its own (the client repeats the
revision in the ``MCP-Protocol-Version`` header, checked by the transport).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import agentspy
from mcpserver import resources, tools
from mcpserver.tools import Caller

# Revisions reachable through the initialize handshake, oldest first.
PROTOCOL_VERSIONS = ("2025-03-26", "2025-06-18", "2025-11-25")
LATEST = PROTOCOL_VERSIONS[-1]

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602

INSTRUCTIONS = (
    "Agent Spy stores traces of LLM applications (LangSmith and OpenTelemetry). "
    "Start with search_traces (newest first; filter by project, status, time "
    "window or text) or get_stats, open a trace with get_trace, and read one "
    "run's whole inputs and outputs with get_run."
)


@dataclass
class RpcError(Exception):
    code: int
    message: str
    data: Any = None

    def as_dict(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error


def error_response(request_id: Any, error: RpcError) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "error": error.as_dict()}


def is_request(message: Any) -> bool:
    """A JSON-RPC request expects an answer; notifications and responses do not."""
    return isinstance(message, dict) and "method" in message and "id" in message


def validate(message: Any) -> None:
    if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
        raise RpcError(INVALID_REQUEST, "Not a JSON-RPC 2.0 message.")
    has_method = isinstance(message.get("method"), str)
    is_response = "result" in message or "error" in message
    if not has_method and not is_response:
        raise RpcError(INVALID_REQUEST, "A JSON-RPC message needs a method.")
    request_id = message.get("id")
    if request_id is not None and (
        isinstance(request_id, bool) or not isinstance(request_id, str | int)
    ):
        raise RpcError(INVALID_REQUEST, "A request id is a string or an integer.")
    params = message.get("params")
    if params is not None and not isinstance(params, dict):
        raise RpcError(INVALID_PARAMS, "params must be an object.")


KNOWN_METHODS = {
    "initialize",
    "ping",
    "tools/list",
    "tools/call",
    "resources/list",
    "resources/templates/list",
    "resources/read",
    "prompts/list",
}


def is_known(method: str) -> bool:
    return method in KNOWN_METHODS


def handle(message: dict[str, Any], caller: Caller) -> dict[str, Any]:
    """The response to one JSON-RPC request (never raises for bad input)."""
    request_id = message.get("id")
    try:
        result = _dispatch(message["method"], message.get("params") or {}, caller)
    except RpcError as error:
        return error_response(request_id, error)
    return {"jsonrpc": "2.0", "id": request_id, "result": result}


def _dispatch(method: str, params: dict[str, Any], caller: Caller) -> dict[str, Any]:
    if method == "initialize":
        return _initialize(params)
    if method == "ping":
        return {}
    if method == "tools/list":
        return {"tools": tools.definitions()}
    if method == "tools/call":
        name = params.get("name")
        arguments = params.get("arguments") or {}
        if not isinstance(name, str) or name not in tools.REGISTRY:
            raise RpcError(INVALID_PARAMS, f"Unknown tool: {name!r}.")
        if not isinstance(arguments, dict):
            raise RpcError(INVALID_PARAMS, "Tool arguments must be an object.")
        return tools.call(name, arguments, caller)
    if method == "resources/list":
        return {"resources": resources.listing(caller)}
    if method == "resources/templates/list":
        return {"resourceTemplates": resources.TEMPLATES}
    if method == "resources/read":
        uri = params.get("uri")
        if not isinstance(uri, str):
            raise RpcError(INVALID_PARAMS, "resources/read needs a uri.")
        contents = resources.read(uri, caller)
        if contents is None:
            raise RpcError(-32002, f"Resource not found: {uri}", {"uri": uri})
        return {"contents": [contents]}
    if method == "prompts/list":
        return {"prompts": []}
    raise RpcError(METHOD_NOT_FOUND, f"Method not found: {method}")


def _initialize(params: dict[str, Any]) -> dict[str, Any]:
    requested = params.get("protocolVersion")
    version = requested if requested in PROTOCOL_VERSIONS else LATEST
    return {
        "protocolVersion": version,
        "capabilities": {
            "tools": {"listChanged": False},
            "resources": {"listChanged": False, "subscribe": False},
            "prompts": {"listChanged": False},
        },
        "serverInfo": {
            "name": "agent-spy",
            "title": "Agent Spy",
            "version": agentspy.__version__,
        },
        "instructions": INSTRUCTIONS,
    }
