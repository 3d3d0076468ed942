"""Run payloads as collapsible HTML trees and as raw JSON text.

Built in Python rather than with a recursive template: a payload of thousands
of values renders in milliseconds. Every key and value goes through
``escape``; the output is bounded by ``MAX_NODES`` and ``MAX_STRING``.
"""

from __future__ import annotations

import json
from typing import Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

MAX_NODES = 4000
MAX_STRING = 20_000
MAX_RAW = 2_000_000
OPEN_DEPTH = 2
BIG_CONTAINER = 50


class _Budget:
    def __init__(self) -> None:
        self.nodes = 0


def _scalar(value: Any) -> str:
    if value is None:
        return '<span class="z">null</span>'
    if isinstance(value, bool):
        return f'<span class="b">{"true" if value else "false"}</span>'
    if isinstance(value, int | float):
        return f'<span class="n">{escape(json.dumps(value))}</span>'
    text = value if isinstance(value, str) else str(value)
    if len(text) > MAX_STRING:
        rest = len(text) - MAX_STRING
        return (
            f'<span class="s">"{escape(text[:MAX_STRING])}</span>'
            f'<span class="trunc">… {rest:,} more characters (raw view)</span>'
        )
    return f'<span class="s">"{escape(text)}"</span>'


def _render(value: Any, depth: int, budget: _Budget, out: list[str]) -> None:
    budget.nodes += 1
    if budget.nodes > MAX_NODES:
        if budget.nodes == MAX_NODES + 1:
            out.append('<span class="trunc">… too large to show here (raw view)</span>')
        return
    if isinstance(value, dict):
        items: list[tuple[str, Any]] = list(value.items())
        opener, closer = "{", "}"
    elif isinstance(value, list | tuple):
        items = [(str(i), v) for i, v in enumerate(value)]
        opener, closer = "[", "]"
    else:
        out.append(_scalar(value))
        return
    if not items:
        out.append(f'<span class="c">{opener}{closer}</span>')
        return
    is_open = depth < OPEN_DEPTH and len(items) <= BIG_CONTAINER
    noun = "key" if opener == "{" else "item"
    count = f"{len(items)} {noun}{'' if len(items) == 1 else 's'}"
    out.append(
        f"<details{' open' if is_open else ''}><summary>"
        f'<span class="c">{opener} {count} {closer}</span></summary><div class="kids">'
    )
    keyed = opener == "{"
    for key, child in items:
        out.append("<div>")
        if keyed:
            out.append(f'<span class="k">{escape(key)}</span>: ')
        else:
            out.append(f'<span class="c">{escape(key)}:</span> ')
        _render(child, depth + 1, budget, out)
        out.append("</div>")
        if budget.nodes > MAX_NODES:
            break
    out.append("</div></details>")


def json_tree(value: Any) -> SafeString:
    """A collapsible, escaped HTML view of a JSON value."""
    out: list[str] = ['<div class="json">']
    _render(value, 0, _Budget(), out)
    out.append("</div>")
    # Safe: every piece of content above went through escape().
    return mark_safe("".join(out))  # noqa: S308


def raw_json(value: Any) -> str:
    """Indented JSON text (to be escaped by the template), cut at ``MAX_RAW``."""
    text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
    if len(text) > MAX_RAW:
        return text[:MAX_RAW] + f"\n… {len(text) - MAX_RAW:,} more characters"
    return text
