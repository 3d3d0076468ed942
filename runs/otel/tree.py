"""Dotted orders for OTel runs, whatever order their spans arrive in.

Exporters send a span when it ends, so children usually arrive before their
parent, often in an earlier request. Parent links never need repair (run ids
are computed from the OTel ids), but a dotted order lists every ancestor, so
when a parent arrives the dotted orders of its stored descendants are
recomputed here and sent as patches through the same ingest call.

Only the affected part of a trace is read: the stored parents of the batch's
runs, the stored copies of the batch's runs, and their stored descendants,
level by level through the parent index. A stored dotted order is as complete
as the stored tree allows, so a parent's stored value is a sound prefix.

The caller reads the stored tree and writes the result in one transaction,
under the traces' locks (``store.lock_traces``; SQLite's write lock), so two
processes exporting parts of one trace at the same instant each see the
other's runs.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from django.db import connection
from django.utils.dateparse import parse_datetime

from runs.ingest import store
from runs.ingest.normalize import segment
from runs.models import Run

# Deeper than any real agent trace; stops a parent cycle in stored data.
MAX_DEPTH = 200
# Raw SQL: the ORM's per-value preparation of a 500-id IN list costs more
# than the query itself on this hot path (PostgreSQL gets one array
# parameter instead, see store.id_chunks). Names are constants, never input.
_SELECT = (
    f"SELECT id, parent_run_id, start_time, dotted_order FROM {Run._meta.db_table} "
    "WHERE {condition}"
)


def _uuid(value: Any) -> uuid.UUID | None:
    if value is None or isinstance(value, uuid.UUID):
        return value
    return uuid.UUID(value)


def _time(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return parse_datetime(value).replace(tzinfo=UTC)


def _stored(ids: Iterable[uuid.UUID], column: str) -> list[tuple]:
    """(id, parent id, start time, dotted order) of runs whose column is in ids."""
    rows: list[tuple] = []
    with connection.cursor() as cursor:
        for condition, chunk in store.id_chunks(column, ids):
            cursor.execute(_SELECT.format(condition=condition), chunk)
            rows += [
                (_uuid(rid), _uuid(parent), _time(start_time), dotted)
                for rid, parent, start_time, dotted in cursor.fetchall()
            ]
    return rows


def place(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Set ``dotted_order`` on each run; return patches for stored runs."""
    if not runs:
        return []
    # Runs whose dotted order is (re)computed: the batch, then descendants.
    nodes: dict[uuid.UUID, tuple[uuid.UUID | None, datetime]] = {
        run["id"]: (run["parent_run_id"], run["start_time"]) for run in runs
    }
    old: dict[uuid.UUID, str] = {
        run_id: dotted for run_id, _, _, dotted in _stored(nodes, "id")
    }
    frontier = set(nodes)
    for _ in range(MAX_DEPTH):
        children = [
            row for row in _stored(frontier, "parent_run_id") if row[0] not in nodes
        ]
        if not children:
            break
        for run_id, parent_id, start_time, dotted in children:
            nodes[run_id] = (parent_id, start_time)
            old[run_id] = dotted
        frontier = {row[0] for row in children}
    outside = {parent for parent, _ in nodes.values() if parent and parent not in nodes}
    # Parents outside the recomputed set keep their stored dotted order.
    dotted: dict[uuid.UUID, str] = {
        run_id: value for run_id, _, _, value in _stored(outside, "id")
    }

    def resolve(run_id: uuid.UUID) -> str:
        # Walk up to the first run already placed (or the top), then build the
        # path back down; a parent cycle stops the walk.
        chain: list[uuid.UUID] = []
        current: uuid.UUID | None = run_id
        while current in nodes and current not in dotted and current not in chain:
            chain.append(current)
            current = nodes[current][0]
        prefix = dotted.get(current) if current is not None else None
        for node in reversed(chain):
            own = segment(nodes[node][1], node)
            prefix = f"{prefix}.{own}" if prefix else own
            dotted[node] = prefix
        return dotted[run_id]

    for run in runs:
        run["dotted_order"] = resolve(run["id"])
    return [
        {"id": run_id, "dotted_order": resolve(run_id)}
        for run_id, value in old.items()
        if resolve(run_id) != value
    ]
