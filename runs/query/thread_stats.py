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

from django.db.models import QuerySet

from runs.models import Feedback
from runs.query import threads as q
from runs.thread_models import ThreadRollup


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
    whole = ThreadTotals()
    parts = [ThreadTotals() for _ in stride.starts()] if stride else []
    bucket_of: dict[str, ThreadTotals | None] = {}
    rows = threads.values_list(
        "thread_id", "last_start", "turns", "error_turns",
        "prompt_tokens", "completion_tokens", "total_tokens",
    )  # fmt: skip
    for thread_id, last_start, traces, errors, prompt, completion, total in rows:
        part = parts[(last_start - stride.start) // stride.step] if stride else None
        bucket_of[thread_id] = part
        for totals in _both(whole, part):
            totals.threads += 1
            totals.traces += traces
            totals.error_traces += errors
            totals.prompt_tokens += prompt
            totals.completion_tokens += completion
            totals.total_tokens += total
    if per_turn or feedback:
        turns = q.turns().filter(
            project_id=project_id, thread_id__in=threads.values("thread_id")
        )
        _add_turns(turns, bucket_of, whole, per_turn=per_turn, feedback=feedback)
    return whole, parts


def _add_turns(
    turns: QuerySet,
    bucket_of: dict[str, ThreadTotals | None],
    whole: ThreadTotals,
    *,
    per_turn: bool,
    feedback: bool,
) -> None:
    owner: dict[uuid.UUID, str] = {}
    rows = turns.values_list(
        "thread_id", "trace_id", "root_id", "latency_ms", "total_tokens"
    )
    for thread_id, trace_id, root_id, latency_ms, tokens in rows:
        if thread_id not in bucket_of:  # a thread that became active since
            continue
        owner[trace_id] = owner[root_id] = thread_id
        if not per_turn:
            continue
        for totals in _both(whole, bucket_of[thread_id]):
            totals.turn_tokens.append(tokens)
            if latency_ms is not None:
                totals.latencies.append(latency_ms / 1000)
    if feedback:
        for thread_id, key, score, value, comment in _turn_feedback(turns, owner):
            for totals in _both(whole, bucket_of[thread_id]):
                stats = totals.feedback.setdefault(key, q.FeedbackStats())
                stats.add(score, value, comment)


def _both(whole: ThreadTotals, part: ThreadTotals | None) -> list[ThreadTotals]:
    return [whole] if part is None else [whole, part]


def _turn_feedback(
    turns: QuerySet, owner: dict[uuid.UUID, str]
) -> Iterable[tuple[str, str, float | None, object, str | None]]:
    """Feedback naming a turn's trace, or else its root run, with its thread.

    Two index-driven reads (an ``OR`` of the two would scan the feedback).
    """
    seen: set[uuid.UUID] = set()
    for column, ids in (("trace_id", "trace_id"), ("run_id", "root_id")):
        rows = Feedback.objects.filter(
            **{f"{column}__in": turns.values(ids)}
        ).values_list("id", column, "key", "score", "value", "comment")
        for fid, owned_by, key, score, value, comment in rows:
            if fid in seen or owned_by not in owner:
                continue
            seen.add(fid)
            yield owner[owned_by], key, score, value, comment
