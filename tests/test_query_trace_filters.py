"""Trace filters (search, has_error, model): both plans select the same runs.

``SET_LIMIT`` decides per request between reading the matching trace ids from
the index and scanning each trace with a correlated EXISTS; every behaviour is
checked under both by forcing the limit.
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from runs.models import Run
from runs.query import trace_filters
from runs.query.filters import filter_runs
from tests.factories import RunFactory

pytestmark = pytest.mark.django_db
T0 = timezone.now() - timedelta(hours=1)


@pytest.fixture(params=["index set", "trace scan"])
def plan(request, monkeypatch):
    if request.param == "trace scan":
        monkeypatch.setattr(trace_filters, "SET_LIMIT", 0)
    return request.param


def roots(params):
    return [run.name for run in filter_runs(params).filter(parent__isnull=True)]


def trace(name, minutes, **child):
    root = RunFactory(name=name, start_time=T0 + timedelta(minutes=minutes))
    RunFactory(
        name=f"{name}-child",
        parent=root,
        start_time=root.start_time + timedelta(seconds=1),
        **child,
    )
    return root


def test_search_matches_any_column_in_any_script_and_case(plan):
    trace("fr", 1, outputs={"text": "Le CAFÉ est fermé, rue de la République"})
    trace("zh", 2, inputs={"question": "请帮我总结这份合同的主要条款。"})
    trace("err", 3, status="error", error="RateLimitError: slow down")
    trace("plain", 4, outputs={"text": "nothing to see"})
    assert roots({"search": "café"}) == ["fr"]
    assert roots({"search": "RÉPUBLIQUE"}) == ["fr"]
    assert roots({"search": "主要条款"}) == ["zh"]
    assert roots({"search": "ratelimit"}) == ["err"]
    assert roots({"search": "plain-child"}) == ["plain"]
    assert roots({"search": "see"}) == ["plain"]
    assert roots({"search": "absent words"}) == []


def test_search_finds_text_that_json_escapes_in_bodies(plan):
    trace("quoted", 1, outputs={"text": 'she said "hi"\nthen left'})
    trace("other", 2, outputs={"text": "said hi"})
    assert roots({"search": 'said "hi"'}) == ["quoted"]
    assert roots({"search": '"hi"\nthen'}) == ["quoted"]


def test_search_shorter_than_a_trigram_still_matches(plan):
    trace("a", 1, outputs={"text": "x y"})
    trace("b", 2, outputs={"text": "qz"})
    assert roots({"search": "qz"}) == ["b"]
    assert roots({"search": "Z"}) == ["b"]


def test_search_treats_like_wildcards_as_text(plan):
    trace("pct", 1, outputs={"text": "100% done_now"})
    trace("other", 2, outputs={"text": "1000 done now"})
    assert roots({"search": "0% done_"}) == ["pct"]


def test_error_and_model_filters_select_whole_traces(plan):
    trace("bad", 1, status="error", error="boom", model_name="gpt-4o")
    trace("good", 2, model_name="claude")
    trace("idle", 3)
    assert roots({"has_error": "true"}) == ["bad"]
    assert roots({"has_error": "false"}) == ["idle", "good"]
    assert roots({"model": "claude"}) == ["good"]
    assert roots({"model": "gpt-5"}) == []
    assert roots({"model": "gpt-4o", "search": "boom"}) == ["bad"]
    assert sorted(r.name for r in filter_runs({"model": "gpt-4o"})) == [
        "bad",
        "bad-child",
    ]


def test_runs_saved_through_the_orm_store_non_ascii_text_as_is():
    run = RunFactory(inputs={"q": "Ærø — 東京"})
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT inputs::text FROM runs_run WHERE id = %s"
            if connection.vendor == "postgresql"
            else "SELECT inputs FROM runs_run WHERE id = %s",
            [run.id if connection.vendor == "postgresql" else run.id.hex],
        )
        (text,) = cursor.fetchone()
    assert "Ærø — 東京" in text
    assert Run.objects.get(id=run.id).inputs == {"q": "Ærø — 東京"}


def test_search_for_an_identifier_matches_it_whole(plan):
    trace("id", 1, inputs={"input": "sql_query(customer='cust-4821')"})
    trace("apart", 2, inputs={"input": "cust-15544"}, outputs={"text": "order 4821"})
    trace("lookalike", 3, outputs={"text": "custǁ4821 and cust_4821"})
    trace("mail", 4, outputs={"text": "write to ops.team@example.com"})
    trace("snake", 5, inputs={"tool": "get_weather"})
    assert roots({"search": "cust-4821"}) == ["id"]
    assert roots({"search": "CUST-48"}) == ["id"]
    assert roots({"search": "cust_4821"}) == ["lookalike"]
    assert roots({"search": "team@example.com"}) == ["mail"]
    assert roots({"search": "get_weather"}) == ["snake"]
    assert roots({"search": "weather"}) == ["snake"]


def test_a_trace_scan_stays_a_correlated_exists(monkeypatch):
    # PostgreSQL would otherwise flatten it into a join planned on a guess.
    trace("bad", 1, status="error", error="boom", model_name="gpt-4o")
    monkeypatch.setattr(trace_filters, "SET_LIMIT", 0)
    sql = str(filter_runs({"has_error": "true"}).query)
    assert "EXISTS(SELECT 1" in sql
    assert sql.count("OFFSET 0)") == (1 if connection.vendor == "postgresql" else 0)
    assert trace_filters.scans_traces(filter_runs({"model": "gpt-4o"}))
    monkeypatch.setattr(trace_filters, "SET_LIMIT", 5)
    assert not trace_filters.scans_traces(filter_runs({"model": "gpt-4o"}))
