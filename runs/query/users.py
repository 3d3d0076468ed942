"""Users: a project's users (the roots' ``user_id``) and one user's activity.

Reads the user rollups (``runs.thread_models.UserRollup``, kept by triggers):
a page of users is an index read on (project, last seen); a user's traces an
index range on (project, user, start).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q, QuerySet

from runs.query.threads import MAX_PAGE, Page, decode_cursor, encode_cursor
from runs.thread_models import ThreadRollup, TraceRollup, UserRollup

# A user's threads are found among their latest traces, this many at most.
THREAD_SCAN = 1000


@dataclass
class UserFilter:
    search: str = ""
    errors: bool | None = None
    active_after: datetime | None = None

    def apply(self, qs: QuerySet[UserRollup]) -> QuerySet[UserRollup]:
        if self.search:
            qs = qs.filter(user_id__icontains=self.search)
        if self.errors is True:
            qs = qs.filter(error_traces__gt=0)
        elif self.errors is False:
            qs = qs.filter(error_traces=0)
        if self.active_after is not None:
            qs = qs.filter(last_start__gte=self.active_after)
        return qs


def list_users(
    project_id: uuid.UUID,
    *,
    where: UserFilter | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page:
    """A page of a project's users, last seen first."""
    qs = (where or UserFilter()).apply(UserRollup.objects.filter(project_id=project_id))
    if cursor:
        last, pk = decode_cursor(cursor, (datetime, int))
        qs = qs.filter(Q(last_start__lt=last) | Q(last_start=last, id__lt=pk))
    limit = max(1, min(limit, MAX_PAGE))
    rows = list(qs.order_by("-last_start", "-id")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, encode_cursor(rows[-1].last_start, rows[-1].id) if more else None)


def thread_counts(project_id: uuid.UUID, user_ids: Sequence[str]) -> dict[str, int]:
    """How many threads each of these users took part in."""
    rows = (
        traces_of(project_id, list(user_ids))
        .exclude(thread_id="")
        .values("user_id")
        .annotate(n=Count("thread_id", distinct=True))
        .order_by()
    )
    return {row["user_id"]: row["n"] for row in rows}


def traces_of(project_id: uuid.UUID, user_ids: list[str]) -> QuerySet[TraceRollup]:
    return TraceRollup.objects.filter(
        project_id=project_id, user_id__in=user_ids, root_id__isnull=False
    ).exclude(user_id="")


def user_projects(user_id: str) -> list[UserRollup]:
    """The user's rollup row in each project they were seen in."""
    return list(UserRollup.objects.filter(user_id=user_id).order_by("-last_start"))


def user_traces(project_id: uuid.UUID, user_id: str, limit: int = 50) -> list:
    return list(traces_of(project_id, [user_id]).order_by("-start_time")[:limit])


def user_threads(project_id: uuid.UUID, user_id: str) -> list[ThreadRollup]:
    """Threads holding any of the user's latest traces, latest activity first."""
    ids = set(
        traces_of(project_id, [user_id])
        .exclude(thread_id="")
        .order_by("-start_time")
        .values_list("thread_id", flat=True)[:THREAD_SCAN]
    )
    return list(
        ThreadRollup.objects.filter(project_id=project_id, thread_id__in=ids).order_by(
            "-last_start"
        )[:MAX_PAGE]
    )
