"""Users: a project's users (the roots' ``user_id``) and one user's activity.

Reads the user rollups (``runs.thread_models.UserRollup``, kept by triggers):
a page of users is an index read on (project, last seen); a user's traces an
index range on (project, user, start).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from django.db.models import Count, QuerySet

from runs.query.keyset import MAX_PAGE, Page, RollupFilter, latest_page
from runs.thread_models import ThreadRollup, TraceRollup, UserRollup

# A user's threads are found among their latest traces, this many at most.
THREAD_SCAN = 1000


class UserFilter(RollupFilter):
    """What a users list may be narrowed by."""


def list_users(
    project_id: uuid.UUID,
    *,
    where: UserFilter | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page:
    """A page of a project's users, last seen first."""
    where = where or UserFilter()
    return latest_page(UserRollup, project_id, where, cursor=cursor, limit=limit)


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
