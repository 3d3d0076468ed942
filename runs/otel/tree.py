"""Dotted orders for OTel runs, whatever order their spans arrive in.

Exporters send a span when it ends, so children usually arrive before their
parent, often in an earlier request. Parent links never need repair (run ids
are computed from the OTel ids), but a dotted order lists every ancestor, so
when a parent arrives the dotted orders of its stored descendants are
recomputed here and sent as patches through the same ingest call.

The stored tree is read before the ingest transaction. Requests of one
exporter are sequential, so this is exact for a process exporting its own
traces; two processes exporting parts of one trace at the same instant can
leave a descendant's dotted order short (its parent link stays right).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from runs.ingest.normalize import segment
from runs.models import Run

_CHUNK = 500


def _stored_tree(trace_ids: set[uuid.UUID]) -> dict[uuid.UUID, tuple]:
    ids = list(trace_ids)
    out: dict[uuid.UUID, tuple] = {}
    for start in range(0, len(ids), _CHUNK):
        rows = Run.objects.filter(trace_id__in=ids[start : start + _CHUNK]).values_list(
            "id", "parent_id", "start_time", "dotted_order"
        )
        for run_id, parent_id, start_time, dotted in rows:
            out[run_id] = (parent_id, start_time, dotted)
    return out


def place(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Set ``dotted_order`` on each run; return patches for stored runs."""
    if not runs:
        return []
    stored = _stored_tree({run["trace_id"] for run in runs})
    nodes: dict[uuid.UUID, tuple[uuid.UUID | None, datetime]] = {
        run_id: (parent, start) for run_id, (parent, start, _) in stored.items()
    }
    for run in runs:
        nodes[run["id"]] = (run["parent_run_id"], run["start_time"])
    dotted: dict[uuid.UUID, str] = {}

    def resolve(run_id: uuid.UUID) -> str:
        # Walk up to the first ancestor already resolved (or the top), then
        # build the path back down; a parent cycle stops the walk.
        chain: list[uuid.UUID] = []
        seen: set[uuid.UUID] = set()
        current: uuid.UUID | None = run_id
        while current is not None and current in nodes and current not in dotted:
            if current in seen:
                break
            seen.add(current)
            chain.append(current)
            current = nodes[current][0]
        prefix = dotted.get(current) if current is not None else None
        for node in reversed(chain):
            own = segment(nodes[node][1], node)
            prefix = f"{prefix}.{own}" if prefix else own
            dotted[node] = prefix
        return dotted[run_id]

    patches = []
    for run in runs:
        run["dotted_order"] = resolve(run["id"])
    for run_id, (_, _, old) in stored.items():
        new = resolve(run_id)
        if new != old:
            patches.append({"id": run_id, "dotted_order": new})
    return patches
