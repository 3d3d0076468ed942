"""MCP resources: projects, traces and runs by URI, for clients that attach them.

``agentspy://projects/<name>`` reads a project's statistics and newest traces,
``agentspy://traces/<trace_id>`` the trace's run tree (as ``get_trace``) and
``agentspy://runs/<run_id>`` one run whole (as ``get_run``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, unquote

import orjson

from mcpserver import handlers
from mcpserver.tools import Caller, ToolError

SCHEME = "agentspy://"
MAX_LISTED = 100
TEMPLATES = [
    {
        "uriTemplate": f"{SCHEME}traces/{{trace_id}}",
        "name": "trace",
        "title": "A trace's run tree",
        "mimeType": "application/json",
    },
    {
        "uriTemplate": f"{SCHEME}runs/{{run_id}}",
        "name": "run",
        "title": "One run, whole",
        "mimeType": "application/json",
    },
    {
        "uriTemplate": f"{SCHEME}projects/{{name}}",
        "name": "project",
        "title": "A project's statistics and newest traces",
        "mimeType": "application/json",
    },
]


def listing(caller: Caller) -> list[dict[str, Any]]:
    names = handlers.visible_projects(caller).values_list("name", flat=True)
    return [
        {
            "uri": f"{SCHEME}projects/{quote(name, safe='')}",
            "name": name,
            "title": f"Project {name}",
            "mimeType": "application/json",
        }
        for name in names.order_by("name")[:MAX_LISTED]
    ]


def read(uri: str, caller: Caller) -> dict[str, Any] | None:
    """The contents of ``uri``, or None when it names nothing visible."""
    if not uri.startswith(SCHEME):
        return None
    kind, _, key = uri[len(SCHEME) :].partition("/")
    key = unquote(key)
    try:
        if kind == "projects" and key:
            if not handlers.visible_projects(caller).filter(name=key).exists():
                return None
            value = {
                "stats": handlers.get_stats({"project": key}, caller),
                "traces": handlers.search_traces({"project": key}, caller)["traces"],
            }
        elif kind == "traces" and key:
            value = handlers.get_trace({"trace_id": key}, caller)
        elif kind == "runs" and key:
            value = handlers.get_run({"run_id": key}, caller)
        else:
            return None
    except ToolError:
        return None
    return {
        "uri": uri,
        "mimeType": "application/json",
        "text": orjson.dumps(value, default=str).decode(),
    }
