"""The filter language's syntax tree as one ``Q`` over runs.

Combinators become ``Q`` algebra; comparisons are looked up in the attribute
table (``filter_attributes``). Inside one ``and(...)`` the comparisons of a
pair family are gathered into one condition on the same entry or row.
"""

from __future__ import annotations

from typing import Any

from django.db.models import OuterRef, Q

from runs.models import Run
from runs.query import trace_filters
from runs.query.filter_attributes import (
    KNOWN,
    OPERATORS,
    Attribute,
    as_text,
    comparison_q,
    fail,
    pair_q,
    values_of,
)
from runs.query.filter_language import Attr, Call, Value
from runs.query.search import RunTextMatch, SearchText
from runs.query.trace_filters import TraceScan

COMBINATORS = ("and", "or", "not")
COMPARATORS = ("eq", "neq", "gt", "gte", "lt", "lte", "has", "search", "in")


def _operands(node: Call) -> tuple[Attribute, str, Value]:
    if len(node.args) != 2:
        raise fail(f"{node.op}(...) takes an attribute and a value", node)
    attr, value = node.args
    if not isinstance(attr, Attr):
        raise fail(f"{node.op}(...) expects an attribute name first", attr)
    if not isinstance(value, Value):
        raise fail(f"{node.op}(...) expects a value second, not a call", value)
    attribute = KNOWN.get(attr.name)
    if attribute is None:
        raise fail(
            f"unknown attribute {attr.name!r}; expected one of "
            f"{', '.join(sorted(KNOWN))}",
            attr,
        )
    allowed = OPERATORS[attribute.kind]
    if node.op not in allowed:
        raise fail(
            f"{attr.name} does not take {node.op}(...); expected one of "
            f"{', '.join(allowed)}",
            node,
        )
    return attribute, attr.name, value


def _search(node: Call) -> Q:
    if len(node.args) == 1 and isinstance(node.args[0], Value):
        text = as_text(node.args[0].value, node.args[0]).strip()
        if not text:
            raise fail("search(...) needs some text", node.args[0])
        # A run matches only inside a trace that matches: the trace filter
        # narrows a rare word through the search index first.
        return trace_filters.with_text(text) & Q(RunTextMatch(SearchText(text)))
    attribute, name, value = _operands(node)
    text = as_text(value.value, value)
    if attribute.kind in ("text", "error"):
        return Q(**{f"{attribute.field}__icontains": text})
    return pair_q(attribute.family, [(attribute.kind, node.op, [text], value)])


def _is_pair(node: Any) -> bool:
    if not isinstance(node, Call) or node.op not in COMPARATORS:
        return False
    if not node.args or not isinstance(node.args[0], Attr):
        return False
    attribute = KNOWN.get(node.args[0].name)
    return attribute is not None and bool(attribute.family) and len(node.args) == 2


def _and(node: Call) -> Q:
    families: dict[str, list[tuple[str, str, list[Any], Value]]] = {}
    q = Q()
    for arg in node.args:
        if _is_pair(arg):
            attribute, _, value = _operands(arg)
            families.setdefault(attribute.family, []).append(
                (attribute.kind, arg.op, values_of(arg, value), value)
            )
        else:
            q &= to_q(arg)
    for family, conditions in families.items():
        q &= pair_q(family, conditions)
    return q


def to_q(node: Any) -> Q:
    """A syntax tree (``filter_language.parse``) as a ``Q`` over runs."""
    if not isinstance(node, Call):
        raise fail('expected a call such as eq(name, "x")', node)
    op = node.op
    if op in ("and", "or"):
        if not node.args:
            raise fail(f"{op}(...) needs at least one condition", node)
        if op == "and":
            return _and(node)
        q = Q()
        for arg in node.args:
            q |= to_q(arg)
        return q
    if op == "not":
        if len(node.args) != 1:
            raise fail("not(...) takes exactly one condition", node)
        return ~to_q(node.args[0])
    if op == "search":
        return _search(node)
    if op not in COMPARATORS:
        raise fail(
            f"unknown operator {op!r}; expected one of "
            f"{', '.join(COMBINATORS + COMPARATORS)}",
            node,
        )
    if _is_pair(node):
        attribute, _, value = _operands(node)
        return pair_q(
            attribute.family, [(attribute.kind, op, values_of(node, value), value)]
        )
    attribute, _, value = _operands(node)
    return comparison_q(node, attribute, value)


def metadata_q(key: str = "", value: str = "") -> Q:
    """LangSmith's ``metadata_key``/``metadata_value`` parameters: one metadata
    entry with this key, this value (compared as text), or both.

    Compiled as ``and(eq(metadata_key, key), eq(metadata_value, value))``, so
    the parameters and the language share one matcher and its plans.
    """
    comparisons = tuple(
        Call("eq", (Attr(name, 1), Value(text, 1)), 1)
        for name, text in (("metadata_key", key), ("metadata_value", value))
        if text
    )
    return to_q(Call("and", comparisons, 1))


def trace_scope(condition: Q, scope: str) -> Q:
    """Runs whose trace's root (``"trace"``) or any run (``"tree"``) matches."""
    runs = Run.objects.filter(trace_id=OuterRef("trace_id"))
    if scope == "trace":
        runs = runs.filter(parent__isnull=True)
    return Q(TraceScan(runs.filter(condition).order_by()))
