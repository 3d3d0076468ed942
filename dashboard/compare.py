"""Two traces side by side: their trees aligned, and a line diff of two runs.

Runs are matched by their path from the root: at each level a run is named by
(name, how many earlier siblings share that name), so the second "search"
call under the first "agent" step of one trace meets the same call in the
other, wherever the trees differ. Runs of one tree with no match in the other
still get a row, with the other side empty.
"""

from __future__ import annotations

import difflib
import json
from typing import Any

MAX_ROWS = 2_000
MAX_TEXT = 200_000
MAX_DIFF_LINES = 4_000

Key = tuple[tuple[str, int], ...]


def _paths(root: dict[str, Any]) -> list[tuple[Key, dict[str, Any]]]:
    """Depth-first (path, node) pairs of a tree, at most ``MAX_ROWS``."""
    out: list[tuple[Key, dict[str, Any]]] = []
    stack: list[tuple[Key, dict[str, Any]]] = [(((root["name"] or "", 0),), root)]
    while stack and len(out) < MAX_ROWS:
        path, node = stack.pop()
        out.append((path, node))
        seen: dict[str, int] = {}
        children = []
        for child in node["children"]:
            name = child["name"] or ""
            children.append((path + ((name, seen.get(name, 0)),), child))
            seen[name] = seen.get(name, 0) + 1
        stack.extend(reversed(children))
    return out


def _delta(left: float | None, right: float | None) -> float | None:
    if left is None or right is None:
        return None
    return right - left


def _side(node: dict[str, Any] | None) -> dict[str, Any] | None:
    if node is None:
        return None
    return {
        "id": node["id"],
        "status": node["status"],
        "latency_ms": node["duration_ms"],
        "tokens": node["total_tokens"],
        "cost": node["total_cost"],
    }


def align(left: dict[str, Any], right: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of aligned runs, in the left tree's order with the right's extras
    placed after the row they followed in the right tree."""
    left_paths = _paths(left)
    right_paths = _paths(right)
    right_by_path = dict(right_paths)
    order: list[Key] = [path for path, _ in left_paths]
    known = set(order)
    position = {path: index for index, path in enumerate(order)}
    inserted: list[tuple[float, Key]] = []
    anchor = -1.0
    for path, _ in right_paths:
        if path in known:
            anchor = float(position[path])
            continue
        anchor += 1e-6  # after the previous row, before the next left row
        inserted.append((anchor, path))
    ranked = [(float(i), path) for i, path in enumerate(order)] + inserted
    ranked.sort(key=lambda item: item[0])
    left_by_path = dict(left_paths)
    rows = []
    for index, (_, path) in enumerate(ranked[:MAX_ROWS]):
        a, b = _side(left_by_path.get(path)), _side(right_by_path.get(path))
        rows.append(
            {
                "index": index,
                "depth": len(path) - 1,
                "name": path[-1][0],
                "left": a,
                "right": b,
                "latency_delta": _delta(a and a["latency_ms"], b and b["latency_ms"]),
                "tokens_delta": _delta(a and a["tokens"], b and b["tokens"]),
                "cost_delta": _delta(a and a["cost"], b and b["cost"]),
            }
        )
    return rows


def as_text(value: Any) -> str:
    """A run body as indented JSON text (strings as themselves), capped."""
    if value is None:
        return ""
    if isinstance(value, str):
        text = value
    else:
        text = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)
    return text[:MAX_TEXT]


def line_diff(left: str, right: str) -> list[tuple[str, str]]:
    """(kind, line) pairs, kind one of "same", "removed", "added"; capped."""
    a, b = left.splitlines(), right.splitlines()
    out: list[tuple[str, str]] = []
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            out.extend(("same", line) for line in a[i1:i2])
            continue
        out.extend(("removed", line) for line in a[i1:i2])
        out.extend(("added", line) for line in b[j1:j2])
    return out[:MAX_DIFF_LINES]
