"""JSON bodies: one run, or LangSmith's {post, patch} batch, within size caps."""

from __future__ import annotations

from typing import Any

import orjson

from runs.ingest.batch import MAX_ITEMS, MAX_JSON_CONTAINERS, Batch
from runs.ingest.decoders.errors import DecodeError


def loads(data: bytes | str, *, max_depth: int = 200) -> Any:
    """Parse JSON; orjson refuses nesting deeper than 1024, tighten that.

    The store serialises with orjson too, which stops at 254 levels.
    """
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise DecodeError(f"malformed JSON: {exc}") from None
    # Fewer brackets than the limit cannot nest past it (a C-speed count);
    # most parts are shorter than that many bytes, which is cheaper still.
    if (
        len(data) > max_depth
        and _may_be_deep(data, max_depth)
        and _too_deep(value, max_depth)
    ):
        raise DecodeError(f"JSON nested deeper than {max_depth} levels")
    return value


def _may_be_deep(data: bytes | str, limit: int) -> bool:
    """Fewer brackets than the limit cannot nest past it (C-speed count)."""
    if isinstance(data, str):
        return data.count("{") + data.count("[") > limit
    return data.count(b"{") + data.count(b"[") > limit


def _too_deep(value: Any, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(node, dict):
            stack.extend(
                (v, depth + 1) for v in node.values() if isinstance(v, dict | list)
            )
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node if isinstance(v, dict | list))
    return False


def too_many_items(count: int) -> DecodeError:
    return DecodeError(
        f"{count} items in one request; at most {MAX_ITEMS} "
        "(send them in several requests)",
        status=413,
    )


def _check_containers(body: bytes) -> None:
    """Refuse, before parsing, a body that would make too many objects.

    Each JSON object or array costs ~60 bytes of memory for 1 or 2 bytes of
    body: the count of brackets (a C-speed scan) bounds what parsing makes.
    """
    if len(body) > MAX_JSON_CONTAINERS:
        count = body.count(b"{") + body.count(b"[")
        if count > MAX_JSON_CONTAINERS:
            raise DecodeError(
                f"{count} JSON objects and arrays in one request; at most "
                f"{MAX_JSON_CONTAINERS} (send the runs in several requests)",
                status=413,
            )


def decode_batch_json(body: bytes, *, max_depth: int = 200) -> Batch:
    """``POST /runs/batch``: ``{"post": [...], "patch": [...]}``, each optional."""
    _check_containers(body)
    payload = loads(body, max_depth=max_depth)
    if not isinstance(payload, dict):
        raise DecodeError("expected a JSON object with 'post' and/or 'patch' lists")
    lists = []
    for kind in ("post", "patch"):
        items = payload.get(kind)
        if items is None:
            continue
        if not isinstance(items, list):
            raise DecodeError(f"'{kind}' must be a list of runs")
        lists.append((kind, items))
    count = sum(len(items) for _, items in lists)
    if count > MAX_ITEMS:
        raise too_many_items(count)
    batch = Batch()
    for kind, items in lists:
        for index, raw in enumerate(items):
            batch.add_run(kind, raw, item=f"{kind}[{index}]")
    return batch


def decode_single(
    kind: str, body: bytes, *, run_id: str | None = None, max_depth: int = 200
) -> Batch:
    """``POST /runs`` or ``PATCH /runs/{id}``: one run object."""
    payload = loads(body, max_depth=max_depth)
    batch = Batch()
    if run_id is not None and isinstance(payload, dict):
        payload = {**payload, "id": run_id}
    batch.add_run(kind, payload, item=kind)
    return batch


# Searched in a part's whole header block: the name parameter of its
# Content-Disposition (not filename=), and its media type without parameters.
