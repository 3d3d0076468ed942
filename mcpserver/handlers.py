"""What each MCP tool does: reads through the query layer, answers compactly.

Trace ids are the ids the dashboard and API use (``/traces/<trace_id>``; for a
LangSmith trace, its root run's id). Listings and trees leave bodies out or
clip them and say how to get more; ``get_run`` returns bodies whole.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

from django.db.models import Count, QuerySet
from django.utils import timezone

from mcpserver.compact import clip, preview, size_of, text_of
from mcpserver.tools import SINCE_SCHEMA, Caller, ToolError, tool
from runs.models import Project, Run
from runs.query import stats, trees
from runs.query.filters import SINCE, InvalidFilter, StatsFilter, filter_runs
from runs.query.roots import root_runs, trace_aggregates

ERROR_CHARS = 300
TOP_ERRORS = 5


def visible_runs(caller: Caller) -> QuerySet:
    runs = Run.objects.all()
    return runs.filter(project__name=caller.project) if caller.project else runs


def visible_projects(caller: Caller) -> QuerySet:
    projects = Project.objects.all()
    return projects.filter(name=caller.project) if caller.project else projects


def _uuid(value: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ToolError(f"{what} {value!r} is not a UUID.") from None


def _filter_params(arguments: dict[str, Any], names: tuple[str, ...]) -> dict:
    params: dict[str, str] = {}
    for name in names:
        value = arguments.get(name)
        if value is None:
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, list):
            value = ",".join(value)
        params[name] = str(value)
    if "query" in arguments:
        params["search"] = arguments["query"]
    return params


def _filtered(params: dict[str, str], queryset: QuerySet) -> QuerySet:
    try:
        return filter_runs(params, queryset)
    except InvalidFilter as error:
        raise ToolError(f"Invalid filter: {error}") from None


@tool(
    "list_projects",
    title="List projects",
    description="Every project with its run, trace and error counts and last "
    "activity, most recently active first.",
    properties={},
)
def list_projects(arguments: dict[str, Any], caller: Caller) -> dict[str, Any]:
    projects = stats.project_stats(visible_projects(caller))
    keep = ("name", "run_count", "trace_count", "error_rate", "last_run_start_time")
    return {"projects": [{k: p[k] for k in keep} for p in projects]}


SEARCH_FILTERS = (
    "project",
    "status",
    "has_error",
    "since",
    "start_time_gte",
    "start_time_lte",
    "model",
    "tags",
    "min_latency_ms",
    "max_latency_ms",
    "filter",
    "trace_filter",
    "tree_filter",
)


@tool(
    "search_traces",
    title="Search traces",
    description="Traces (one row per trace, newest first) matching every given "
    "filter; all arguments are optional. `query` finds text anywhere in a "
    "trace's names, inputs, outputs and errors. Page with `offset`.",
    properties={
        "query": {"type": "string", "maxLength": 500},
        "project": {"type": "string", "maxLength": 255},
        "status": {
            "type": "string",
            "enum": ["running", "success", "error"],
            "description": "Status of the trace's root run.",
        },
        "has_error": {
            "type": "boolean",
            "description": "Traces in which any run failed (or none did).",
        },
        "since": SINCE_SCHEMA,
        "start_time_gte": {"type": "string", "format": "date-time"},
        "start_time_lte": {"type": "string", "format": "date-time"},
        "model": {"type": "string", "maxLength": 255},
        "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 20},
        "min_latency_ms": {"type": "number", "minimum": 0},
        "max_latency_ms": {"type": "number", "minimum": 0},
        "filter": {
            "type": "string",
            "maxLength": 10000,
            "description": "LangSmith filter language on the trace's root run, "
            'e.g. and(eq(run_type, "chain"), gt(latency, 5)).',
        },
        "trace_filter": {
            "type": "string",
            "maxLength": 10000,
            "description": "Filter language on the trace's root run.",
        },
        "tree_filter": {
            "type": "string",
            "maxLength": 10000,
            "description": "Filter language matching any run of the trace, e.g. "
            'eq(name, "send_email").',
        },
        "limit": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
        "offset": {"type": "integer", "minimum": 0, "maximum": 10000, "default": 0},
    },
)
def search_traces(arguments: dict[str, Any], caller: Caller) -> dict[str, Any]:
    limit = arguments.get("limit", 20)
    offset = arguments.get("offset", 0)
    params = _filter_params(arguments, SEARCH_FILTERS)
    page = root_runs(
        _filtered(params, visible_runs(caller)),
        limit=limit,
        offset=offset,
        visible=visible_runs(caller),
    )
    traces = [
        {
            "trace_id": row["trace_id"],
            "name": row["name"],
            "project": row["project_name"],
            "status": row["status"],
            "start_time": row["start_time"],
            "latency_ms": row["duration_ms"],
            "runs": row["run_count"],
            "errors": row["error_count"],
            "total_tokens": row["trace_total_tokens"],
            "total_cost": row["total_cost"],
            "unpriced_llm_runs": row["trace_unpriced_runs"],
            "error": clip(row["error"], ERROR_CHARS),
            "tags": row["tags"],
        }
        for row in page.runs
    ]
    return {
        "traces": traces,
        "total": page.total,
        "total_is_lower_bound": page.total_capped,
        "next_offset": offset + len(traces) if page.has_more else None,
    }


def _trace_tree(trace_id: uuid.UUID, caller: Caller) -> dict[str, Any] | None:
    runs = visible_runs(caller)
    # A trace id names its root (or, for OTel traces, no run); a run id is
    # accepted too and opens the trace holding that run.
    anchor = (
        runs.filter(trace_id=trace_id)
        .order_by("dotted_order", "start_time")
        .values_list("id", flat=True)
        .first()
    ) or trace_id
    return trees.trace_tree(anchor, light=True, queryset=runs)


def _flatten(root: dict[str, Any]) -> list[dict[str, Any]]:
    out, stack = [], [root]
    while stack:
        node = stack.pop()
        out.append(node)
        stack.extend(reversed(node["children"] or ()))
    return out


@tool(
    "get_trace",
    title="Get a trace",
    description="The run tree of one trace, depth-first: each run's name, type, "
    "status, latency, tokens, model, error and clipped inputs/outputs. The "
    "answer stays small: it holds `max_bytes` of runs at most and gives "
    "`next_offset` for the rest; use get_run for one run's whole bodies.",
    properties={
        "trace_id": {"type": "string", "description": "A trace id or a run id."},
        "offset": {"type": "integer", "minimum": 0, "default": 0},
        "limit": {"type": "integer", "minimum": 1, "maximum": 500, "default": 100},
        "preview_chars": {
            "type": "integer",
            "minimum": 0,
            "maximum": 5000,
            "default": 200,
            "description": "Characters of each run's inputs and outputs shown.",
        },
        "max_bytes": {
            "type": "integer",
            "minimum": 2000,
            "maximum": 200000,
            "default": 16000,
        },
    },
)
def get_trace(arguments: dict[str, Any], caller: Caller) -> dict[str, Any]:
    if "trace_id" not in arguments:
        raise ToolError("trace_id is required.")
    trace_id = _uuid(arguments["trace_id"], "trace_id")
    offset = arguments.get("offset", 0)
    limit = arguments.get("limit", 100)
    chars = arguments.get("preview_chars", 200)
    budget = arguments.get("max_bytes", 16000)
    tree = _trace_tree(trace_id, caller)
    if tree is None:
        raise ToolError(f"No trace or run {trace_id} (search_traces lists them).")
    nodes = _flatten(tree["hierarchy"])
    page = nodes[offset : offset + limit]
    bodies = {
        str(row["id"]): row
        for row in visible_runs(caller)
        .filter(id__in=[n["id"] for n in page])
        .values("id", "inputs", "outputs")
    }
    root = tree["hierarchy"]
    agg = trace_aggregates([uuid.UUID(tree["trace_id"])], visible_runs(caller)).get(
        uuid.UUID(tree["trace_id"]), {}
    )
    answer: dict[str, Any] = {
        "trace_id": tree["trace_id"],
        "name": root["name"],
        "status": root["status"],
        "start_time": root["start_time"],
        "latency_ms": root["duration_ms"],
        "total_runs": tree["total_runs"],
        "errors": agg.get("error_count", 0),
        "total_tokens": agg.get("trace_total_tokens", 0),
        "total_cost": agg.get("trace_total_cost"),
        "runs": [],
        "next_offset": None,
    }
    used = size_of(answer) + 200
    for index, node in enumerate(page):
        body = bodies.get(node["id"], {})
        entry = {
            "id": node["id"],
            "parent_id": node["parent_run_id"],
            "depth": node["depth"],
            "name": node["name"],
            "run_type": node["run_type"],
            "status": node["status"],
            "latency_ms": node["duration_ms"],
            "model": node["model_name"],
            "total_tokens": node["total_tokens"],
            "total_cost": node.get("total_cost"),
            "error": clip(node["error"], ERROR_CHARS),
            "inputs": preview(body.get("inputs"), chars),
            "outputs": preview(body.get("outputs"), chars),
        }
        entry = {k: v for k, v in entry.items() if v not in (None, 0) or k == "depth"}
        used += size_of(entry) + 1
        if used > budget and answer["runs"]:
            answer["next_offset"] = offset + index
            break
        answer["runs"].append(entry)
    else:
        if offset + len(page) < len(nodes):
            answer["next_offset"] = offset + len(page)
    if answer["next_offset"] is not None:
        answer["more"] = (
            f"{len(nodes) - answer['next_offset']} more runs: call get_trace "
            f"with offset={answer['next_offset']}."
        )
    return answer


RUN_FIELDS = (
    "id",
    "trace_id",
    "parent_id",
    "name",
    "run_type",
    "status",
    "start_time",
    "end_time",
    "error",
    "tags",
    "model_name",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "prompt_cost",
    "completion_cost",
    "total_cost",
    "inputs",
    "outputs",
    "extra",
    "events",
    "project__name",
)


@tool(
    "get_run",
    title="Get a run",
    description="One run whole: inputs, outputs, error, metadata, events, tokens, "
    "model and timing. A run larger than `max_chars` comes in pages of its JSON "
    "text: call again with `offset` = the returned `next_offset`.",
    properties={
        "run_id": {"type": "string"},
        "offset": {"type": "integer", "minimum": 0, "default": 0},
        "max_chars": {
            "type": "integer",
            "minimum": 1000,
            "maximum": 1000000,
            "default": 200000,
        },
    },
)
def get_run(arguments: dict[str, Any], caller: Caller) -> dict[str, Any]:
    if "run_id" not in arguments:
        raise ToolError("run_id is required.")
    run_id = _uuid(arguments["run_id"], "run_id")
    row = visible_runs(caller).filter(id=run_id).values(*RUN_FIELDS).first()
    if row is None:
        raise ToolError(f"No run {run_id}.")
    start, end = row["start_time"], row["end_time"]
    extra = row.pop("extra") or {}
    run = {
        "id": str(row["id"]),
        "trace_id": str(row["trace_id"]),
        "parent_run_id": str(row["parent_id"]) if row["parent_id"] else None,
        "project": row.pop("project__name"),
        "name": row["name"],
        "run_type": row["run_type"],
        "status": row["status"],
        "start_time": start.isoformat(),
        "end_time": end.isoformat() if end else None,
        "latency_ms": (end - start).total_seconds() * 1000 if end else None,
        "error": row["error"],
        "model": row["model_name"] or None,
        "prompt_tokens": row["prompt_tokens"],
        "completion_tokens": row["completion_tokens"],
        "total_tokens": row["total_tokens"],
        "prompt_cost": row["prompt_cost"],
        "completion_cost": row["completion_cost"],
        "total_cost": row["total_cost"],
        "tags": row["tags"] or [],
        "metadata": (extra.get("metadata") if isinstance(extra, dict) else None),
        "inputs": row["inputs"],
        "outputs": row["outputs"],
        "events": row["events"] or [],
    }
    limit = arguments.get("max_chars", 200000)
    offset = arguments.get("offset", 0)
    if offset == 0 and size_of(run) <= limit:
        return run
    text = text_of(run)
    if offset >= len(text):
        raise ToolError(f"offset {offset} is past the end ({len(text)} chars).")
    end_at = min(len(text), offset + limit)
    return {
        "run_id": run["id"],
        "total_chars": len(text),
        "offset": offset,
        "next_offset": end_at if end_at < len(text) else None,
        "json_text": text[offset:end_at],
    }


@tool(
    "get_stats",
    title="Project statistics",
    description="Counts, error rate, latency percentiles (root runs), tokens and "
    "the most frequent errors, for one project or all, over a window.",
    properties={"project": {"type": "string", "maxLength": 255}, "since": SINCE_SCHEMA},
)
def get_stats(arguments: dict[str, Any], caller: Caller) -> dict[str, Any]:
    params = _filter_params(arguments, ("project", "since"))
    filterset = StatsFilter(params, queryset=Run.objects.none())
    if not filterset.is_valid():
        raise ToolError(f"Invalid filter: {dict(filterset.errors)}")
    scope = filterset.stats_scope(visible_projects(caller) if caller.project else None)
    if "project" in params and not scope.project_ids:
        raise ToolError(f"No project {params['project']!r} (list_projects names them).")
    summary = stats.summary(scope)
    # Errors are grouped from the runs themselves (no rollup holds messages):
    # over the window asked for, else the last day, so the read stays bounded.
    error_scope = scope
    if scope.start is None:
        error_scope = replace(scope, start=timezone.now() - SINCE["24h"])
    errors = (
        error_scope.runs(visible_runs(caller))
        .filter(status=Run.Status.ERROR)
        .values("name")
        .annotate(count=Count("id"))
        .order_by("-count", "name")[:TOP_ERRORS]
    )
    top = []
    for group in errors:
        sample = (
            error_scope.runs(visible_runs(caller))
            .filter(status=Run.Status.ERROR, name=group["name"])
            .order_by("-start_time")
            .values_list("error", flat=True)
            .first()
        )
        top.append({**group, "latest_error": clip(sample, ERROR_CHARS)})
    return {
        "project": params.get("project"),
        "since": params.get("since"),
        "runs": summary["total_runs"],
        "traces": summary["total_traces"],
        "error_runs": summary["error_runs"],
        "error_rate": summary["error_rate"],
        "latency_ms": summary["latency_ms"],
        "tokens": summary["tokens"],
        "cost_usd": summary["cost"],
        "unpriced_llm_runs": summary["unpriced_runs"],
        "run_types": summary["run_type_distribution"],
        "top_errors": top,
        "top_errors_since": error_scope.start.isoformat(),
    }
