"""Reading a dataset at a version: ``as_of`` times, tags and diffs."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.dateparse import parse_datetime

from datasets.models import Dataset, DatasetTag, Example


class UnknownVersion(ValueError):
    """An ``as_of`` that is neither a time nor a tag of the dataset."""


def resolve_as_of(dataset_id: Any, as_of: str | datetime | None) -> datetime | None:
    """The time an ``as_of`` value names; None means the current version.

    LangSmith accepts an ISO time, a tag of the dataset, or "latest".
    """
    if as_of is None or as_of == "" or as_of == "latest":
        return None
    if isinstance(as_of, datetime):
        return as_of
    when = parse_datetime(as_of)
    if when is not None:
        if when.tzinfo is None:
            from datetime import UTC

            when = when.replace(tzinfo=UTC)
        return when
    tag = DatasetTag.objects.filter(dataset_id=dataset_id, tag=as_of).first()
    if tag is None:
        raise UnknownVersion(
            f"{as_of!r} is neither an ISO time nor a tag of the dataset."
        )
    return tag.as_of


def valid_at(queryset: QuerySet, when: datetime | None) -> QuerySet:
    """The example revisions of ``queryset`` that were current at ``when``."""
    if when is None:
        return queryset.filter(valid_to__isnull=True)
    return queryset.filter(
        Q(valid_to__isnull=True) | Q(valid_to__gt=when), valid_from__lte=when
    )


def version_times(dataset: Dataset) -> list[datetime]:
    """Every time the dataset's examples changed, newest first."""
    rows = Example.objects.filter(dataset=dataset)
    times = set(rows.values_list("valid_from", flat=True))
    times |= set(rows.filter(valid_to__isnull=False).values_list("valid_to", flat=True))
    return sorted(times, reverse=True)


def tags_by_time(dataset: Dataset) -> dict[datetime, list[str]]:
    tags: dict[datetime, list[str]] = {}
    for tag in DatasetTag.objects.filter(dataset=dataset).order_by("tag"):
        tags.setdefault(tag.as_of, []).append(tag.tag)
    return tags


def version_at(dataset: Dataset, when: datetime | None) -> datetime | None:
    """The newest version time at or before ``when`` (None = the newest)."""
    times = version_times(dataset)
    if when is None:
        return times[0] if times else None
    return next((t for t in times if t <= when), None)


def version_dict(dataset: Dataset, when: datetime) -> dict[str, Any]:
    return {"as_of": when.isoformat(), "tags": tags_by_time(dataset).get(when, [])}


def diff(dataset: Dataset, before: datetime | None, after: datetime | None) -> dict:
    """Examples added, removed and modified between two versions."""
    rows = Example.objects.filter(dataset=dataset)

    def state(when: datetime | None) -> dict[uuid.UUID, int]:
        return dict(valid_at(rows, when).values_list("id", "revision"))

    old, new = state(before), state(after)
    return {
        "examples_added": sorted(str(i) for i in new.keys() - old.keys()),
        "examples_removed": sorted(str(i) for i in old.keys() - new.keys()),
        "examples_modified": sorted(
            str(i) for i in old.keys() & new.keys() if old[i] != new[i]
        ),
    }
