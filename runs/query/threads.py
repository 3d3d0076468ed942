"""Threads (conversations): pages of a project's threads and a thread's turns.

Both read the rollups of ``runs.thread_models`` (kept by triggers): a page of
threads is an index read on (project, last activity), a thread's turns an
index read on (project, thread, start). Feedback is averaged for the page
being shown only. Cursors are opaque keyset positions.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import OuterRef, Q, QuerySet, Subquery

from runs.models import Feedback, Project
from runs.query.keyset import BadCursor as BadCursor  # callers say q.BadCursor
from runs.query.keyset import Page, RollupFilter, keyset_page, latest_page
from runs.thread_models import ThreadRollup, TraceRollup


@dataclass
class ThreadFilter(RollupFilter):
    """What a threads list may be narrowed by (the dashboard and the API)."""

    min_turns: int | None = None
    thread_ids: list[str] = field(default_factory=list)

    def apply(self, qs: QuerySet[ThreadRollup]) -> QuerySet[ThreadRollup]:
        qs = super().apply(qs)
        if self.min_turns:
            qs = qs.filter(turns__gte=self.min_turns)
        if self.thread_ids:
            qs = qs.filter(thread_id__in=self.thread_ids)
        return qs


def list_threads(
    project_id: uuid.UUID,
    *,
    where: ThreadFilter | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page:
    """A page of a project's threads, latest activity first."""
    where = where or ThreadFilter()
    return latest_page(ThreadRollup, project_id, where, cursor=cursor, limit=limit)


def thread_ends(
    project_id: uuid.UUID, thread_ids: Sequence[str]
) -> dict[str, tuple[TraceRollup, TraceRollup]]:
    """The first and last turn of each thread, in two index seeks per thread.

    One query for all: correlated subqueries on (project, thread, start).
    """
    ends = (
        ThreadRollup.objects.filter(project_id=project_id, thread_id__in=thread_ids)
        .annotate(
            first_trace=Subquery(
                _ends_of().order_by("start_time", "trace_id").values("trace_id")[:1]
            ),
            last_trace=Subquery(
                _ends_of().order_by("-start_time", "-trace_id").values("trace_id")[:1]
            ),
        )
        .values_list("thread_id", "first_trace", "last_trace")
    )
    pairs = [(t, f, la) for t, f, la in ends if f is not None and la is not None]
    rows = TraceRollup.objects.in_bulk({i for _, f, la in pairs for i in (f, la)})
    return {t: (rows[f], rows[la]) for t, f, la in pairs if f in rows and la in rows}


def _ends_of() -> QuerySet[TraceRollup]:
    return TraceRollup.objects.filter(
        project_id=OuterRef("project_id"),
        thread_id=OuterRef("thread_id"),
        root_id__isnull=False,
    ).exclude(thread_id="")


def get_thread(project_id: uuid.UUID, thread_id: str) -> ThreadRollup | None:
    return ThreadRollup.objects.filter(
        project_id=project_id, thread_id=thread_id
    ).first()


def turns() -> QuerySet[TraceRollup]:
    """Every thread's turns: traces whose stored root names a thread."""
    return TraceRollup.objects.filter(root_id__isnull=False).exclude(thread_id="")


def turns_of(project_id: uuid.UUID, thread_id: str) -> QuerySet[TraceRollup]:
    """The traces of a thread (its turns); the partial index serves it."""
    return turns().filter(project_id=project_id, thread_id=thread_id)


def turns_of_threads(thread_ids: Iterable[str]) -> QuerySet[TraceRollup]:
    """The turns of threads of these ids, in any project.

    The ids are compared as the rollups store them (clipped to the column).
    The projects are listed so each (project, thread) is one seek of the
    partial index, whose first column is the project.
    """
    clip = TraceRollup._meta.get_field("thread_id").max_length
    return turns().filter(
        project_id__in=Project.objects.values("id"),
        thread_id__in=sorted({str(t)[:clip] for t in thread_ids}),
    )


def list_turns(
    project_id: uuid.UUID,
    thread_id: str,
    *,
    cursor: str | None = None,
    limit: int = 20,
    trace_ids: Iterable[uuid.UUID] | None = None,
) -> Page:
    """A page of a thread's turns, oldest first."""
    qs = turns_of(project_id, thread_id)
    if trace_ids is not None:
        qs = qs.filter(trace_id__in=list(trace_ids))
    keys = (("start_time", datetime), ("trace_id", uuid.UUID))
    return keyset_page(qs, keys, cursor=cursor, limit=limit, descending=False)


def turn_numbers(project_id: uuid.UUID, turns: Sequence[TraceRollup]) -> list[int]:
    """1-based positions of these turns (one page, in order) in their thread."""
    if not turns:
        return []
    first = turns[0]
    before = (
        turns_of(project_id, first.thread_id)
        .filter(
            Q(start_time__lt=first.start_time)
            | Q(start_time=first.start_time, trace_id__lt=first.trace_id)
        )
        .count()
    )
    return [before + i for i in range(1, len(turns) + 1)]


@dataclass
class FeedbackStats:
    n: int = 0
    total: float = 0.0
    low: float | None = None
    high: float | None = None
    comments: list[str] = field(default_factory=list)
    values: dict[str, int] = field(default_factory=dict)

    def add(self, score: float | None, value: Any, comment: str | None) -> None:
        self.n += 1
        if score is not None:
            self.total += score
            self.low = score if self.low is None else min(self.low, score)
            self.high = score if self.high is None else max(self.high, score)
        elif isinstance(value, str):
            self.values[value] = self.values.get(value, 0) + 1
        if comment:
            self.comments.append(comment)

    @property
    def scored(self) -> int:
        return self.n - sum(self.values.values())

    @property
    def avg(self) -> float | None:
        return self.total / self.scored if self.scored else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "avg": self.avg,
            "min": self.low,
            "max": self.high,
            "values": self.values,
            "comments": self.comments[:10],
        }


def feedback_by_trace(
    turns: Iterable[TraceRollup],
) -> dict[uuid.UUID, dict[str, FeedbackStats]]:
    """Feedback of each trace, per key: rows naming the trace or its root run."""
    turns = list(turns)
    by_root = {t.root_id: t.trace_id for t in turns}
    traces = [t.trace_id for t in turns]
    out: dict[uuid.UUID, dict[str, FeedbackStats]] = defaultdict(dict)
    if not traces:
        return out
    rows = Feedback.objects.filter(
        Q(trace_id__in=traces) | Q(run_id__in=list(by_root))
    ).values_list("id", "trace_id", "run_id", "key", "score", "value", "comment")
    seen: set[uuid.UUID] = set()
    for fid, trace_id, run_id, key, score, value, comment in rows:
        if fid in seen:
            continue
        seen.add(fid)
        owner = trace_id if trace_id in set(traces) else by_root.get(run_id)
        if owner is None:
            continue
        out[owner].setdefault(key, FeedbackStats()).add(score, value, comment)
    return out


def feedback_by_thread(
    project_id: uuid.UUID, thread_ids: Sequence[str]
) -> dict[str, dict[str, FeedbackStats]]:
    """Feedback of each thread's turns, per key (for one page of threads)."""
    turns = list(
        TraceRollup.objects.filter(
            project_id=project_id, thread_id__in=list(thread_ids), root_id__isnull=False
        )
        .exclude(thread_id="")
        .only("trace_id", "root_id", "thread_id")
    )
    per_trace = feedback_by_trace(turns)
    out: dict[str, dict[str, FeedbackStats]] = defaultdict(dict)
    for turn in turns:
        for key, stats in per_trace.get(turn.trace_id, {}).items():
            merged = out[turn.thread_id].setdefault(key, FeedbackStats())
            merged.n += stats.n
            merged.total += stats.total
            merged.comments.extend(stats.comments)
            for v, c in stats.values.items():
                merged.values[v] = merged.values.get(v, 0) + c
            for bound in (stats.low, stats.high):
                if bound is not None:
                    merged.low = bound if merged.low is None else min(merged.low, bound)
                    merged.high = (
                        bound if merged.high is None else max(merged.high, bound)
                    )
    return out
