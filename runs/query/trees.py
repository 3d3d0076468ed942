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
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from django.db import connections
from django.db.models import BinaryField, QuerySet, TextField
from django.db.models.functions import Cast

from runs.models import Run

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
    "total_cost",
)
IO_FIELDS = ("inputs", "outputs", "extra", "events")
TIME_FIELDS = ("start_time", "end_time")


def _uuid_text(value: Any) -> str | None:
    """A run id as the API writes it, from what the database driver returned."""
    if value is None:
        return None
    if isinstance(value, str):
        if len(value) == 32:  # SQLite stores uuid.hex
            return (
                f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"
            )
        return str(uuid.UUID(value))
    return str(value)


def _time(value: Any) -> tuple[str | None, datetime | None]:
    """A start or end time as the API writes it, and as an aware datetime.

    SQLite hands back its stored text, naive UTC in ``str(datetime)`` form:
    the ISO text is then that text with a "T" and "+00:00", as ``isoformat``
    of the aware value would write it.
    """
    if value is None:
        return None, None
    if isinstance(value, str):
        text = value
        value = datetime.fromisoformat(text)
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
            if len(text) in (19, 26) and text[10] == " ":
                return f"{text[:10]}T{text[11:]}+00:00", value
    elif value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.isoformat(), value


def _tags(value: Any) -> Any:
    """Tags as their stored JSON text, or an empty tuple when there are none.

    A Fragment (like an empty tuple) is not a container the garbage collector
    tracks, where a list of tags would make every node's dict tracked.
    """
    if value is None or value in ("[]", "null", b"[]", b"null"):
        return ()
    if isinstance(value, str | bytes):
        return orjson.Fragment(value)
    return value or ()


def _fragment(value: Any) -> Any:
    """A JSON column's stored text, embedded as is when the response is rendered.

    Both databases hold valid JSON (jsonb, or the ingest path's orjson text),
    so parsing and re-serialising megabytes of bodies would only cost time.
    """
    if value is None:
        return None
    if isinstance(value, str | bytes):
        return orjson.Fragment(value)
    return value


def _nodes(rows: Sequence[Sequence[Any]], light: bool) -> list[dict[str, Any]]:
    """Tree nodes from raw ``LIGHT_FIELDS (+ IO_FIELDS)`` rows, one dict each."""
    nodes = []
    append = nodes.append
    ident = _uuid_text
    for row in rows:
        start_text, start = _time(row[6])
        end_text, end = _time(row[7])
        node = {
            "id": ident(row[0]),
            "parent_run_id": ident(row[1]),
            "name": row[3],
            "run_type": row[4],
            "status": row[5],
            "start_time": start_text,
            "end_time": end_text,
            "duration_ms": (
                round((end - start).total_seconds() * 1000, 3)
                if start is not None and end is not None
                else None
            ),
            "dotted_order": row[8],
            "error": row[9],
            "tags": _tags(row[10]),
            "model_name": row[11] or None,
            "prompt_tokens": row[12],
            "completion_tokens": row[13],
            "total_tokens": row[14],
            "total_cost": row[15],
            "depth": -1,
            "orphan": False,
            # A shared empty tuple until a child arrives: a leaf's dict then
            # holds no container, so the garbage collector never tracks it (10,000
            # tracked nodes made every few requests pay a full collection).
            "children": (),
        }
        if not light:
            node["inputs"] = _fragment(row[16])
            node["outputs"] = _fragment(row[17])
            node["extra"] = _fragment(row[18])
            node["events"] = _fragment(row[19])
        append(node)
    return nodes


def trace_tree(
    run_id: uuid.UUID, *, light: bool = False, queryset: QuerySet | None = None
) -> dict[str, Any] | None:
    """The tree of the trace containing ``run_id``, or None if it is not visible.

    ``tags`` and, in full mode, ``inputs``, ``outputs``, ``extra`` and
    ``events`` are ``orjson.Fragment`` objects holding the stored JSON text
    (no tags: an empty tuple; no children: an empty tuple): render the result
    with orjson (the API's renderer does).
    """
    base = queryset if queryset is not None else Run.objects.all()
    trace_id = base.filter(id=run_id).values_list("trace_id", flat=True).first()
    if trace_id is None:
        return None
    fields = LIGHT_FIELDS if light else LIGHT_FIELDS + IO_FIELDS
    query = base.filter(trace_id=trace_id).order_by("dotted_order", "start_time", "id")
    if connections[query.db].vendor == "sqlite":
        # Times as their stored text (sqlite3 would run Django's Python
        # datetime parser on each) and bodies as bytes (no UTF-8 decoding).
        casts = {
            **{f"_{name}": Cast(name, TextField()) for name in TIME_FIELDS},
            **{f"_{name}": Cast(name, BinaryField()) for name in IO_FIELDS},
        }
        query = query.annotate(**casts)
        fields = tuple(f"_{name}" if f"_{name}" in casts else name for name in fields)
    query = query.values_list(*fields)
    # The driver's values as they come: Django's per-value converters (UUIDs,
    # datetimes, JSON) cost more than everything else for a big trace.
    sql, params = query.query.sql_with_params()
    with connections[query.db].cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return build_tree(_nodes(rows, light), trace_id=trace_id)


def build_tree(nodes: list[dict[str, Any]], *, trace_id: uuid.UUID) -> dict[str, Any]:
    """Link nodes (in ``dotted_order``) into one tree under the trace's root."""
    by_id = {node["id"]: node for node in nodes}
    order = {id(node): index for index, node in enumerate(nodes)}
    parent_of: dict[int, dict[str, Any]] = {}
    tops = []
    for node in nodes:
        wanted = node["parent_run_id"]
        parent = by_id.get(wanted) if wanted else None
        if parent is None or parent is node:
            tops.append(node)
        else:
            children = parent["children"]
            if children:
                children.append(node)
            else:
                parent["children"] = [node]
            parent_of[id(node)] = parent
    if not tops:
        # Every run names a parent inside a cycle: the trace's root (or the
        # first run) heads the tree, and the others hang from it below.
        top = next((n for n in nodes if n["id"] == str(trace_id)), nodes[0])
        tops.append(top)
        parent_of.pop(id(top), None)
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
    root["children"] = sorted([*root["children"], *orphans], key=lambda n: order[id(n)])


def _set_depths(top: dict[str, Any], start: int) -> int:
    """Depth of every node reachable from ``top``; the others keep -1.

    Children deeper than MAX_DEPTH are cut off here (and re-hung by the caller).
    """
    deepest = start
    top["depth"] = start
    stack = [top]
    while stack:
        node = stack.pop()
        children = node["children"]
        if not children:
            continue
        depth = node["depth"] + 1
        keep = []
        for child in children:
            if child["depth"] >= 0 or depth > MAX_DEPTH:
                continue
            child["depth"] = depth
            keep.append(child)
        if keep:
            deepest = max(deepest, depth)
            stack.extend(keep)
        if len(keep) != len(children):
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
