"""RunFilter: every filter, its validation, and ordering (SQLite and PostgreSQL)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from runs.query.filters import InvalidFilter, filter_runs
from tests.factories import ProjectFactory, RunFactory

pytestmark = pytest.mark.django_db


def names(params):
    return [run.name for run in filter_runs(params)]


def test_project_filter_accepts_a_name_an_id_and_the_project_name_alias():
    alpha = ProjectFactory(name="alpha")
    RunFactory(name="a", project=alpha)
    RunFactory(name="b", project=ProjectFactory(name="beta"))
    assert names({"project": "alpha"}) == ["a"]
    assert names({"project": str(alpha.id)}) == ["a"]
    assert names({"project_name": "beta"}) == ["b"]
    assert names({"project": "nobody"}) == []


def test_status_and_run_type_filters_match_exactly():
    RunFactory(name="ok", status="success", run_type="chain")
    RunFactory(name="bad", status="error", error="x", run_type="llm")
    RunFactory(name="busy", status="running", end_time=None, run_type="tool")
    assert names({"status": "error"}) == ["bad"]
    assert names({"status": "running"}) == ["busy"]
    assert names({"run_type": "chain"}) == ["ok"]


def test_unknown_status_bad_date_and_bad_ordering_name_their_parameter():
    with pytest.raises(InvalidFilter) as exc:
        filter_runs({"status": "exploded", "start_time_gte": "yesterday"})
    assert sorted(exc.value.errors) == ["start_time_gte", "status"]
    with pytest.raises(InvalidFilter) as exc:
        filter_runs({"ordering": "price", "since": "2y", "trace_ids": "nope"})
    assert sorted(exc.value.errors) == ["ordering", "since", "trace_ids"]
    with pytest.raises(InvalidFilter) as exc:
        filter_runs({"min_latency_ms": "-1", "has_error": "maybe"})
    assert sorted(exc.value.errors) == ["has_error", "min_latency_ms"]


def test_start_time_range_and_since_window():
    now = timezone.now()
    RunFactory(name="old", start_time=now - timedelta(days=10))
    RunFactory(name="week", start_time=now - timedelta(days=3))
    RunFactory(name="fresh", start_time=now - timedelta(minutes=5))
    assert names({"since": "1h"}) == ["fresh"]
    assert names({"since": "7d"}) == ["fresh", "week"]
    assert names({"since": "30d"}) == ["fresh", "week", "old"]
    lo = (now - timedelta(days=4)).isoformat()
    hi = (now - timedelta(days=1)).isoformat()
    assert names({"start_time_gte": lo, "start_time_lte": hi}) == ["week"]


def test_tags_filter_requires_every_listed_tag():
    RunFactory(name="both", tags=["prod", "v2"])
    RunFactory(name="one", tags=["prod"])
    RunFactory(name="none", tags=[])
    assert names({"tags": "prod"}) == ["one", "both"]
    assert names({"tags": "prod, v2"}) == ["both"]
    assert names({"tags": "v3"}) == []


def test_has_error_and_model_select_whole_traces():
    root = RunFactory(name="root")
    RunFactory(
        name="llm", parent=root, status="error", error="boom", model_name="gpt-4o"
    )
    clean = RunFactory(name="clean")
    RunFactory(name="clean-llm", parent=clean, model_name="claude")
    assert sorted(names({"has_error": "true"})) == ["llm", "root"]
    assert sorted(names({"has_error": "false"})) == ["clean", "clean-llm"]
    assert sorted(names({"model": "gpt-4o"})) == ["llm", "root"]
    assert names({"model": "gpt-5"}) == []


def test_latency_range_in_milliseconds_skips_running_runs():
    start = timezone.now() - timedelta(hours=1)
    RunFactory(
        name="fast", start_time=start, end_time=start + timedelta(milliseconds=200)
    )
    RunFactory(name="slow", start_time=start, end_time=start + timedelta(seconds=5))
    RunFactory(name="running", start_time=start, end_time=None, status="running")
    assert names({"min_latency_ms": "1000"}) == ["slow"]
    assert names({"max_latency_ms": "1000"}) == ["fast"]
    assert names({"min_latency_ms": "100", "max_latency_ms": "300"}) == ["fast"]


def test_trace_ids_filter_takes_a_comma_list():
    a = RunFactory(name="a")
    RunFactory(name="a-child", parent=a)
    b = RunFactory(name="b")
    RunFactory(name="c")
    assert sorted(names({"trace_ids": f"{a.trace_id},{b.trace_id}"})) == [
        "a",
        "a-child",
        "b",
    ]


def test_orderings_break_ties_by_id_and_default_to_newest_first():
    now = timezone.now()
    RunFactory(
        name="b",
        start_time=now - timedelta(minutes=2),
        end_time=now,
        total_tokens=5,
    )
    RunFactory(
        name="a",
        start_time=now - timedelta(minutes=1),
        end_time=now,
        total_tokens=50,
    )
    RunFactory(name="c", start_time=now - timedelta(minutes=3), end_time=None)
    assert names({}) == ["a", "b", "c"]
    assert names({"ordering": "start_time"}) == ["c", "b", "a"]
    assert names({"ordering": "name"}) == ["a", "b", "c"]
    assert names({"ordering": "-name"}) == ["c", "b", "a"]
    assert names({"ordering": "-total_tokens"}) == ["a", "b", "c"]
    assert names({"ordering": "latency"}) == ["a", "b", "c"]
    assert names({"ordering": "-latency"}) == ["b", "a", "c"]
