"""JSON writing that keeps numbers past 64 bits exact.

orjson writes integers of at most 64 bits. PostgreSQL's jsonb stores a number
such as ``1e20`` as the integer 100000000000000000000, which Python then reads
as an ``int`` orjson refuses: such values are written from their exact decimal
text instead. Only a value that needs it takes the slower path.
"""

from __future__ import annotations

from typing import Any

import orjson

_LOW, _HIGH = -(2**63), 2**64 - 1


def dumps(value: Any, option: int = 0, default: Any = None) -> bytes:
    """``orjson.dumps``, also for integers of any size (written exactly)."""
    try:
        return orjson.dumps(value, default=default, option=option)
    except orjson.JSONEncodeError as exc:
        if "64-bit" not in str(exc):
            raise
    return orjson.dumps(exact(value), default=default, option=option)


def exact(value: Any) -> Any:
    """A copy of ``value`` whose out-of-range integers are JSON text fragments."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if _LOW <= value <= _HIGH else orjson.Fragment(str(value))
    if isinstance(value, dict):
        return {key: exact(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [exact(item) for item in value]
    return value
