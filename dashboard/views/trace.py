"""One trace: its run tree and waterfall, and the panel of the selected run.

The page embeds the trace's *light* hierarchy (no inputs/outputs) as compact
JSON rows; static/agentspy/trace.js draws the tree and waterfall from it with
a virtual list, so a 10,000-run trace stays responsive. A run's panel (its
inputs, outputs, chat, metadata, ...) is fetched when the run is selected.
A run is addressed as ``/traces/<trace_id>?run=<run_id>`` (the API's app_path).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from dashboard import chat
from dashboard.jsonview import raw_json
from dashboard.views.common import dashboard_view, limit_to_project, page
from dashboard.views.feedback import author, feedback_rows
from runs.api import links
from runs.models import Attachment, Feedback, Run, SharedTrace
from runs.query.trees import run_io, trace_tree

NAME_CHARS = 200
EVENTS_SHOWN = 50
# Raster formats a browser shows without running anything; never SVG or HTML.
PREVIEW_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except (TypeError, ValueError):
        return None


def _ms(value: str | None, origin: datetime) -> float | None:
    if value is None:
        return None
    return round((datetime.fromisoformat(value) - origin).total_seconds() * 1000, 3)


def flatten(tree: dict[str, Any]) -> dict[str, Any]:
    """The hierarchy as depth-first rows for trace.js, times relative to the root.

    Row: [id, parent index, depth, name, run type, status, start ms, end ms or
    null, total tokens, model, has error, orphan, child count, cost in US
    dollars or null, unpriced (an LLM run with tokens and no price)].
    """
    root = tree["hierarchy"]
    origin = datetime.fromisoformat(root["start_time"])
    rows: list[list[Any]] = []
    stack: list[tuple[dict[str, Any], int]] = [(root, -1)]
    tokens = errors = unpriced = 0
    cost: float | None = None
    while stack:
        node, parent = stack.pop()
        start = datetime.fromisoformat(node["start_time"])
        if start < origin:  # a child that claims to start before its root
            origin = start
        children = node["children"]
        rows.append(
            [
                node["id"],
                parent,
                node["depth"],
                (node["name"] or "")[:NAME_CHARS],
                node["run_type"],
                node["status"],
                node["start_time"],
                node["end_time"],
                node["total_tokens"] or 0,
                node["model_name"] or "",
                1 if node["status"] == "error" or node["error"] else 0,
                1 if node["orphan"] else 0,
                len(children),
                node["total_cost"],
                1
                if node["run_type"] == "llm"
                and node["total_tokens"]
                and node["total_cost"] is None
                else 0,
            ]
        )
        tokens += node["total_tokens"] or 0
        unpriced += rows[-1][14]
        if node["total_cost"] is not None:
            cost = (cost or 0.0) + node["total_cost"]
        errors += rows[-1][10]
        index = len(rows) - 1
        stack.extend((child, index) for child in reversed(children))
    for row in rows:
        row[6], row[7] = _ms(row[6], origin), _ms(row[7], origin)
    return {
        "origin": origin.isoformat(),
        "rows": rows,
        "tokens": tokens,
        "errors": errors,
        "cost": cost,
        "unpriced": unpriced,
    }


def _events(events: Any) -> list[dict[str, Any]]:
    shown = []
    for event in events[:EVENTS_SHOWN] if isinstance(events, list) else []:
        if isinstance(event, dict):
            shown.append(
                {"name": str(event.get("name", "")), "time": event.get("time")}
            )
    return shown


def panel_context(run: Run) -> dict[str, Any]:
    """Everything the run panel shows about one run."""
    io = run_io(run.id) or {}
    inputs, outputs, extra = io.get("inputs"), io.get("outputs"), io.get("extra")
    ttft = None
    if run.first_token_time:
        ttft = (run.first_token_time - run.start_time).total_seconds() * 1000
    extra_dict = extra if isinstance(extra, dict) else {}
    events = io.get("events") or []
    attachments = list(Attachment.objects.filter(run_id=run.id).order_by("name"))
    return {
        "run": run,
        "permalink": f"{reverse('dashboard:trace', args=[run.trace_id])}?run={run.id}",
        "ttft_ms": ttft,
        "input_chat": chat.input_chat(inputs),
        "output_chat": chat.output_chat(outputs),
        "inputs": inputs,
        "outputs": outputs,
        "inputs_raw": raw_json(inputs),
        "outputs_raw": raw_json(outputs),
        "metadata": extra_dict.get("metadata") or {},
        "extra_raw": raw_json(extra),
        "events": _events(events),
        "event_count": len(events) if isinstance(events, list) else 0,
        "events_raw": raw_json(events),
        # Feedback given within the run's own project (or none named): rows
        # stored before writes were checked may name another project.
        "feedback": list(
            Feedback.objects.filter(run_id=run.id).filter(
                Q(session_id=run.project_id) | Q(session_id__isnull=True)
            )[:100]
        ),
        "attachments": [
            {"a": a, "preview": a.content_type in PREVIEW_TYPES} for a in attachments
        ],
    }


def _get_run(request: HttpRequest, trace_id: uuid.UUID, run_id: uuid.UUID) -> Run:
    # The bodies come once, through run_io(), when the panel is built.
    run = (
        limit_to_project(request, Run.objects.select_related("project"))
        .defer("inputs", "outputs", "extra", "events", "serialized")
        .filter(id=run_id)
        .first()
    )
    if run is None or run.trace_id != trace_id:
        raise Http404("No such run in this trace.")
    return run


@dashboard_view
def trace(request: HttpRequest, trace_id: uuid.UUID) -> HttpResponse:
    wanted = _uuid(request.GET.get("run", ""))
    tree = trace_tree(wanted, light=True) if wanted else None
    if tree is None:
        tree = trace_tree(trace_id, light=True)
    if tree is None:
        # The root may never have arrived: open the trace from any of its runs.
        any_run = (
            Run.objects.filter(trace_id=trace_id).values_list("id", flat=True).first()
        )
        tree = trace_tree(any_run, light=True) if any_run else None
    if tree is None:
        context = {"missing": str(trace_id)}
        return page(request, "dashboard/trace_missing.html", context, status=404)
    if tree["trace_id"] != str(trace_id):
        url = reverse("dashboard:trace", args=[tree["trace_id"]])
        return redirect(f"{url}?run={wanted}")
    data = flatten(tree)
    ids = {row[0] for row in data["rows"]}
    selected = str(wanted) if wanted and str(wanted) in ids else tree["root_run_id"]
    try:
        run = _get_run(request, trace_id, uuid.UUID(selected))
    except Http404:
        # Another project's trace, for a viewer limited to one: as if missing.
        context = {"missing": str(trace_id)}
        return page(request, "dashboard/trace_missing.html", context, status=404)
    root = data["rows"][0]
    share = SharedTrace.objects.filter(trace_id=trace_id).first()
    context = {
        "trace_id": str(trace_id),
        "panel_base": f"{reverse('dashboard:trace', args=[trace_id])}/runs/",
        "share_link": links.share_url(request, share.token) if share else None,
        "tree": tree,
        "root": root,
        "root_run": run if selected == root[0] else None,
        "data": {
            **data,
            "selected": selected,
            "trace_id": str(trace_id),
            "stale_ms": settings.STALE_AFTER_MINUTES * 60_000,
        },
        "project": run.project,
        **panel_context(run),
        **feedback_context(request, run),
    }
    return page(request, "dashboard/trace.html", context)


@dashboard_view
def run_panel(
    request: HttpRequest, trace_id: uuid.UUID, run_id: uuid.UUID
) -> HttpResponse:
    """The panel of one run, fetched by trace.js when the run is selected."""
    run = _get_run(request, trace_id, run_id)
    context = {**panel_context(run), **feedback_context(request, run)}
    return render(request, "dashboard/_run_panel.html", context)


def feedback_context(request: HttpRequest, run: Run) -> dict[str, Any]:
    """Feedback controls for the selected run: its author's own rows to edit."""
    rows = feedback_rows(request, [run.id]).get(run.id, [])
    return {
        "own_feedback": [row for row in rows if row.own],
        "anonymous": author(request)[0] is None,
    }


@dashboard_view
def run_json(
    request: HttpRequest, trace_id: uuid.UUID, run_id: uuid.UUID
) -> HttpResponse:
    """A run's full inputs/outputs/extra as a JSON download (for huge payloads)."""
    run = _get_run(request, trace_id, run_id)
    body = run_io(run.id) or {}
    response = JsonResponse(
        body, json_dumps_params={"ensure_ascii": False, "indent": 2}
    )
    response["Content-Disposition"] = f'attachment; filename="run-{run.id}.json"'
    return response
