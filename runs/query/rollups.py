"""Reading and compacting the hourly run rollups (``RunRollup``).

Database triggers append signed deltas for every write to a run (migration
0005); sums over the rows are exact at any moment. ``compact`` replaces the
rows with one per key when they pile up, so a summary over a month reads tens
of thousands of small rows instead of a million runs.

Time ranges are whole UTC hours: a range is widened to the hours it touches.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet

from runs.models import RunRollup
from runs.query.scope import StatsScope

COMPACT_ABOVE = 20_000
_KEYS = "hour, project_id, run_type, status, is_root, latency_bucket, model_name"
_SUMS = (
    "runs, prompt_tokens, completion_tokens, total_tokens, latency_ms, "
    "prompt_cost, completion_cost, total_cost, unpriced_runs"
)
_FOLD = (
    "sum(runs), sum(prompt_tokens), sum(completion_tokens), sum(total_tokens), "
    "sum(latency_ms), sum(prompt_cost), sum(completion_cost), sum(total_cost), "
    "sum(unpriced_runs)"
)
# A key whose sums all came back to zero is dropped (cost sums are floats:
# a key whose runs are gone may keep a rounding residue, harmlessly).
_KEEP = "sum(runs) <> 0 OR sum(total_tokens) <> 0 OR sum(unpriced_runs) <> 0"


def floor_hour(value: datetime) -> datetime:
    return value.replace(minute=0, second=0, microsecond=0)


def compact() -> None:
    """Fold the delta rows into one row per key (dropping keys that sum to 0).

    Folded rows take ids below every existing one (zero and negative), while
    the triggers' deltas take the sequence's positive ids: the number of deltas
    still to fold is then two primary-key probes away (``pending_deltas``), in
    any process, with no state kept between requests.
    """
    table = RunRollup._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One statement, one snapshot: exactly the rows deleted are summed.
            # Concurrent ingest only inserts new rows, so nothing waits.
            cursor.execute("SELECT pg_try_advisory_xact_lock(7246533)")
            if not cursor.fetchone()[0]:
                return
            # Another process may have just folded everything (ids <= 0 only).
            cursor.execute(f"SELECT max(id) FROM {table}")
            top = cursor.fetchone()[0]
            if top is None or top <= 0:
                return
            cursor.execute(
                f"WITH base AS (SELECT least(min(id), 1) AS id FROM {table}), "
                f"moved AS (DELETE FROM {table} RETURNING {_KEYS}, {_SUMS}) "
                f"INSERT INTO {table} (id, {_KEYS}, {_SUMS}) "
                f"SELECT (SELECT id FROM base) - row_number() OVER (), * FROM ("
                f"SELECT {_KEYS}, {_FOLD} FROM moved GROUP BY {_KEYS} "
                f"HAVING {_KEEP}) AS folded"
            )
            return
        # SQLite: this transaction holds the write lock, nothing else writes.
        cursor.execute(f"SELECT min(id), max(id) FROM {table}")
        low, top = cursor.fetchone()
        if top is None or top <= 0:  # no deltas: already one row per key
            return
        base = min(low, 1)
        cursor.execute(
            f"INSERT INTO {table} (id, {_KEYS}, {_SUMS}) "
            f"SELECT %s - row_number() OVER (), * FROM ("
            f"SELECT {_KEYS}, {_FOLD} FROM {table} WHERE id <= %s "
            f"GROUP BY {_KEYS} HAVING {_KEEP})",
            [base, top],
        )
        cursor.execute(f"DELETE FROM {table} WHERE id BETWEEN %s AND %s", [base, top])


def pending_deltas() -> int:
    """How many delta rows arrived since the last compaction (an upper bound).

    Deltas hold positive ids, folded rows the others (``compact``); gaps left
    by rolled-back inserts only ever make the estimate larger.
    """
    deltas = RunRollup.objects.filter(id__gt=0)
    low = deltas.order_by("id").values_list("id", flat=True).first()
    if low is None:
        return 0
    top = deltas.order_by("-id").values_list("id", flat=True).first()
    return top - low + 1


def compact_if_needed() -> None:
    """Compact once more than ``COMPACT_ABOVE`` deltas are waiting to be folded.

    Compaction only ever saves reading work; it never changes a sum.
    """
    if pending_deltas() > COMPACT_ABOVE:
        compact()


def rows(scope: StatsScope) -> QuerySet:
    """The rollup rows of the hours and projects ``scope`` covers."""
    qs = RunRollup.objects.all()
    if scope.project_ids is not None:
        qs = qs.filter(project_id__in=scope.project_ids)
    if scope.start is not None:
        qs = qs.filter(hour__gte=floor_hour(scope.start))
    if scope.end is not None:
        qs = qs.filter(hour__lte=scope.end)
    return qs


def histogram_percentile(
    histogram: Iterable[tuple[int, int, float]], pct: float
) -> float | None:
    """A percentile from (bucket, count, latency sum) rows, a bucket in any
    number of rows (one per hour, project, ... as the rollups hold them).

    The estimate is the mean latency of the bucket holding the percentile's
    rank: exact when that bucket's runs took the same time, and never off by
    more than the bucket's width (12%).
    """
    merged: dict[int, list[float]] = {}
    for bucket, n, total in histogram:
        sums = merged.setdefault(bucket, [0, 0.0])
        sums[0] += int(n or 0)
        sums[1] += float(total or 0)
    histogram = sorted((b, n, total) for b, (n, total) in merged.items() if n > 0)
    count = sum(n for _, n, _ in histogram)
    if not count:
        return None
    target = max(1.0, count * pct / 100)
    seen = 0
    for _, n, total in histogram:
        seen += n
        if seen >= target:
            return round(total / n, 3)
    return round(histogram[-1][2] / histogram[-1][1], 3)


def recent_hours(now: datetime, hours: int) -> datetime:
    """The first hour of the last ``hours`` hours, the current one included."""
    return floor_hour(now) - timedelta(hours=hours - 1)


def as_int(value: Any) -> int:
    return int(value or 0)
