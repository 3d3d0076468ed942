"""Hourly rollups: triggers count every write, compaction keeps the sums."""

from datetime import UTC, datetime, timedelta
from importlib import import_module

import pytest
from django.db import connection
from django.db.models import Sum

from dashboard.selectors import latency_series, model_breakdown
from runs.ingest import ingest
from runs.ingest.batch import Batch
from runs.models import Run, RunRollup
from runs.query import rollups
from runs.query.rollups import histogram_percentile
from runs.query.scope import StatsScope
from runs.query.stats import summary
from tests.factories import ProjectFactory, RunFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 20, 12, 15, tzinfo=UTC)


def totals(**filters):
    agg = RunRollup.objects.filter(**filters).aggregate(
        runs=Sum("runs"), tokens=Sum("total_tokens")
    )
    return (agg["runs"] or 0, agg["tokens"] or 0)


def test_inserts_updates_and_deletes_are_counted_by_the_database():
    run = RunFactory(start_time=T0, status="running", end_time=None, total_tokens=5)
    assert totals(status="running") == (1, 5)
    run.status, run.end_time, run.total_tokens = "success", T0 + timedelta(1), 9
    run.save()
    assert totals(status="running") == (0, 0)
    assert totals(status="success") == (1, 9)
    run.name = "renamed"  # not a counted column: no new rows
    rows = RunRollup.objects.count()
    run.save()
    assert RunRollup.objects.count() == rows
    run.delete()
    assert totals() == (0, 0)


def test_the_ingest_upsert_is_counted_once_per_run():
    batch = Batch()
    for i in range(3):
        batch.add_run(
            "post",
            {
                "id": f"00000000-0000-4000-8000-00000000000{i}",
                "name": "r",
                "start_time": T0.isoformat(),
                "end_time": (T0 + timedelta(seconds=i + 1)).isoformat(),
                "session_name": "p",
            },
            item=f"post.{i}",
        )
    ingest(batch)
    replay = Batch()
    replay.add_run(
        "patch",
        {"id": "00000000-0000-4000-8000-000000000000", "error": "late failure"},
        item="patch.0",
    )
    ingest(replay)
    assert totals() == (3, 0)
    assert totals(status="error") == (1, 0)
    assert list(RunRollup.objects.values_list("hour", flat=True).distinct()) == [
        datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    ]


def test_compaction_folds_deltas_and_keeps_every_sum():
    project = ProjectFactory(name="p")
    for i in range(6):
        run = RunFactory(project=project, start_time=T0 + timedelta(minutes=i))
        run.status = "error"
        run.error = "x"
        run.save()
    RunFactory(project=project, start_time=T0 + timedelta(hours=3)).delete()
    before = summary(StatsScope())
    assert RunRollup.objects.count() == 6 + 12 + 2
    rollups.compact()
    assert RunRollup.objects.count() == 1
    assert summary(StatsScope()) == before
    assert RunRollup.objects.get().runs == 6


def test_compaction_runs_when_deltas_pile_up(monkeypatch):
    monkeypatch.setattr(rollups, "COMPACT_ABOVE", 3)
    RunFactory(start_time=T0)
    rollups.compact_if_needed()  # one delta: below the threshold
    assert RunRollup.objects.count() == 1
    for i in range(4):
        RunFactory(start_time=T0 + timedelta(seconds=i + 1))
    assert rollups.pending_deltas() == 5
    rollups.compact_if_needed()
    assert RunRollup.objects.count() == 1
    assert RunRollup.objects.get().runs == 5
    assert rollups.pending_deltas() == 0
    RunFactory(start_time=T0)
    rollups.compact_if_needed()  # one new delta: below the threshold
    assert RunRollup.objects.count() == 2
    assert rollups.pending_deltas() == 1
    RunRollup.objects.all().delete()
    rollups.compact()
    assert RunRollup.objects.count() == 0


def test_folded_rows_take_ids_below_the_deltas_so_any_process_sees_the_backlog():
    for i in range(3):
        RunFactory(start_time=T0 + timedelta(hours=i))
    rollups.compact()
    first = sorted(RunRollup.objects.values_list("id", flat=True))
    assert len(first) == 3
    assert max(first) <= 0
    RunFactory(start_time=T0)
    assert rollups.pending_deltas() == 1
    rollups.compact()
    second = sorted(RunRollup.objects.values_list("id", flat=True))
    assert len(second) == 3
    assert max(second) < min(first)
    assert rollups.pending_deltas() == 0
    assert summary(StatsScope())["total_runs"] == 4


def test_latency_percentiles_come_from_the_histogram():
    for ms in [100, 100, 100, 2000, 50_000]:
        RunFactory(start_time=T0, end_time=T0 + timedelta(milliseconds=ms))
    body = summary(StatsScope())
    assert body["latency_ms"] == {"p50": 100.0, "p95": 50000.0, "p99": 50000.0}
    assert histogram_percentile([], 50) is None
    assert histogram_percentile([(60, 2, 2100.0), (70, 2, 20000.0)], 50) == 1050.0
    # A bucket spread over several rows (hours, projects) counts as one.
    spread = [(70, 1, 9000.0), (60, 1, 1000.0), (70, 1, 11000.0), (60, 1, 1100.0)]
    assert histogram_percentile(spread, 50) == 1050.0
    assert histogram_percentile(spread, 95) == 10000.0


def test_summary_time_range_is_whole_hours_and_projects_narrow_it():
    a, b = ProjectFactory(name="a"), ProjectFactory(name="b")
    RunFactory(project=a, start_time=T0)
    RunFactory(project=b, start_time=T0 + timedelta(hours=5))
    scope = StatsScope(start=T0 + timedelta(minutes=30), end=T0 + timedelta(hours=1))
    assert summary(scope)["total_runs"] == 1
    assert summary(StatsScope(project_ids=[b.id]))["total_runs"] == 1
    body = summary(
        StatsScope(project_ids=[a.id, b.id], start=T0, end=T0 + timedelta(hours=6))
    )
    assert [p["name"] for p in body["recent_projects"]] == ["b", "a"]
    assert body["time_series"]["bucket"] == "hour"
    assert [p["runs"] for p in body["time_series"]["points"][:6]] == [1, 0, 0, 0, 0, 1]
    assert Run.objects.count() == 2


def test_summary_leaves_out_statuses_and_projects_whose_runs_sum_to_zero():
    a, b = ProjectFactory(name="a"), ProjectFactory(name="b")
    run = RunFactory(project=a, start_time=T0, status="running", end_time=None)
    RunFactory(project=b, start_time=T0, status="success")
    run.status, run.end_time = "error", T0 + timedelta(seconds=1)
    run.save()
    RunFactory(project=b, start_time=T0, status="success").delete()
    body = summary(StatsScope())
    assert body["status_distribution"] == {"error": 1, "success": 1}
    assert body["total_runs"] == 2
    assert body["error_runs"] == 1
    assert [p["project_name"] for p in body["project_distribution"]] == sorted(
        ["a", "b"], key=lambda name: str({"a": a.id, "b": b.id}[name])
    )


def test_recent_projects_with_the_same_last_start_are_ordered_by_name():
    for name in ["c", "a", "b"]:
        RunFactory(project=ProjectFactory(name=name), start_time=T0)
    RunFactory(project=ProjectFactory(name="z"), start_time=T0 - timedelta(hours=1))
    names = [p["name"] for p in summary(StatsScope())["recent_projects"]]
    assert names == ["a", "b", "c", "z"]


def test_rollups_count_runs_per_model_through_updates_and_deletes():
    llm = RunFactory(start_time=T0, run_type="llm", model_name="gpt-4o")
    RunFactory(start_time=T0, run_type="llm", model_name="gpt-4o")
    RunFactory(start_time=T0, run_type="chain", model_name="")
    assert model_breakdown(StatsScope()) == [("gpt-4o", 2)]
    llm.model_name = "qwen2.5-72b"
    llm.save()
    assert model_breakdown(StatsScope()) == [("gpt-4o", 1), ("qwen2.5-72b", 1)]
    llm.delete()
    rollups.compact()
    assert model_breakdown(StatsScope()) == [("gpt-4o", 1)]


def test_migration_recount_gives_the_sums_the_triggers_kept():
    # The recount of the newest rollup migration (0012: with costs), then the
    # daily rows of the recounted rows (0020).
    recount = import_module("runs.migrations.0012_run_cost")
    daily = import_module("runs.migrations.0020_daily_rollups")
    project = ProjectFactory(name="p")
    for i, ms in enumerate([80, 120, 3000]):
        root = RunFactory(
            project=project,
            start_time=T0 + timedelta(minutes=i),
            end_time=T0 + timedelta(minutes=i, milliseconds=ms),
        )
        RunFactory(
            parent=root,
            project=project,
            run_type="llm",
            model_name="gpt-4o" if i else "llama-3.1-70b",
            start_time=T0 + timedelta(minutes=i, milliseconds=1),
            total_tokens=10 * i,
            status="error" if i == 2 else "success",
        )
    before = (summary(StatsScope()), model_breakdown(StatsScope()))
    parts = (
        recount.rollup.pg_parts
        if connection.vendor == "postgresql"
        else recount.rollup.sqlite_parts
    )
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM runs_runrollup")
        cursor.execute("DELETE FROM runs_dailyrollup")
        cursor.execute(recount.recount_sql(parts))
        cursor.execute(daily.days_sql(connection.vendor))
    assert rollups.pending_deltas() == 0
    assert (summary(StatsScope()), model_breakdown(StatsScope())) == before


def test_latency_series_reads_the_rollup_histogram_per_bucket():
    for minutes, ms in [(0, 100), (1, 100), (2, 2000), (60, 50_000)]:
        start = T0 + timedelta(minutes=minutes)
        RunFactory(start_time=start, end_time=start + timedelta(milliseconds=ms))
    RunFactory(start_time=T0, end_time=None, status="running")
    points = latency_series(StatsScope(), "hour", T0, T0 + timedelta(hours=1))
    assert [p["time"] for p in points] == [
        "2026-11-20T12:00:00+00:00",
        "2026-11-20T13:00:00+00:00",
    ]
    assert [(p["p50"], p["p95"], p["count"]) for p in points] == [
        (100.0, 2000.0, 3),
        (50000.0, 50000.0, 1),
    ]
    days = latency_series(StatsScope(), "day", T0, T0 + timedelta(hours=2))
    assert [(p["p50"], p["p95"], p["count"]) for p in days] == [(100.0, 50000.0, 4)]


def test_compacting_without_new_deltas_leaves_the_folded_rows_alone():
    RunFactory(start_time=T0)
    RunFactory(start_time=T0 + timedelta(hours=1))
    rollups.compact()
    folded = sorted(RunRollup.objects.values_list("id", "runs"))
    rollups.compact()  # e.g. a second worker that waited for the first
    assert sorted(RunRollup.objects.values_list("id", "runs")) == folded
