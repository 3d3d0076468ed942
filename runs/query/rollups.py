"""Reading and compacting the hourly run rollups (``RunRollup``).

Database triggers append signed deltas for every write to a run (migration
0005); sums over the rows are exact at any moment. ``compact`` replaces the
rows with one per key when they pile up, so a summary over a month reads tens
of thousands of small rows instead of a million runs.

Time ranges are whole UTC hours: a range is widened to the hours it touches.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Aggregate, Case, Q, QuerySet, Value, When
from django.utils import timezone

from runs.models import DailyRollup, RunRollup
from runs.query.scope import StatsScope

COMPACT_ABOVE = 20_000
_DAY_KEYS = "project_id, run_type, status, is_root, latency_bucket, model_name"
_KEYS = f"hour, {_DAY_KEYS}"
_SUMS = (
    "runs, prompt_tokens, completion_tokens, total_tokens, latency_ms, "
    "prompt_cost, completion_cost, total_cost, unpriced_runs"
)
_FOLD = ", ".join(f"sum({column})" for column in _SUMS.split(", "))
# A key whose sums all came back to zero is dropped (cost sums are floats:
# a key whose runs are gone may keep a rounding residue, harmlessly).
_KEEP = "sum(runs) <> 0 OR sum(total_tokens) <> 0 OR sum(unpriced_runs) <> 0"
# The UTC day of an hourly row (SQLite stores "YYYY-MM-DD HH:00:00" text).
_DAY = {
    "sqlite": "substr(hour, 1, 10) || ' 00:00:00'",
    "postgresql": "date_trunc('day', hour, 'UTC')",
}


def floor_hour(value: datetime) -> datetime:
    return value.replace(minute=0, second=0, microsecond=0)


def floor_day(value: datetime) -> datetime:
    return value.replace(hour=0, minute=0, second=0, microsecond=0)


def compact() -> None:
    """Fold the delta rows into one row per key (dropping keys that sum to 0),
    and add the same deltas to the daily rows, in one transaction.

    Folded rows take ids below every existing one (zero and negative), while
    the triggers' deltas take the sequence's positive ids: the number of deltas
    still to fold is then two primary-key probes away (``pending_deltas``), in
    any process, with no state kept between requests. The daily rows are the
    folded hourly rows summed per day, before and after (``DailyRollup``).
    """
    table = RunRollup._meta.db_table
    days = DailyRollup._meta.db_table
    day = _DAY[connection.vendor]
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
                f"moved AS (DELETE FROM {table} RETURNING id, {_KEYS}, {_SUMS}), "
                f"old_days AS (DELETE FROM {days} RETURNING {_KEYS}, {_SUMS}), "
                f"new_days AS (INSERT INTO {days} ({_KEYS}, {_SUMS}) "
                f"SELECT {_KEYS}, {_FOLD} FROM ("
                f"SELECT {day} AS hour, {_DAY_KEYS}, {_SUMS} FROM moved WHERE id > 0 "
                f"UNION ALL SELECT * FROM old_days) AS changed "
                f"GROUP BY {_KEYS} HAVING {_KEEP}) "
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
        cursor.execute(f"SELECT max(id) FROM {days}")
        last_day_row = cursor.fetchone()[0] or 0
        cursor.execute(
            f"INSERT INTO {days} ({_KEYS}, {_SUMS}) "
            f"SELECT {_KEYS}, {_FOLD} FROM ("
            f"SELECT {day} AS hour, {_DAY_KEYS}, {_SUMS} FROM {table} "
            f"WHERE id BETWEEN 1 AND %s "
            f"UNION ALL SELECT {_KEYS}, {_SUMS} FROM {days} WHERE id <= %s) "
            f"GROUP BY {_KEYS} HAVING {_KEEP}",
            [top, last_day_row],
        )
        cursor.execute(f"DELETE FROM {days} WHERE id <= %s", [last_day_row])
        cursor.execute(
            f"INSERT INTO {table} (id, {_KEYS}, {_SUMS}) "
            f"SELECT %s - row_number() OVER (), * FROM ("
            f"SELECT {_KEYS}, {_FOLD} FROM {table} WHERE id <= %s "
            f"GROUP BY {_KEYS} HAVING {_KEEP})",
            [base, top],
        )
        cursor.execute(f"DELETE FROM {table} WHERE id BETWEEN %s AND %s", [base, top])


def _delta_ids() -> tuple[int, int] | None:
    """The lowest and highest id of the deltas not folded yet (None: none)."""
    deltas = RunRollup.objects.filter(id__gt=0)
    low = deltas.order_by("id").values_list("id", flat=True).first()
    if low is None:
        return None
    return low, deltas.order_by("-id").values_list("id", flat=True).first()


def pending_deltas() -> int:
    """How many delta rows arrived since the last compaction (an upper bound).

    Deltas hold positive ids, folded rows the others (``compact``); gaps left
    by rolled-back inserts only ever make the estimate larger.
    """
    waiting = _delta_ids()
    return 0 if waiting is None else waiting[1] - waiting[0] + 1


def compact_if_needed() -> None:
    """Compact once more than ``COMPACT_ABOVE`` deltas are waiting to be folded.

    Compaction only ever saves reading work; it never changes a sum.
    """
    if pending_deltas() > COMPACT_ABOVE:
        compact()


def series_unit(start: datetime, end: datetime) -> str:
    """The time series' bucket for a range: hours up to two days, then days."""
    return "hour" if end - start <= timedelta(days=2) else "day"


def whole_days(
    start: datetime | None, end: datetime | None, now: datetime
) -> tuple[datetime | None, datetime] | None:
    """The first and last start of the UTC days a range covers whole (the
    first None: from the beginning), or None if it covers none.

    Today is never whole (its hours are still coming), so it stays hourly.
    """
    last = floor_day(now) - timedelta(days=1)
    if end is not None:
        # A range holds the hours starting up to ``end``: a whole day's last
        # hour starts 23 hours after the day.
        last = min(last, floor_day(end - timedelta(hours=23)))
    first = None
    if start is not None:
        first = floor_day(floor_hour(start))
        if first < floor_hour(start):
            first += timedelta(days=1)
        if first > last:
            return None
    return first, last


def grouped(
    scope: StatsScope,
    keys: Sequence[str],
    sums: Mapping[str, Aggregate],
    *,
    by_hour: bool = False,
    where: Q | None = None,
) -> list[tuple[Any, ...]]:
    """Sums of the rollup rows ``scope`` covers, per value of ``keys``: rows
    of (*keys, *sums) as ``values_list(*keys).annotate(**sums)`` would give
    over every hourly row, with None sums as 0.

    Whole UTC days are read from the daily rows (a day's ``hour`` is its
    start), unless ``by_hour``; the range's edges and the last two days from
    the hourly rows, and so are the deltas not folded yet (which the daily
    rows do not hold). The three reads are one UNION ALL statement, so they
    see one snapshot even while a compaction commits.
    """
    hourly = RunRollup.objects.all()
    daily = DailyRollup.objects.all()
    if scope.project_ids is not None:
        hourly = hourly.filter(project_id__in=scope.project_ids)
        daily = daily.filter(project_id__in=scope.project_ids)
    if where is not None:
        hourly, daily = hourly.filter(where), daily.filter(where)
    start = floor_hour(scope.start) if scope.start is not None else None
    days = None if by_hour else whole_days(scope.start, scope.end, timezone.now())
    if days is None:
        in_range = Q()
        if start is not None:
            in_range &= Q(hour__gte=start)
        if scope.end is not None:
            in_range &= Q(hour__lte=scope.end)
        return _merge([_sums(hourly.filter(in_range), keys, sums)], len(keys))
    first, after = days[0], days[1] + timedelta(days=1)
    # Hourly rows after and before the whole days: each part one range of the
    # hour index (in one OR, SQLite scans from the earlier end to the last).
    later = Q(hour__gte=after)
    if scope.end is not None:
        later &= Q(hour__lte=scope.end)
    whole = Q(hour__lt=after) & (Q(hour__gte=first) if first is not None else Q())
    parts = [
        _sums(hourly.filter(later), keys, sums),
        _sums(daily.filter(whole), keys, sums),
    ]
    if first is not None and start is not None and start < first:
        earlier = hourly.filter(hour__gte=start, hour__lt=first)
        parts.append(_sums(earlier, keys, sums))
    waiting = _delta_ids()
    if waiting is not None:
        # Every delta, flagged whether it lies in the whole days (the others
        # are read with the edges). Found by their id range (both ends: SQLite
        # would walk the hour index for an open one), not by hour: a delta is
        # anywhere in time, and there are few (``COMPACT_ABOVE``).
        deltas = hourly.filter(id__range=waiting)
        parts.append(_sums(deltas, keys, sums, counted=whole))
    return _merge(parts, len(keys))


def _sums(
    qs: QuerySet,
    keys: Sequence[str],
    sums: Mapping[str, Aggregate],
    counted: Q | None = None,
) -> QuerySet:
    # The same columns in every part of the union: keys, whether the row
    # counts (1, or for the deltas' part: whether it lies in the whole days),
    # then the sums. An integer flag: a datetime column would be converted
    # on every row read.
    flag = Value(1) if counted is None else Case(When(counted, then=1), default=0)
    return (
        qs.annotate(counted=flag)
        .values_list(*keys, "counted")
        .annotate(**sums)
        .order_by()
    )


def _merge(parts: list[QuerySet], width: int) -> list[tuple[Any, ...]]:
    query = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    merged: dict[tuple[Any, ...], list[Any]] = {}
    for row in query:
        if not row[width]:
            continue  # a delta outside the whole days: read with the edges
        values = [value or 0 for value in row[width + 1 :]]
        into = merged.get(row[:width])
        if into is None:
            merged[row[:width]] = values
        else:
            into[:] = [a + b for a, b in zip(into, values, strict=True)]
    return [(*key, *values) for key, values in merged.items()]


def model_names() -> list[str]:
    """Every model name a stored run has (and perhaps some no run has now).

    Each run's model is counted in the hourly deltas, which compaction adds to
    the daily rows: the daily rows and the deltas still waiting hold them all,
    in a few thousand rows.
    """
    daily = DailyRollup.objects.exclude(model_name="").values_list("model_name")
    waiting = (
        RunRollup.objects.filter(id__gt=0)
        .exclude(model_name="")
        .values_list("model_name")
    )
    return sorted({name for (name,) in daily.union(waiting)})


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
