"""Whole days of the statistics come from the daily rollups, exactly."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db.models import F, Sum
from django.db.models.functions import TruncDay

from dashboard.selectors import cost_breakdown, latency_series, model_breakdown
from runs.models import DailyRollup, RunRollup
from runs.query import rollups
from runs.query.rollups import whole_days
from runs.query.scope import StatsScope
from runs.query.stats import cost_summary, project_counts, summary
from tests.factories import ProjectFactory, RunFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_now(monkeypatch):
    monkeypatch.setattr(rollups.timezone, "now", lambda: NOW)
    monkeypatch.setattr("runs.query.stats.timezone.now", lambda: NOW)


def spread_runs(project, days=9):
    """Runs every 5 hours over ``days`` days, some failed, some LLM calls."""
    runs = []
    for i in range(days * 24 // 5):
        start = NOW - timedelta(hours=5 * i, minutes=7)
        root = RunFactory(
            project=project,
            start_time=start,
            end_time=start + timedelta(milliseconds=100 * (i + 1)),
            status="error" if i % 4 == 0 else "success",
        )
        RunFactory(
            parent=root,
            project=project,
            run_type="llm",
            model_name="gpt-4o" if i % 2 else "claude-sonnet-4",
            start_time=start,
            total_tokens=10 * i,
            total_cost=0.5 * i if i % 3 else None,
        )
        runs.append(root)
    return runs


def everything(scope):
    return (
        summary(scope),
        model_breakdown(scope),
        cost_breakdown(scope, "model"),
        cost_breakdown(scope, "project"),
        cost_summary(scope),
    )


def hourly_only(monkeypatch):
    monkeypatch.setattr(rollups, "whole_days", lambda start, end, now: None)


def test_whole_days_are_the_days_inside_the_range_that_ended_before_yesterday():
    day = datetime(2026, 11, 20, tzinfo=UTC)
    # From 20 Nov 10:00: the 21st onwards, up to yesterday (today stays hourly).
    assert whole_days(day + timedelta(hours=10), None, NOW) == (
        day + timedelta(days=1),
        datetime(2026, 11, 29, tzinfo=UTC),
    )
    # A range starting on a day's first hour takes that day whole.
    assert whole_days(day, None, NOW)[0] == day
    # Ending on the 25th at 22:00 leaves the 25th out; at 23:00 takes it.
    assert whole_days(day, day + timedelta(days=5, hours=22), NOW)[
        1
    ] == day + timedelta(days=4)
    assert whole_days(day, day + timedelta(days=5, hours=23), NOW)[
        1
    ] == day + timedelta(days=5)
    assert whole_days(None, None, NOW) == (None, datetime(2026, 11, 29, tzinfo=UTC))
    # Less than a whole day, or only today: none.
    assert whole_days(day + timedelta(hours=1), day + timedelta(hours=30), NOW) is None
    assert whole_days(NOW - timedelta(days=1), None, NOW) is None


def test_compaction_keeps_each_day_equal_to_its_folded_hours():
    project = ProjectFactory(name="p")
    runs = spread_runs(project)
    rollups.compact()
    runs[3].delete()
    runs[8].status = "error"
    runs[8].save()
    rollups.compact()
    RunFactory(project=project, start_time=NOW - timedelta(days=6))
    rollups.compact()
    sums = ("runs", "total_tokens", "total_cost", "unpriced_runs")
    hourly = {
        (row["day"], row["status"], row["model_name"]): [row[k] for k in sums]
        for row in RunRollup.objects.annotate(day=TruncDay("hour", tzinfo=UTC))
        .values("day", "status", "model_name")
        .annotate(**{k: Sum(k) for k in sums})
    }
    daily = {
        (row["day"], row["status"], row["model_name"]): [row[k] for k in sums]
        for row in DailyRollup.objects.annotate(day=F("hour"))
        .values("day", "status", "model_name")
        .annotate(**{k: Sum(k) for k in sums})
    }
    assert {k: v for k, v in hourly.items() if any(v)} == daily
    assert DailyRollup.objects.count() < RunRollup.objects.count()


@pytest.mark.parametrize(
    "scope",
    [
        StatsScope(),
        StatsScope(start=NOW - timedelta(days=7)),
        StatsScope(
            start=NOW - timedelta(days=6, hours=13), end=NOW - timedelta(days=2)
        ),
        StatsScope(start=NOW - timedelta(hours=40)),
    ],
    ids=["all time", "7 days", "mid-day edges", "40 hours"],
)
def test_summaries_over_whole_days_equal_the_hourly_sums(scope, monkeypatch):
    project = ProjectFactory(name="p")
    runs = spread_runs(project)
    rollups.compact()
    # Deltas not folded yet, on whole days and on recent hours.
    runs[20].delete()
    runs[1].status = "error"
    runs[1].save()
    RunFactory(project=project, start_time=NOW - timedelta(days=5, hours=3))
    scoped = StatsScope(project_ids=[project.id], start=scope.start, end=scope.end)
    with_days = (everything(scope), everything(scoped))
    with_days_series = latency_series(scope, "day", NOW - timedelta(days=8), NOW)
    hourly_only(monkeypatch)
    assert (everything(scope), everything(scoped)) == with_days
    assert (
        latency_series(scope, "day", NOW - timedelta(days=8), NOW) == with_days_series
    )


def test_project_counts_read_whole_days_and_recent_hours():
    project = ProjectFactory(name="p")
    spread_runs(project)
    expected = project_counts([project.id])
    rollups.compact()
    assert project_counts([project.id]) == expected
    assert expected[project.id]["run_count"] == 2 * (9 * 24 // 5)


def test_a_range_starting_mid_day_counts_only_its_hours():
    project = ProjectFactory(name="p")
    start = datetime(2026, 11, 22, 14, 0, tzinfo=UTC)
    for hours in (-3, -1, 0, 2, 30, 60):
        RunFactory(project=project, start_time=start + timedelta(hours=hours))
    rollups.compact()
    assert DailyRollup.objects.exists()
    # 22 Nov from 14:00 (two runs), the whole 23rd (one), 24 Nov 02:00 (one).
    assert summary(StatsScope(start=start))["total_runs"] == 4
    assert summary(StatsScope(start=start - timedelta(hours=1)))["total_runs"] == 5


def test_runs_of_the_last_24_hours_are_counted_by_the_hour_in_a_daily_series():
    project = ProjectFactory(name="p")
    spread_runs(project)  # a root and its LLM call every 5 hours
    rollups.compact()
    # From 29 Nov 10:00 (the hour 24 hours back): 09:23, 04:23 today and
    # 23:23, 18:23, 13:23 yesterday; 08:23 yesterday is older.
    for scope in (StatsScope(), StatsScope(start=NOW - timedelta(days=7))):
        stats = summary(scope)
        assert stats["time_series"]["bucket"] == "day"
        assert stats["runs_last_24h"] == 10
    ended = StatsScope(start=NOW - timedelta(days=7), end=NOW - timedelta(days=2))
    assert summary(ended)["runs_last_24h"] == 0
