"""Checks of where a run sits in its trace, made before it is stored.

* A run may not become its own ancestor: the run of a request that would close
  a parent cycle (through the request's runs or the stored ones) is rejected;
  the runs before it in the request are kept.
* A placed run stays in its trace: a patch naming another ``trace_id`` than
  the one the run was created in is rejected (its ``dotted_order`` would
  still point at the old trace).
* A run does not end before it starts.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from runs.ingest import store
from runs.ingest.normalize import InvalidField


def parent_of(row: dict[str, Any]) -> uuid.UUID | None:
    """The parent a row names, by ``parent_run_id`` or its dotted order."""
    parent = row.get("parent_run_id")
    if parent is not None:
        return parent
    dotted = row.get("dotted_order") or ""
    if "." not in dotted:
        return None
    try:
        return uuid.UUID(dotted.rsplit(".", 2)[-2][-36:])
    except ValueError:
        return None


def outside_parents(
    rows: dict[uuid.UUID, dict[str, Any]], placed: dict[uuid.UUID, dict[str, Any]]
) -> set[uuid.UUID]:
    """Parents named by rows that are neither in the request nor placed."""
    parents = {parent_of(row) for row in rows.values()}
    return {p for p in parents if p is not None and p not in rows and p not in placed}


def load_parents(ids: set[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    """The stored tree fields of these runs (one query; none if no ids)."""
    return store.load_tree_fields(ids) if ids else {}


def closing_cycles(
    rows: dict[uuid.UUID, dict[str, Any]],
    placed: dict[uuid.UUID, dict[str, Any]],
    stored: dict[uuid.UUID, dict[str, Any]],
) -> list[uuid.UUID]:
    """Rows (in request order) whose parent chain comes back to them.

    Rows are taken in order: the one that closes a cycle is refused, those
    before it are placed. A stored parent's dotted order lists its ancestors.
    """
    chain: dict[uuid.UUID, dict[str, Any]] = dict(placed)
    refused = []
    for rid, row in rows.items():
        current, seen = parent_of(row), set()
        cycle = False
        while current is not None and current not in seen:
            if current == rid:
                cycle = True
                break
            seen.add(current)
            if current in chain:
                current = parent_of(chain[current])
                continue
            parent = stored.get(current)
            if parent is not None:
                cycle = str(rid) in (parent.get("dotted_order") or "") or (
                    parent.get("parent_id") == rid
                )
            break
        if cycle:
            refused.append(rid)
        else:
            chain[rid] = row
    return refused


def _aware(value: Any) -> datetime | None:
    """Stored SQLite times come back naive (UTC); sent ones are aware."""
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value if isinstance(value, datetime) else None


CYCLE = InvalidField(
    "parent_run_id", "would make the run its own ancestor (a parent cycle)"
)


def check_placement(
    row: dict[str, Any],
    stored: dict[str, Any] | None,
    create: dict[str, Any],
    patch: dict[str, Any],
) -> None:
    """Raise InvalidField if a merged row moves trace or ends before it starts."""
    placed = stored if stored and stored.get("dotted_order") else create
    known = placed.get("trace_id") if placed.get("dotted_order") else None
    wanted = patch.get("trace_id")
    if known is not None and wanted is not None and wanted != known:
        raise InvalidField(
            "trace_id",
            f"run is in trace {known}; a run cannot move to another trace",
        )
    end, start = _aware(row.get("end_time")), _aware(row.get("start_time"))
    if row.get("_created") and end is not None and start is not None and end < start:
        raise InvalidField(
            "end_time", f"{end.isoformat()} is before start_time {start.isoformat()}"
        )
