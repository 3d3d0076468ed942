"""What a statistics summary covers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from runs.models import Run


@dataclass(frozen=True)
class StatsScope:
    """Projects (None = all) and a start-time range (None = open)."""

    project_ids: list[Any] | None = None
    start: datetime | None = None
    end: datetime | None = None

    def runs(self, queryset: QuerySet | None = None) -> QuerySet:
        qs = queryset if queryset is not None else Run.objects.all()
        if self.project_ids is not None:
            qs = qs.filter(project_id__in=self.project_ids)
        if self.start is not None:
            qs = qs.filter(start_time__gte=self.start)
        if self.end is not None:
            qs = qs.filter(start_time__lte=self.end)
        return qs
