"""Keyset pages over the rollup tables, and the filters threads and users share.

Cursors are opaque: base64 of the keyset values of the page's last row,
checked against the expected types when they come back. A page reads one row
more than it shows to tell whether another page follows.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from django.db.models import Model, Q, QuerySet
from django.utils.dateparse import parse_datetime

from runs.thread_models import GroupRollup

MAX_PAGE = 100


class BadCursor(ValueError):
    """A cursor that this server did not hand out."""


def encode_cursor(*values: Any) -> str:
    data = orjson.dumps(
        [
            v.isoformat()
            if isinstance(v, datetime)
            else str(v)
            if isinstance(v, uuid.UUID)
            else v
            for v in values
        ]
    )
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def decode_cursor(cursor: str, kinds: Sequence[type]) -> list[Any]:
    """The keyset values of a cursor, checked against the expected types."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = orjson.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise BadCursor("cursor is not one this server returned") from exc
    if not isinstance(values, list) or len(values) != len(kinds):
        raise BadCursor("cursor is not one this server returned")
    out: list[Any] = []
    for value, kind in zip(values, kinds, strict=True):
        try:
            if kind is datetime:
                parsed = parse_datetime(value) if isinstance(value, str) else None
                if parsed is None:
                    raise ValueError(value)
                out.append(parsed)
            elif kind is uuid.UUID:
                out.append(uuid.UUID(value))
            elif kind is int and isinstance(value, int) and not isinstance(value, bool):
                out.append(value)
            else:
                raise ValueError(value)
        except (TypeError, ValueError) as exc:
            raise BadCursor("cursor is not one this server returned") from exc
    return out


@dataclass
class Page:
    items: list[Any]
    next_cursor: str | None


def keyset_page[M: Model](
    qs: QuerySet[M],
    keys: tuple[tuple[str, type], tuple[str, type]],
    *,
    cursor: str | None,
    limit: int,
    descending: bool,
) -> Page:
    """A page of ``qs`` ordered by two columns (the second breaks ties)."""
    (first, first_kind), (second, second_kind) = keys
    if cursor:
        at, tie = decode_cursor(cursor, (first_kind, second_kind))
        past = "lt" if descending else "gt"
        qs = qs.filter(
            Q(**{f"{first}__{past}": at}) | Q(**{first: at, f"{second}__{past}": tie})
        )
    limit = max(1, min(limit, MAX_PAGE))
    sign = "-" if descending else ""
    rows = list(qs.order_by(f"{sign}{first}", f"{sign}{second}")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if more else None
    next_cursor = (
        encode_cursor(getattr(last, first), getattr(last, second)) if last else None
    )
    return Page(rows, next_cursor)


@dataclass
class RollupFilter:
    """What a list of threads or users may be narrowed by (dashboard, API, MCP)."""

    search: str = ""
    errors: bool | None = None
    active_after: datetime | None = None
    active_before: datetime | None = None

    def apply[G: GroupRollup](self, qs: QuerySet[G]) -> QuerySet[G]:
        model = qs.model
        if self.search:
            qs = qs.filter(**{f"{model.KEY}__icontains": self.search})
        if self.errors is True:
            qs = qs.filter(**{f"{model.ERRORS}__gt": 0})
        elif self.errors is False:
            qs = qs.filter(**{model.ERRORS: 0})
        if self.active_after is not None:
            qs = qs.filter(last_start__gte=self.active_after)
        if self.active_before is not None:
            qs = qs.filter(last_start__lt=self.active_before)
        return qs


def latest_page[G: GroupRollup](
    model: type[G],
    project_id: uuid.UUID,
    where: RollupFilter,
    *,
    cursor: str | None,
    limit: int,
) -> Page:
    """A page of a project's threads or users, latest activity first."""
    qs = where.apply(model.objects.filter(project_id=project_id))
    keys = (("last_start", datetime), ("id", int))
    return keyset_page(qs, keys, cursor=cursor, limit=limit, descending=True)
