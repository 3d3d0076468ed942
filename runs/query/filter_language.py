"""LangSmith's filter language, parsed once into the query layer's ``Q`` objects.

``and(eq(run_type, "llm"), gt(latency, 5))``: a call is a comparator on an
attribute (``eq neq gt gte lt lte has search in``) or a combinator of calls
(``and or not``). The grammar is lark's (LALR, so nesting costs no Python
recursion while parsing); what each attribute means lives in
``filter_attributes``. Expressions are untrusted: length and nesting are capped
before parsing, values only ever reach SQL as parameters, and every mistake
is a ``FilterError`` naming the position and what was expected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.db.models import Q
from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedInput

MAX_LENGTH = 10_000
MAX_DEPTH = 32
MAX_COMPARISONS = 100
MAX_LIST_ITEMS = 100

GRAMMAR = r"""
?start: call
call: NAME "(" [arg ("," arg)*] ")"
?arg: call
    | NAME -> attribute
    | scalar
    | "[" [item ("," item)*] "]" -> array
?item: scalar
    | NAME -> constant
?scalar: STRING -> string
    | NUMBER -> number
STRING: /"(?:[^"\\]|\\.)*"/ | /'(?:[^'\\]|\\.)*'/
NUMBER: /[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?/
NAME: /[A-Za-z_][A-Za-z0-9_]*/
%ignore /\s+/
"""
# Terminal names as an error message says them.
TERMINALS = {
    "LPAR": "'('",
    "RPAR": "')'",
    "LSQB": "'['",
    "RSQB": "']'",
    "COMMA": "','",
    "NAME": "a name",
    "STRING": "a quoted string",
    "NUMBER": "a number",
    "$END": "the end",
}
CONSTANTS = {"null": None, "true": True, "false": False}
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}
# JSON's escapes too: the SDK quotes values with json.dumps (Client.read_thread),
# which writes every non-ASCII character as \uXXXX (a surrogate pair past U+FFFF).
_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|.)")


class FilterError(ValueError):
    """A filter expression that cannot be used, with where and why."""

    def __init__(self, message: str, position: int | None = None) -> None:
        self.position = position
        if position is not None:
            message = f"At position {position}: {message}"
        super().__init__(message)


@dataclass(frozen=True)
class Attr:
    name: str
    position: int


@dataclass(frozen=True)
class Value:
    value: Any
    position: int


@dataclass(frozen=True)
class Call:
    """``op(args...)``; ``position`` is the 1-based column of the name."""

    op: str
    args: tuple[Any, ...]
    position: int


def _pos(token: Token) -> int:
    return (token.start_pos or 0) + 1


def _unescape(match: re.Match[str]) -> str:
    escape = match[1]
    if len(escape) == 5:
        return chr(int(escape[1:], 16))
    return _ESCAPES.get(escape, escape)


def _unquote(text: str) -> str:
    value = _ESCAPE.sub(_unescape, text[1:-1])
    if any("\ud800" <= c <= "\udfff" for c in value):
        # Pairs become their character; a lone half becomes U+FFFD.
        value = value.encode("utf-16-le", "surrogatepass").decode(
            "utf-16-le", "replace"
        )
    return value


@v_args(inline=True)
class _ToTree(Transformer):
    def call(self, name: Token, *args: Any) -> Call:
        return Call(str(name), tuple(a for a in args if a is not None), _pos(name))

    def attribute(self, name: Token) -> Attr | Value:
        if name in CONSTANTS:
            return Value(CONSTANTS[str(name)], _pos(name))
        return Attr(str(name), _pos(name))

    def constant(self, name: Token) -> Value:
        if name not in CONSTANTS:
            raise FilterError(
                f"unexpected {str(name)!r} in a list; expected a quoted string, "
                "a number, true, false or null",
                _pos(name),
            )
        return Value(CONSTANTS[str(name)], _pos(name))

    def string(self, token: Token) -> Value:
        return Value(_unquote(str(token)), _pos(token))

    def number(self, token: Token) -> Value:
        text = str(token)
        is_int = re.fullmatch(r"[+-]?\d+", text)
        return Value(int(text) if is_int else float(text), _pos(token))

    @v_args(meta=True, inline=False)
    def array(self, meta: Any, items: list[Value | None]) -> Value:
        values = [item for item in items if item is not None]
        position = meta.start_pos + 1
        if len(values) > MAX_LIST_ITEMS:
            raise FilterError(f"a list holds at most {MAX_LIST_ITEMS} values", position)
        return Value([item.value for item in values], position)


@lru_cache(maxsize=1)
def _parser() -> Lark:
    return Lark(
        GRAMMAR,
        parser="lalr",
        lexer="basic",
        maybe_placeholders=True,
        propagate_positions=True,
    )


def _expected(names: set[str]) -> str:
    said = sorted({TERMINALS.get(name, name) for name in names})
    return " or ".join(said) if said else "nothing more"


def _check_shape(text: str) -> None:
    """Length, nesting and size bounds, checked on tokens before any parsing."""
    if len(text) > MAX_LENGTH:
        raise FilterError(f"an expression holds at most {MAX_LENGTH:,} characters")
    depth = comparisons = 0
    try:
        for token in _parser().lex(text):
            if token.type in ("LPAR", "LSQB"):
                depth += 1
                if depth > MAX_DEPTH:
                    raise FilterError(
                        f"nesting deeper than {MAX_DEPTH} levels", _pos(token)
                    )
                comparisons += token.type == "LPAR"
            elif token.type in ("RPAR", "RSQB"):
                depth -= 1
    except UnexpectedCharacters as exc:
        raise FilterError(
            f"unexpected character {text[exc.pos_in_stream]!r}; expected "
            f"{_expected(set(exc.allowed or ()))}",
            exc.pos_in_stream + 1,
        ) from None
    if comparisons > MAX_COMPARISONS:
        raise FilterError(f"an expression holds at most {MAX_COMPARISONS} calls")


def _innermost(text: str, end: int | None) -> str:
    """The type of the bracket still open at offset ``end`` ("" for none)."""
    stack: list[str] = []
    for token in _parser().lex(text):
        if end is not None and token.start_pos is not None and token.start_pos >= end:
            break
        if token.type in ("LPAR", "LSQB"):
            stack.append(token.type)
        elif token.type in ("RPAR", "RSQB") and stack:
            stack.pop()
    return stack[-1] if stack else ""


def parse(text: str) -> Call:
    """The syntax tree of ``text``; ``FilterError`` when it is malformed."""
    if not isinstance(text, str) or not text.strip():
        raise FilterError("the expression is empty; expected a call such as eq(...)")
    _check_shape(text)
    try:
        tree = _parser().parse(text)
    except UnexpectedInput as exc:
        token = getattr(exc, "token", None)
        names = set(getattr(exc, "expected", None) or ())
        # LALR merges the states after a call's and a list's values: say
        # only the closer of the bracket that is open here.
        inner = _innermost(text, exc.pos_in_stream)
        names.discard({"LPAR": "RSQB", "LSQB": "RPAR"}.get(inner, ""))
        expected = _expected(names)
        if token is None or token.type == "$END":
            raise FilterError(
                f"the expression ends early; expected {expected}", len(text) + 1
            ) from None
        raise FilterError(
            f"unexpected {str(token)[:40]!r}; expected {expected}", _pos(token)
        ) from None
    try:
        return _ToTree().transform(tree)
    except Exception as exc:  # lark wraps errors raised in a transformer
        cause = getattr(exc, "orig_exc", exc)
        if isinstance(cause, FilterError):
            raise cause from None
        raise


def compile_filter(text: str, *, scope: str = "run") -> Q:
    """``text`` as a ``Q`` over runs.

    ``scope``: ``"run"`` (the runs themselves), ``"trace"`` (runs whose
    trace's root matches) or ``"tree"`` (runs of a trace where any run
    matches), LangSmith's ``filter``, ``trace_filter`` and ``tree_filter``.
    """
    from runs.query.filter_compiler import to_q, trace_scope

    condition = to_q(parse(text))
    return condition if scope == "run" else trace_scope(condition, scope)
