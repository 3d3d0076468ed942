"""Feedback summaries: per key, how many and the average score, in a scope."""

from __future__ import annotations

from typing import Any

from django.db.models import Avg, Count

from runs.models import Feedback
from runs.query.scope import StatsScope

TOP_KEYS = 20


def feedback_summary(scope: StatsScope) -> list[dict[str, Any]]:
    """The most used feedback keys of the scope's projects, given in its range."""
    rows = Feedback.objects.all()
    if scope.project_ids is not None:
        rows = rows.filter(session_id__in=scope.project_ids)
    if scope.start is not None:
        rows = rows.filter(created_at__gte=scope.start)
    if scope.end is not None:
        rows = rows.filter(created_at__lte=scope.end)
    return list(
        rows.values("key")
        .annotate(n=Count("id"), avg=Avg("score"), scored=Count("score"))
        .order_by("-n", "key")[:TOP_KEYS]
    )
