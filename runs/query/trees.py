"""The hierarchy of one trace, built from one ordered query.

Rows come back ordered by ``dotted_order`` (start time, then id, at every
level), whatever order they arrived in, and are linked through their parent
ids. Decisions for imperfect traces:

* a run whose parent never arrived (an *orphan*) is attached under the trace's
  root with ``"orphan": true``, so a response always holds one tree;
* when the root itself is missing, the earliest parentless run stands in as the
  root and the other parentless runs attach to it as orphans;
* parent links that form a cycle, or nest deeper than ``MAX_DEPTH``, are cut
  and the run is attached to the root as an orphan.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import QuerySet

from runs.models import Run
from runs.query.roots import _iso, duration_ms

MAX_DEPTH = 200
LIGHT_FIELDS = (
    "id",
    "parent_id",
    "trace_id",
    "name",
    "run_type",
    "status",
    "start_time",
    "end_time",
    "dotted_order",
    "error",
    "tags",
    "model_name",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
)
IO_FIELDS = ("inputs", "outputs", "extra", "events")


def _node(row: dict[str, Any], light: bool) -> dict[str, Any]:
    node = {
        "id": str(row["id"]),
        "parent_run_id": str(row["parent_id"]) if row["parent_id"] else None,
        "name": row["name"],
        "run_type": row["run_type"],
        "status": row["status"],
        "start_time": _iso(row["start_time"]),
        "end_time": _iso(row["end_time"]),
        "duration_ms": duration_ms(row["start_time"], row["end_time"]),
        "dotted_order": row["dotted_order"],
        "error": row["error"],
        "tags": row["tags"] or [],
        "model_name": row["model_name"] or None,
        "prompt_tokens": row["prompt_tokens"],
        "completion_tokens": row["completion_tokens"],
        "total_tokens": row["total_tokens"],
        "depth": -1,
        "orphan": False,
        "children": [],
    }
    if not light:
        for name in IO_FIELDS:
            node[name] = row[name]
    return node


def trace_tree(
    run_id: uuid.UUID, *, light: bool = False, queryset: QuerySet | None = None
) -> dict[str, Any] | None:
    """The tree of the trace containing ``run_id``, or None if it is not visible."""
    base = queryset if queryset is not None else Run.objects.all()
    trace_id = base.filter(id=run_id).values_list("trace_id", flat=True).first()
    if trace_id is None:
        return None
    fields = LIGHT_FIELDS if light else LIGHT_FIELDS + IO_FIELDS
    rows = list(
        base.filter(trace_id=trace_id)
        .order_by("dotted_order", "start_time", "id")
        .values(*fields)
    )
    return build_tree(rows, trace_id=trace_id, light=light)


def build_tree(
    rows: list[dict[str, Any]], *, trace_id: uuid.UUID, light: bool
) -> dict[str, Any]:
    nodes = [_node(row, light) for row in rows]
    by_id = {row["id"]: node for row, node in zip(rows, nodes, strict=True)}
    order = {id(node): index for index, node in enumerate(nodes)}
    parent_of: dict[int, dict[str, Any]] = {}
    tops = []
    for row, node in zip(rows, nodes, strict=True):
        parent = by_id.get(row["parent_id"]) if row["parent_id"] else None
        if parent is None or parent is node:
            tops.append(node)
        else:
            parent["children"].append(node)
            parent_of[id(node)] = parent
    root = next((n for n in tops if n["id"] == str(trace_id)), tops[0])
    _attach(root, [n for n in tops if n is not root], order)
    max_depth = _set_depths(root, 0)
    for node in nodes:
        if node["depth"] >= 0:
            continue
        # Unreachable from the root (a cycle) or cut below MAX_DEPTH: re-hang.
        parent = parent_of.get(id(node))
        if parent is not None and any(c is node for c in parent["children"]):
            parent["children"] = [c for c in parent["children"] if c is not node]
        _attach(root, [node], order)
        max_depth = max(max_depth, _set_depths(node, 1))
    return {
        "root_run_id": root["id"],
        "trace_id": str(trace_id),
        "hierarchy": root,
        "total_runs": len(nodes),
        "max_depth": max_depth,
    }


def _attach(
    root: dict[str, Any], orphans: list[dict[str, Any]], order: dict[int, int]
) -> None:
    if not orphans:
        return
    for node in orphans:
        node["orphan"] = True
    root["children"].extend(orphans)
    root["children"].sort(key=lambda n: order[id(n)])


def _set_depths(top: dict[str, Any], start: int) -> int:
    """Depth of every node reachable from ``top``; the others keep -1.

    Children deeper than MAX_DEPTH are cut off here (and re-hung by the caller).
    """
    deepest = start
    top["depth"] = start
    stack = [top]
    while stack:
        node = stack.pop()
        depth = node["depth"] + 1
        keep = []
        for child in node["children"]:
            if child["depth"] >= 0 or depth > MAX_DEPTH:
                continue
            child["depth"] = depth
            deepest = max(deepest, depth)
            keep.append(child)
            stack.append(child)
        node["children"] = keep
    return deepest


def run_io(run_id: uuid.UUID, *, queryset: QuerySet | None = None) -> dict | None:
    """The large bodies of one run, fetched when a tree node is opened."""
    base = queryset if queryset is not None else Run.objects.all()
    row = (
        base.filter(id=run_id)
        .values("id", "inputs", "outputs", "error", "extra", "events", "serialized")
        .first()
    )
    if row is None:
        return None
    row["id"] = str(row["id"])
    return row
