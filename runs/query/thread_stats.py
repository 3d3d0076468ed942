"""Aggregates over a project's threads, whole or in time buckets.

Read from the thread rollups only (``runs.thread_models``): the threads whose
latest turn started in the window come from ``ThreadRollup`` (its index on
project and last activity), and, when percentiles, medians or feedback are
asked for, their turns from ``TraceRollup`` (one seek of the thread index per
thread). A thread counts once, in the bucket where its latest turn started;
its turns count with it, wherever they started.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Sum

from runs.models import Feedback, Run
from runs.query import threads as q
from runs.thread_models import ThreadRollup, TraceRollup


@dataclass
class ThreadTotals:
    """What the threads of one bucket (or of the whole window) add up to."""

    threads: int = 0
    traces: int = 0
    error_traces: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    # Per turn, when asked for: finished turns' latencies and every turn's tokens.
    latencies: list[float] = field(default_factory=list)
    turn_tokens: list[int] = field(default_factory=list)
    feedback: dict[str, q.FeedbackStats] = field(default_factory=dict)

    @property
    def error_rate(self) -> float | None:
        return self.error_traces / self.traces if self.traces else None


@dataclass
class Stride:
    """Equal buckets of ``step`` from ``start`` until ``end`` (the window)."""

    start: datetime
    end: datetime
    step: timedelta

    @property
    def count(self) -> int:
        return max(0, -(-(self.end - self.start) // self.step))

    def starts(self) -> list[datetime]:
        return [self.start + i * self.step for i in range(self.count)]


# ThreadTotals field <- ThreadRollup column (a thread counts itself).
SUMMED = {
    "traces": "turns",
    "error_traces": "error_turns",
    "prompt_tokens": "prompt_tokens",
    "completion_tokens": "completion_tokens",
    "total_tokens": "total_tokens",
}


def thread_totals(
    project_id: uuid.UUID,
    where: q.ThreadFilter,
    stride: Stride | None = None,
    *,
    per_turn: bool = False,
    feedback: bool = False,
) -> tuple[ThreadTotals, list[ThreadTotals]]:
    """The totals of the threads ``where`` selects, and of each bucket.

    With a ``stride``, ``where`` must select the stride's window. ``per_turn``
    reads the turns' latencies and tokens, ``feedback`` their feedback.
    """
    threads = where.apply(ThreadRollup.objects.filter(project_id=project_id))
    # The database sums (a third of the time of summing rows here).
    sums = threads.aggregate(
        threads=Count("id"), **{name: Sum(column) for name, column in SUMMED.items()}
    )
    whole = ThreadTotals(**{name: value or 0 for name, value in sums.items()})
    parts: list[ThreadTotals] = []
    bucket_of: dict[str, ThreadTotals] = {}
    if stride is not None:
        parts = [ThreadTotals() for _ in stride.starts()]
        rows = threads.values_list("thread_id", "last_start", *SUMMED.values())
        for thread_id, last_start, *values in rows:
            part = parts[(last_start - stride.start) // stride.step]
            bucket_of[thread_id] = part
            part.threads += 1
            for name, value in zip(SUMMED, values, strict=True):
                setattr(part, name, getattr(part, name) + value)
    if per_turn or feedback:
        turns = q.turns().filter(
            project_id=project_id, thread_id__in=threads.values("thread_id")
        )
        _add_turns(turns, bucket_of, whole, per_turn=per_turn, feedback=feedback)
    return whole, parts


def _add_turns(
    turns: QuerySet,
    bucket_of: dict[str, ThreadTotals],
    whole: ThreadTotals,
    *,
    per_turn: bool,
    feedback: bool,
) -> None:
    if per_turn:
        rows = turns.values_list("thread_id", "latency_ms", "total_tokens")
        for thread_id, latency_ms, tokens in rows:
            for totals in _both(whole, bucket_of.get(thread_id)):
                totals.turn_tokens.append(tokens)
                if latency_ms is not None:
                    totals.latencies.append(latency_ms / 1000)
    if feedback:
        for thread_id, key, score, value, comment in _turn_feedback(turns):
            for totals in _both(whole, bucket_of.get(thread_id)):
                stats = totals.feedback.setdefault(key, q.FeedbackStats())
                stats.add(score, value, comment)


def _both(whole: ThreadTotals, part: ThreadTotals | None) -> list[ThreadTotals]:
    return [whole] if part is None else [whole, part]


def _turn_feedback(
    turns: QuerySet,
) -> Iterable[tuple[str, str, float | None, object, str | None]]:
    """Feedback naming a turn's trace, or else its root run, with its thread.

    Two reads driven by the feedback indexes on trace and run; a row's thread
    is found through its trace (the rollup's key), one lookup per row.
    """
    thread_of_trace = TraceRollup.objects.filter(trace_id=OuterRef("trace_id"))
    root_trace = Run.objects.filter(id=OuterRef(OuterRef("run_id"))).values("trace_id")
    thread_of_root = TraceRollup.objects.filter(trace_id=Subquery(root_trace[:1]))
    seen: set[uuid.UUID] = set()
    for matched, owner in (
        (Q(trace_id__in=turns.values("trace_id")), thread_of_trace),
        (Q(run_id__in=turns.values("root_id")), thread_of_root),
    ):
        rows = (
            Feedback.objects.filter(matched)
            .annotate(thread=Subquery(owner.values("thread_id")[:1]))
            .values_list("id", "thread", "key", "score", "value", "comment")
        )
        for fid, thread_id, key, score, value, comment in rows:
            if fid not in seen:
                seen.add(fid)
                yield thread_id, key, score, value, comment
