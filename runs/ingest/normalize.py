"""Validate one run dict from any wire format and derive what clients leave out.

A create or patch arrives as a plain dict (LangSmith JSON, a multipart part, an
OTLP span mapped to LangSmith keys). ``clean_op`` checks the types of the keys
this server understands, ignores the rest, and drops nulls: in a patch a null
means "not provided".
"""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

JSON_OBJECT_FIELDS = ("inputs", "outputs", "extra", "serialized")
TEXT_LIMITS = {"name": 512, "run_type": 64, "session_name": 255}


class InvalidField(ValueError):
    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


@dataclass
class RunOp:
    """One create ("post") or update ("patch") of a run, cleaned."""

    kind: str
    id: uuid.UUID
    values: dict[str, Any] = field(default_factory=dict)


@functools.lru_cache(maxsize=8192)
def _uuid(value: str) -> uuid.UUID:
    # One request repeats each trace id and parent id in many parts.
    return uuid.UUID(value)


def parse_uuid(value: Any, field_name: str) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    if not isinstance(value, str):
        raise InvalidField(field_name, f"expected a UUID string, got {_kind(value)}")
    try:
        return _uuid(value)
    except ValueError:
        raise InvalidField(field_name, f"{value[:60]!r} is not a valid UUID") from None


# Every stored time, and an hour or a day either side of it (rollup buckets,
# offsets), must fit in a datetime on both databases.
TIME_MIN = datetime(1, 1, 2, tzinfo=UTC)
TIME_MAX = datetime(9999, 12, 30, tzinfo=UTC)
TIME_RANGE = "is out of range (0001-01-02 .. 9999-12-30 UTC)"


def bounded_utc(dt: datetime) -> datetime:
    """``dt`` in UTC; ValueError if it falls outside TIME_MIN .. TIME_MAX."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    try:
        dt = dt.astimezone(UTC)
    except OverflowError:
        raise ValueError(TIME_RANGE) from None
    if not TIME_MIN <= dt <= TIME_MAX:
        raise ValueError(TIME_RANGE)
    return dt


def parse_time(value: Any, field_name: str) -> datetime:
    if isinstance(value, str):
        try:
            dt = datetime.fromisoformat(value)
        except ValueError:
            raise InvalidField(
                field_name, f"{value[:60]!r} is not an ISO-8601 timestamp"
            ) from None
        if dt.tzinfo is UTC and 1 < dt.year < 9999:
            return dt  # what SDKs send: nothing to convert
    elif isinstance(value, datetime):
        dt = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        # Epoch milliseconds (some JS clients) or seconds.
        seconds = value / 1000 if value > 1e11 else value
        try:
            dt = datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise InvalidField(field_name, f"{value} is out of range") from None
    else:
        raise InvalidField(field_name, f"expected a timestamp, got {_kind(value)}")
    try:
        return bounded_utc(dt)
    except ValueError:
        raise InvalidField(field_name, f"{value!s:.60} {TIME_RANGE}") from None


def _kind(value: Any) -> str:
    return {
        dict: "an object",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
        type(None): "null",
    }.get(type(value), type(value).__name__)


def clean_text(value: str) -> str:
    """PostgreSQL text cannot hold NUL; replace it on every database alike."""
    return value.replace("\x00", "\ufffd") if "\x00" in value else value


def strip_nul(value: Any) -> Any:
    """``clean_text`` through a JSON value (keys too), for ORM-written rows."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {strip_nul(k): strip_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [strip_nul(v) for v in value]
    return value


def _text(value: Any, field_name: str) -> str:
    if not isinstance(value, str):
        raise InvalidField(field_name, f"expected a string, got {_kind(value)}")
    limit = TEXT_LIMITS.get(field_name)
    return clean_text(value[:limit] if limit else value)


def _object(value: Any, key: str) -> dict:
    if isinstance(value, dict):
        return value
    if key == "outputs" or key == "inputs":
        # A bare return value is wrapped the way the SDK does it.
        return {"output" if key == "outputs" else "input": value}
    raise InvalidField(key, f"expected an object, got {_kind(value)}")


def _list(value: Any, key: str) -> list:
    if not isinstance(value, list):
        raise InvalidField(key, f"expected a list, got {_kind(value)}")
    return value


def _tags(value: Any, key: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise InvalidField(key, "expected a list of strings")
    return value


def _error(value: Any, key: str) -> str:
    return clean_text(value if isinstance(value, str) else _error_text(value))


def _cost(value: Any, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise InvalidField(key, f"expected a number of US dollars, got {_kind(value)}")
    try:
        number = float(value)
    except ValueError:
        raise InvalidField(key, f"{value[:60]!r} is not a number") from None
    if not 0 <= number < 1e9:
        raise InvalidField(key, f"{number} is out of range")
    return number


# The keys this server understands and how each is checked; others are ignored.
_FIELDS: dict[str, Callable[[Any, str], Any]] = {
    "trace_id": parse_uuid,
    "parent_run_id": parse_uuid,
    "reference_example_id": parse_uuid,
    "session_id": parse_uuid,
    "start_time": parse_time,
    "end_time": parse_time,
    "name": _text,
    "run_type": _text,
    "session_name": _text,
    "dotted_order": _text,
    "inputs": _object,
    "outputs": _object,
    "extra": _object,
    "serialized": _object,
    "events": _list,
    "tags": _tags,
    "error": _error,
    # Costs a client computed itself (LangSmith's run fields); they win.
    "prompt_cost": _cost,
    "completion_cost": _cost,
    "total_cost": _cost,
    "address": lambda value, key: _address_lrn(value, key),
}


def _address_lrn(value: Any, key: str) -> tuple[str, str]:
    # Imported here: the addresses module reads projects, which import this one.
    from runs.ingest.addresses import parse_lrn

    return parse_lrn(value, key)


def clean_op(kind: str, raw: Any, *, run_id: Any = None) -> RunOp:
    """Check one create/patch dict; raise InvalidField naming the bad key."""
    if not isinstance(raw, dict):
        raise InvalidField("run", f"expected an object, got {_kind(raw)}")
    rid = raw.get("id")
    if rid is None:
        rid = run_id
    if rid is None:
        raise InvalidField("id", "is required")
    op = RunOp(kind=kind, id=parse_uuid(rid, "id"))
    if run_id is not None and rid is not run_id:
        # The part name or URL names the run; its object may not name another.
        named = parse_uuid(run_id, "id")
        if named != op.id:
            raise InvalidField("id", f"is {op.id} but the request names run {named}")
    values = op.values
    fields = _FIELDS
    for key, value in raw.items():
        if value is not None:
            check = fields.get(key)
            if check is not None:
                values[key] = check(value, key)
    if "dotted_order" in values:
        _check_dotted_order(values["dotted_order"], op.id)
    return op


def _error_text(value: Any) -> str:
    if isinstance(value, dict) and "message" in value:
        return str(value["message"])
    return str(value)


# A segment as the SDKs write it: start time, then the run id.
_SEGMENT = re.compile(
    r"\d{8}T\d{12}Z([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
)
# A whole dotted order of such segments, matched in one call.
_DOTTED_ORDER = re.compile(
    r"(?:\d{8}T\d{12}Z[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.)*"
    + _SEGMENT.pattern
)


def _check_dotted_order(value: str, run_id: uuid.UUID) -> None:
    """Every segment ends in a run id; the last one is this run."""
    if not value:
        return
    match = _DOTTED_ORDER.fullmatch(value)
    if match:
        last_id = match.group(1)
    else:
        last_id = None
        for seg in value.split("."):
            match = _SEGMENT.fullmatch(seg)
            if match:
                last_id = match.group(1)
                continue
            try:  # other spellings of a UUID are accepted, at a slower pace
                last_id = str(_uuid(seg[-36:]))
            except ValueError:
                raise InvalidField(
                    "dotted_order",
                    f"segment {seg[:80]!r} does not end in a run id",
                ) from None
    # Every last_id is a valid UUID here; the cache usually holds it already
    # (it is the run's own id string).
    if _uuid(last_id) != run_id:
        raise InvalidField("dotted_order", f"last segment does not name run {run_id}")


def segment(start_time: datetime, run_id: uuid.UUID) -> str:
    """One dotted-order segment: start time then the run id, as the SDK writes it."""
    return start_time.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ") + str(run_id)


def trace_id_from_dotted_order(dotted_order: str) -> uuid.UUID | None:
    first = dotted_order.split(".", 1)[0]
    try:
        return uuid.UUID(first[-36:])
    except ValueError:
        return None


def start_time_from_dotted_order(dotted_order: str) -> datetime | None:
    last = dotted_order.rsplit(".", 1)[-1]
    try:
        return bounded_utc(
            datetime.strptime(last[:-36], "%Y%m%dT%H%M%S%fZ").replace(tzinfo=UTC)
        )
    except ValueError:
        return None
