"""JSON text cut short, read as far as it goes.

A body read by its first characters (``runs.query.previews``) ends anywhere:
inside a string, after a key, in a number. ``read_excerpt`` keeps every
complete value, keeps a cut string value as far as it goes (a long question
is still its first line), drops a dangling key, comma or possibly cut number,
and closes what is open. It also says whether the cut fell inside a list,
whose last items (a conversation's last message) the text lacks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson

_TOKEN = re.compile(
    r'\s*(?:(?P<string>"[^"\\]*+(?:\\.[^"\\]*+)*+")|(?P<open>[{\[])|(?P<close>[}\]])'
    r'|(?P<comma>,)|(?P<colon>:)|(?P<scalar>[^\s{}\[\],:"]+))'
)
_CLOSERS = {"{": "}", "[": "]"}
_FAILED = object()
# A cut escape sequence is at most 6 characters ("\u12" of "\u1234").
_ESCAPE_CHARS = 6


@dataclass(frozen=True)
class Excerpt:
    """The document as far as it goes (``value``, None if nothing could be
    read); ``in_array``: the text was cut inside a list."""

    value: Any
    in_array: bool = False


def _load(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return _FAILED


def read_excerpt(text: str) -> Excerpt:
    """``text``, a JSON document possibly cut short, read as far as it goes."""
    whole = _load(text)
    if whole is not _FAILED:
        return Excerpt(whole)
    brackets: list[str] = []  # the arrays and objects open here
    cut, cut_brackets = 0, ""  # text[:cut] closed by cut_brackets reads as JSON
    previous = ""
    pos = 0
    while (match := _TOKEN.match(text, pos)) is not None:
        kind, end = match.lastgroup, match.end()
        in_object = bool(brackets) and brackets[-1] == "{"
        is_key = kind == "string" and in_object and previous in ("open", "comma")
        if kind == "open":
            brackets.append(match["open"])
        elif kind == "close" and brackets:
            brackets.pop()
        # A scalar that touches the end may itself be cut ("tru", "12" of "125").
        complete = kind == "close" or (kind == "string" and not is_key)
        complete = complete or (kind == "scalar" and end < len(text))
        if complete or kind == "open":
            cut, cut_brackets = end, "".join(brackets)
        previous = "key" if is_key else kind
        pos = end
    in_array = "[" in brackets
    rest = text[pos:].lstrip()
    in_object = bool(brackets) and brackets[-1] == "{"
    if rest.startswith('"') and not (in_object and previous != "colon"):
        # A string value cut short: closed, less any cut escape sequence.
        closers = "".join(_CLOSERS[b] for b in reversed(brackets))
        for trim in range(_ESCAPE_CHARS + 1):
            found = _load(text[:pos] + rest[: len(rest) - trim] + '"' + closers)
            if found is not _FAILED:
                return Excerpt(found, in_array)
    closers = "".join(_CLOSERS[b] for b in reversed(cut_brackets))
    found = _load(text[:cut] + closers) if cut else _FAILED
    return Excerpt(None if found is _FAILED else found, in_array)
