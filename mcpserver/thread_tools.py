"""MCP tools for conversations: a project's threads, and one thread turn by turn.

A thread is the traces of one project sharing the metadata key ``thread_id``,
``session_id`` or ``conversation_id``; both tools read the thread rollups
(``runs.query.threads``), so a page costs the same at any store size.
"""

from __future__ import annotations

from typing import Any

from mcpserver.compact import clip
from mcpserver.handlers import visible_projects
from mcpserver.tools import SINCE_SCHEMA, Caller, ToolError, tool
from runs.models import Project, Run
from runs.query import threads as q
from runs.query.filters import SINCE
from runs.query.turn_text import final_answer, user_input

TEXT_CHARS = 300


def _project(name: str, caller: Caller) -> Project:
    project = visible_projects(caller).filter(name=name).first()
    if project is None:
        raise ToolError(f"No project {name!r} (list_projects names them).")
    return project


def _cursor_error(exc: Exception) -> ToolError:
    return ToolError(f"Invalid cursor: {exc}")


@tool(
    "list_threads",
    title="List conversation threads",
    description="A project's conversation threads (traces sharing a thread_id, "
    "session_id or conversation_id metadata value), latest activity first, with "
    "turns, errors, latency, tokens and cost (total_cost in USD: null when no run "
    "was priced, never $0). Page with `cursor` = `next_cursor`.",
    properties={
        "project": {"type": "string", "maxLength": 255},
        "search": {"type": "string", "maxLength": 255, "description": "In thread ids."},
        "has_errors": {"type": "boolean"},
        "since": SINCE_SCHEMA,
        "limit": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
        "cursor": {"type": "string", "maxLength": 500},
    },
)
def list_threads(arguments: dict[str, Any], caller: Caller) -> dict[str, Any]:
    if "project" not in arguments:
        raise ToolError("project is required (list_projects names them).")
    project = _project(arguments["project"], caller)
    where = q.ThreadFilter(
        search=arguments.get("search", ""), errors=arguments.get("has_errors")
    )
    if arguments.get("since"):
        from django.utils import timezone

        where.active_after = timezone.now() - SINCE[arguments["since"]]
    try:
        page = q.list_threads(
            project.id,
            where=where,
            cursor=arguments.get("cursor"),
            limit=arguments.get("limit", 20),
        )
    except q.BadCursor as exc:
        raise _cursor_error(exc) from None
    return {
        "project": project.name,
        "threads": [
            {
                "thread_id": row.thread_id,
                "turns": row.turns,
                "error_turns": row.error_turns,
                "first_start": row.first_start.isoformat(),
                "last_start": row.last_start.isoformat(),
                "latency_ms": row.latency_ms,
                "total_tokens": row.total_tokens,
                "total_cost": row.total_cost,
            }
            for row in page.items
        ],
        "next_cursor": page.next_cursor,
    }


@tool(
    "get_thread",
    title="Get a conversation thread",
    description="One thread turn by turn, oldest first: each turn's user input "
    "and final answer (clipped), status, latency, tokens, cost (null when no run "
    "was priced) and trace id (open it with get_trace). Page with `cursor` = "
    "`next_cursor`.",
    properties={
        "project": {"type": "string", "maxLength": 255},
        "thread_id": {"type": "string", "maxLength": 255},
        "limit": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
        "cursor": {"type": "string", "maxLength": 500},
    },
)
def get_thread(arguments: dict[str, Any], caller: Caller) -> dict[str, Any]:
    for name in ("project", "thread_id"):
        if name not in arguments:
            raise ToolError(f"{name} is required (list_threads names threads).")
    project = _project(arguments["project"], caller)
    thread = q.get_thread(project.id, arguments["thread_id"])
    if thread is None:
        raise ToolError(f"No thread {arguments['thread_id']!r} in {project.name!r}.")
    try:
        page = q.list_turns(
            project.id,
            thread.thread_id,
            cursor=arguments.get("cursor"),
            limit=arguments.get("limit", 20),
        )
    except q.BadCursor as exc:
        raise _cursor_error(exc) from None
    roots = {
        row["id"]: row
        for row in Run.objects.filter(id__in=[t.root_id for t in page.items]).values(
            "id", "inputs", "outputs", "error"
        )
    }
    turns = []
    for turn in page.items:
        root = roots.get(turn.root_id, {})
        turns.append(
            {
                "trace_id": str(turn.trace_id),
                "start_time": turn.start_time.isoformat() if turn.start_time else None,
                "status": turn.status,
                "error_runs": turn.error_runs,
                "latency_ms": turn.latency_ms,
                "total_tokens": turn.total_tokens,
                "total_cost": turn.total_cost,
                "user": clip(user_input(root.get("inputs")), TEXT_CHARS),
                "answer": clip(final_answer(root.get("outputs")), TEXT_CHARS),
                "error": clip(root.get("error"), TEXT_CHARS),
            }
        )
    return {
        "project": project.name,
        "thread_id": thread.thread_id,
        "turns_total": thread.turns,
        "error_turns": thread.error_turns,
        "total_cost": thread.total_cost,
        "turns": turns,
        "next_cursor": page.next_cursor,
    }
