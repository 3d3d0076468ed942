"""Two traces side by side: ``/compare?traces=<trace_id>,<trace_id>``.

Both trees come from the query layer (light, no bodies); only the selected
pair's bodies are read, by run id. A viewer limited to one project sees
another project's trace as missing.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.http import HttpRequest, HttpResponse

from dashboard.compare import align, as_text, line_diff
from dashboard.views.common import dashboard_view, limit_to_project, page
from runs.models import Run
from runs.query.trees import run_io, trace_tree

MAX_PARAM = 500


def _ids(request: HttpRequest) -> list[str]:
    raw = ",".join(request.GET.getlist("traces"))[:MAX_PARAM]
    return [part.strip() for part in raw.split(",") if part.strip()]


def _tree(request: HttpRequest, trace_id: uuid.UUID) -> dict[str, Any] | None:
    runs = limit_to_project(request, Run.objects.all())
    tree = trace_tree(trace_id, light=True, queryset=runs)
    if tree is None:
        # The root may never have arrived: open the trace from any of its runs.
        any_run = runs.filter(trace_id=trace_id).values_list("id", flat=True).first()
        tree = trace_tree(any_run, light=True, queryset=runs) if any_run else None
    if tree is not None and tree["trace_id"] != str(trace_id):
        return None  # a run id of another trace, not a trace id
    return tree


def _refuse(request: HttpRequest, ids: list[str], message: str, status: int):
    context = {"error": message, "traces_value": ",".join(ids)}
    return page(request, "dashboard/compare.html", context, status=status)


def _pair(request: HttpRequest, rows: list[dict[str, Any]]) -> dict[str, Any]:
    try:
        index = int(request.GET.get("pair", "0"))
    except ValueError:
        index = 0
    row = rows[index] if 0 <= index < len(rows) else rows[0]
    runs = limit_to_project(request, Run.objects.all())
    bodies = []
    for side in (row["left"], row["right"]):
        io = run_io(uuid.UUID(side["id"]), queryset=runs) if side else None
        bodies.append(io or {})
    left, right = bodies
    return {
        "pair": row,
        "inputs_diff": line_diff(
            as_text(left.get("inputs")), as_text(right.get("inputs"))
        ),
        "outputs_diff": line_diff(
            as_text(left.get("outputs")), as_text(right.get("outputs"))
        ),
    }


@dashboard_view
def compare(request: HttpRequest) -> HttpResponse:
    ids = _ids(request)
    if not ids:
        return page(request, "dashboard/compare.html", {"traces_value": ""})
    if len(ids) != 2:
        return _refuse(request, ids, "Give exactly two trace ids.", 400)
    parsed = []
    for value in ids:
        try:
            parsed.append(uuid.UUID(value))
        except ValueError:
            return _refuse(request, ids, f"Not a trace id: {value}", 400)
    trees = []
    for trace_id in parsed:
        tree = _tree(request, trace_id)
        if tree is None:
            return _refuse(request, ids, f"No trace {trace_id}.", 404)
        trees.append(tree)
    left, right = trees
    rows = align(left["hierarchy"], right["hierarchy"])
    runs = limit_to_project(request, Run.objects.all())
    roots = [
        run_io(uuid.UUID(tree["root_run_id"]), queryset=runs) or {} for tree in trees
    ]
    context = {
        "traces_value": ",".join(str(t) for t in parsed),
        "left": left,
        "right": right,
        "rows": rows,
        "left_output": as_text(roots[0].get("outputs")),
        "right_output": as_text(roots[1].get("outputs")),
        **_pair(request, rows),
    }
    return page(request, "dashboard/compare.html", context)
