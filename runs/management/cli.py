"""What every management command says and parses the same way.

One parser for times (``parse_time``) and ages (``parse_age``), each naming
the option and the accepted formats when a value is refused; one wording for a
project that does not exist; counted nouns with their plural.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, time, timedelta

from django.core.management.base import CommandError
from django.utils import timezone

_AGE = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$", re.IGNORECASE)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
AGE_FORMATS = "a number and a unit: 30d, 12h, 90m, 2w or 45s"
TIME_FORMATS = (
    "YYYY-MM-DD (midnight UTC), an ISO-8601 time such as 2026-01-31T12:00:00Z, "
    "today, yesterday, or an age such as 7d or 12h (that long ago)"
)


def plural(count: int, noun: str, plural_noun: str | None = None) -> str:
    """``1 trace``, ``2 traces``, ``1,234 runs``."""
    word = noun if count == 1 else (plural_noun or f"{noun}s")
    return f"{count:,} {word}"


def age(text: str) -> timedelta | None:
    """``30d`` -> 30 days; None when the text is not an age."""
    match = _AGE.match(text or "")
    if not match:
        return None
    return timedelta(**{_UNITS[match.group(2).lower()]: int(match.group(1))})


def parse_age(text: str, *, option: str) -> timedelta:
    value = age(text)
    if value is None:
        raise CommandError(f"{option}: {text!r} is not an age; use {AGE_FORMATS}.")
    return value


def parse_time(text: str, *, option: str) -> datetime:
    """A point in time as the commands accept it (UTC when no zone is given)."""
    cleaned = (text or "").strip()
    today = datetime.combine(timezone.now().date(), time(), tzinfo=UTC)
    named = {"today": today, "yesterday": today - timedelta(days=1)}
    if cleaned.lower() in named:
        return named[cleaned.lower()]
    ago = age(cleaned)
    if ago is not None:
        return timezone.now() - ago
    try:
        value = datetime.fromisoformat(cleaned.replace("Z", "+00:00"))
    except ValueError:
        raise CommandError(
            f"{option}: {text!r} is not a date or time; use {TIME_FORMATS}."
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def unknown_project(names: Iterable[str], *, option: str = "--project") -> str:
    """The one message for projects that do not exist."""
    listed = ", ".join(repr(n) for n in names)
    return f"{option}: unknown project {listed}."
