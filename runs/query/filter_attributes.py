"""What each attribute of the filter language means, as query expressions.

``ATTRIBUTES`` is the one table of the language's attributes (a new Run field
joins the language with one line here). A pair family
(``metadata_key``/``metadata_value``, ``feedback_key``/``feedback_score``,
``input_key``/``input_value``, ``output_key``/``output_value``) matches as a
pair: the comparisons of one family inside one ``and(...)`` must hold for the
same metadata entry (or feedback row), as in LangSmith.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db.models import Exists, OuterRef, Q
from django.db.models.lookups import (
    Exact,
    GreaterThan,
    GreaterThanOrEqual,
    LessThan,
    LessThanOrEqual,
)
from django.utils.dateparse import parse_datetime

from runs.models import Feedback, Run
from runs.query import trace_filters
from runs.query.filter_expressions import (
    JsonEntryMatch,
    LatencySeconds,
    TagMatch,
    like_condition,
    metadata_match,
)
from runs.query.filter_language import Call, FilterError, Value

ORDER = ("gt", "gte", "lt", "lte")
EQUALITY = ("eq", "neq", "in")
COMPARISONS = (*EQUALITY, *ORDER)


@dataclass(frozen=True)
class Attribute:
    """``kind`` decides values and comparators; ``field`` is the Run field."""

    kind: str
    field: str = ""
    family: str = ""


ATTRIBUTES: dict[str, Attribute] = {
    "id": Attribute("uuid", "id"),
    "trace_id": Attribute("uuid", "trace_id"),
    "parent_run_id": Attribute("uuid", "parent_id"),
    "reference_example_id": Attribute("uuid", "reference_example_id"),
    "session_id": Attribute("uuid", "project_id"),
    "name": Attribute("text", "name"),
    "run_type": Attribute("text", "run_type"),
    "status": Attribute("status", "status"),
    "start_time": Attribute("time", "start_time"),
    "end_time": Attribute("time", "end_time"),
    "first_token_time": Attribute("time", "first_token_time"),
    "latency": Attribute("latency"),
    "total_tokens": Attribute("number", "total_tokens"),
    "prompt_tokens": Attribute("number", "prompt_tokens"),
    "completion_tokens": Attribute("number", "completion_tokens"),
    # Cost fields join the language once Run has them (see _recorded).
    "total_cost": Attribute("number", "total_cost"),
    "prompt_cost": Attribute("number", "prompt_cost"),
    "completion_cost": Attribute("number", "completion_cost"),
    "error": Attribute("error", "error"),
    "tags": Attribute("tags", "tags"),
    # The thread of the run's trace, keyed as the thread rollups key it.
    "thread_id": Attribute("thread"),
    "is_root": Attribute("root"),
    "metadata_key": Attribute("key", "extra", "metadata"),
    "metadata_value": Attribute("value", "extra", "metadata"),
    "input_key": Attribute("key", "inputs", "inputs"),
    "input_value": Attribute("value", "inputs", "inputs"),
    "output_key": Attribute("key", "outputs", "outputs"),
    "output_value": Attribute("value", "outputs", "outputs"),
    "feedback_key": Attribute("key", "", "feedback"),
    "feedback_score": Attribute("score", "", "feedback"),
}
OPERATORS = {
    "text": (*EQUALITY, "search"),
    "uuid": EQUALITY,
    "status": EQUALITY,
    "time": COMPARISONS,
    "latency": COMPARISONS,
    "number": COMPARISONS,
    "error": ("eq", "neq", "search"),
    "tags": ("has", "eq", "neq", "in"),
    "thread": EQUALITY,
    "root": ("eq", "neq"),
    "key": (*EQUALITY, "search"),
    "value": (*EQUALITY, "search"),
    "score": COMPARISONS,
}
# LangSmith says "pending" for what is stored as "running"; both are accepted.
STATUSES = {
    "success": "success",
    "error": "error",
    "pending": "running",
    "running": "running",
}


LATENCY = LatencySeconds()
LOOKUPS = {"gt": "gt", "gte": "gte", "lt": "lt", "lte": "lte", "eq": "exact"}
EXPRESSION_LOOKUPS = {
    "gt": GreaterThan,
    "gte": GreaterThanOrEqual,
    "lt": LessThan,
    "lte": LessThanOrEqual,
}
# Pair family -> (JSON column, path of the object whose entries are matched).
JSON_FAMILIES = {
    "metadata": ("extra", "metadata"),
    "inputs": ("inputs", ""),
    "outputs": ("outputs", ""),
}


def _recorded(attribute: Attribute) -> bool:
    if attribute.kind not in ("number", "time", "text", "uuid"):
        return True
    names = {f.attname for f in Run._meta.concrete_fields}
    names |= {f.name for f in Run._meta.concrete_fields}
    return attribute.field in names


KNOWN = {name: a for name, a in ATTRIBUTES.items() if _recorded(a)}


def fail(message: str, node: Any) -> FilterError:
    return FilterError(message, getattr(node, "position", None))


def values_of(node: Call, value: Value) -> list[Any]:
    """The value of a comparison as a list (``in`` takes a list, others one)."""
    if node.op == "in":
        if not isinstance(value.value, list) or not value.value:
            raise fail('in(...) expects a non-empty list such as ["a", "b"]', value)
        return value.value
    if isinstance(value.value, list):
        raise fail(f"{node.op}(...) expects one value, not a list", value)
    return [value.value]


def _combine(node: Call, make: Callable[[Any], Q], items: list[Any]) -> Q:
    q = Q()
    for item in items:
        q |= make(item)
    return ~q if node.op == "neq" else q


def _as_uuid(value: Any, at: Value) -> uuid.UUID | None:
    if value is None:
        return None
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise fail(f"{str(value)[:60]!r} is not a UUID", at) from None


def _as_number(value: Any, at: Value) -> float | int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise fail(f"expected a number, got {_show(value)}", at)
    return value


def as_text(value: Any, at: Value) -> str:
    if not isinstance(value, str):
        raise fail(f"expected a quoted string, got {_show(value)}", at)
    return value


def _as_time(value: Any, at: Value) -> datetime:
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None and isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = None
    if parsed is None:
        raise fail(f"expected an ISO-8601 time, got {_show(value)}", at)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _show(value: Any) -> str:
    return "null" if value is None else repr(value)[:60]


def _field_q(field: str, node: Call, items: list[Any]) -> Q:
    if node.op in ORDER:
        return Q(**{f"{field}__{LOOKUPS[node.op]}": items[0]})
    return _combine(
        node,
        lambda v: Q(**{f"{field}__isnull": True}) if v is None else Q(**{field: v}),
        items,
    )


def comparison_q(node: Call, attribute: Attribute, value: Value) -> Q:
    kind, field = attribute.kind, attribute.field
    items = values_of(node, value)
    if kind == "uuid":
        return _field_q(field, node, [_as_uuid(v, value) for v in items])
    if kind == "text":
        return _field_q(field, node, [as_text(v, value) for v in items])
    if kind == "number":
        return _field_q(field, node, [_as_number(v, value) for v in items])
    if kind == "time":
        times = [None if v is None else _as_time(v, value) for v in items]
        if node.op in ORDER and times[0] is None:
            raise fail(f"{node.op}(...) compares with a time, not null", value)
        return _field_q(field, node, times)
    if kind == "status":
        statuses = []
        for item in items:
            if item not in STATUSES:
                raise fail(
                    f"status is one of {', '.join(map(repr, STATUSES))}, "
                    f"not {_show(item)}",
                    value,
                )
            statuses.append(STATUSES[item])
        return _field_q(field, node, statuses)
    if kind == "latency":
        seconds = [float(_as_number(v, value)) for v in items]
        if node.op in ORDER:
            return Q(EXPRESSION_LOOKUPS[node.op](LATENCY, seconds[0]))
        return Q(end_time__isnull=False) & _combine(
            node, lambda s: Q(Exact(LATENCY, s)), seconds
        )
    if kind == "root":
        if items[0] not in (True, False):
            raise fail(
                f"is_root compares with true or false, not {_show(items[0])}", value
            )
        return Q(parent__isnull=items[0] == (node.op == "eq"))
    if kind == "error":
        return _combine(node, _error_q(value), items)
    if kind == "thread":
        members = trace_filters.in_threads([as_text(v, value) for v in items])
        return ~members if node.op == "neq" else members
    # tags
    return _combine(node, lambda t: Q(TagMatch(as_text(t, value))), items)


def _error_q(at: Value) -> Callable[[Any], Q]:
    def make(value: Any) -> Q:
        if value is None:
            return Q(error__isnull=True) | Q(error="")
        return Q(error=as_text(value, at))

    return make


def pair_q(family: str, conditions: list[tuple[str, str, list[Any], Value]]) -> Q:
    """One entry (or feedback row) meeting every condition."""
    if family == "feedback":
        feedback = Feedback.objects.filter(run_id=OuterRef("id"))
        for kind, op, items, at in conditions:
            field = "key" if kind == "key" else "score"
            if kind == "key":
                items = [as_text(v, at) for v in items]
            else:
                items = [_as_number(v, at) for v in items]
            if op == "search":
                feedback = feedback.filter(key__icontains=items[0])
                continue
            node = Call(op, (), at.position)
            feedback = feedback.filter(_field_q(field, node, items))
        return Q(Exists(feedback.order_by()))
    column, path = JSON_FAMILIES[family]
    parts = [
        like_condition(kind, op, [_entry_text(v) for v in items])
        for kind, op, items, at in conditions
    ]
    if family == "metadata":
        return Q(metadata_match(parts))
    return Q(JsonEntryMatch(column, path, parts))


def _entry_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    # The grammar leaves only strings and numbers (a list was refused before).
    return str(value)
