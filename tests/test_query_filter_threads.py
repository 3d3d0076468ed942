"""``thread_id`` in the filter language: the runs of a thread's traces.

A thread is keyed as the thread rollups key it (the root's ``thread_id``,
else ``session_id``, else ``conversation_id`` metadata); the runs are found
through the rollups' trace ids, under both plans of the trace filters.
"""

from datetime import UTC, datetime, timedelta

import orjson
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from runs.apikeys import create_api_key
from runs.models import Run
from runs.query import trace_filters
from runs.query.filter_language import FilterError, compile_filter
from runs.query.run_query import query_runs
from tests.factories import ProjectFactory, RunFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["index set", "subquery"])
def plan(request, monkeypatch):
    if request.param == "subquery":
        monkeypatch.setattr(trace_filters, "THREAD_LIMIT", 0)
    return request.param


def turn(project, name, minutes, metadata, *, child=True):
    root = RunFactory(
        project=project,
        name=name,
        start_time=T0 + timedelta(minutes=minutes),
        extra={"metadata": metadata},
    )
    if child:
        # A child's own metadata does not decide its thread: its trace's root does.
        RunFactory(
            project=project,
            parent=root,
            name=f"{name}-llm",
            start_time=root.start_time + timedelta(seconds=1),
            extra={"metadata": {"thread_id": "elsewhere"}},
        )
    return root


@pytest.fixture
def chats():
    chat = ProjectFactory(name="chat")
    turn(chat, "a1", 1, {"thread_id": "a"})
    turn(chat, "a2", 2, {"thread_id": "a", "session_id": "ignored"})
    turn(chat, "b1", 3, {"session_id": "b"})
    turn(chat, "c1", 4, {"conversation_id": "c"})
    turn(chat, "lone", 5, {"user_id": "u"})
    turn(chat, "blank", 6, {"thread_id": "", "session_id": "b"})
    turn(ProjectFactory(name="other"), "o1", 7, {"thread_id": "a"})
    return chat


def names(expression, **filters):
    runs = Run.objects.filter(compile_filter(expression), **filters)
    return sorted(runs.values_list("name", flat=True))


def test_eq_thread_id_selects_every_run_of_the_threads_traces(chats, plan):
    assert names('eq(thread_id, "a")', project=chats) == [
        "a1", "a1-llm", "a2", "a2-llm",
    ]  # fmt: skip
    assert names('eq(thread_id, "a")') == [
        "a1", "a1-llm", "a2", "a2-llm", "o1", "o1-llm",
    ]  # fmt: skip


def test_the_thread_key_falls_back_as_the_rollups_do(chats, plan):
    assert names('eq(thread_id, "b")', parent__isnull=True) == ["b1", "blank"]
    assert names('eq(thread_id, "c")', parent__isnull=True) == ["c1"]
    assert names('eq(thread_id, "ignored")') == []
    assert names('eq(thread_id, "elsewhere")') == []


def test_no_thread_matches_nothing(chats, plan):
    assert names('eq(thread_id, "nope")') == []
    assert names('eq(thread_id, "")') == []
    assert names('in(thread_id, ["nope", "none"])') == []


def test_in_and_neq_thread_id(chats, plan):
    roots = {"project": chats, "parent__isnull": True}
    assert names('in(thread_id, ["a", "c", "nope"])', **roots) == ["a1", "a2", "c1"]
    assert names('neq(thread_id, "a")', **roots) == ["b1", "blank", "c1", "lone"]
    assert names('and(eq(thread_id, "a"), eq(name, "a2"))') == ["a2"]
    assert names('or(eq(thread_id, "c"), eq(name, "lone"))', **roots) == [
        "c1",
        "lone",
    ]


def test_a_long_thread_id_matches_as_stored(plan):
    long_id = "x" * 300
    turn(ProjectFactory(), "long", 1, {"thread_id": long_id}, child=False)
    assert names(f'eq(thread_id, "{long_id}")') == ["long"]
    assert names(f'eq(thread_id, "{long_id[:255]}")') == ["long"]


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("eq(thread_id, 5)", "At position 15: expected a quoted string, got 5"),
        ("eq(thread_id, null)", "At position 15: expected a quoted string, got null"),
        (
            'gt(thread_id, "a")',
            "At position 1: thread_id does not take gt(...); expected one of "
            "eq, neq, in",
        ),
        ('search(thread_id, "a")', "At position 1: thread_id does not take search"),
    ],
)
def test_thread_id_refuses_what_it_cannot_compare(expression, message):
    with pytest.raises(FilterError) as caught:
        compile_filter(expression)
    assert str(caught.value).startswith(message)


def test_the_thread_is_read_from_the_rollups_not_the_runs_metadata(chats):
    with CaptureQueriesContext(connection) as captured:
        condition = compile_filter('eq(thread_id, "a")')
    [lookup] = [q["sql"] for q in captured.captured_queries]
    assert "runs_tracerollup" in lookup and "runs_run" not in lookup
    sql = str(Run.objects.filter(condition).query)
    assert "extra" not in sql.split("WHERE", 1)[1]


def query(client, api_prefix, body, **headers):
    return client.post(
        f"{api_prefix}/runs/query",
        orjson.dumps(body),
        content_type="application/json",
        **headers,
    )


def test_runs_query_reads_a_thread_oldest_first_as_read_thread_asks(
    chats, client, api_prefix
):
    body = {
        "session": [str(chats.id)],
        "is_root": True,
        "filter": 'eq(thread_id, "a")',
        "order": "asc",
        "limit": 1,
    }
    first = query(client, api_prefix, body).json()
    rest = query(
        client, api_prefix, {**body, "cursor": first["cursors"]["next"]}
    ).json()
    assert [r["name"] for r in first["runs"]] == ["a1"]
    assert ([r["name"] for r in rest["runs"]], rest["cursors"]["next"]) == (
        ["a2"],
        None,
    )
    assert [r["thread_id"] for r in first["runs"] + rest["runs"]] == ["a", "a"]
    newest = query(client, api_prefix, {**body, "order": "desc", "limit": 5}).json()
    assert [r["name"] for r in newest["runs"]] == ["a2", "a1"]
    bad = query(client, api_prefix, {**body, "order": "sideways"})
    assert (bad.status_code, list(bad.json())) == (400, ["order"])


def test_another_projects_thread_is_invisible_to_a_scoped_key(
    chats, client, api_prefix, settings
):
    settings.REQUIRE_AUTH = True
    key = create_api_key(name="k", project="other").key
    body = {"filter": 'eq(thread_id, "a")'}
    response = query(client, api_prefix, body, HTTP_X_API_KEY=key)
    assert sorted(r["name"] for r in response.json()["runs"]) == ["o1", "o1-llm"]
    body["session"] = [str(chats.id)]
    response = query(client, api_prefix, body, HTTP_X_API_KEY=key)
    assert response.json()["runs"] == []


@pytest.mark.parametrize(
    ("expression", "led"),
    [
        ('eq(thread_id, "a")', True),
        ('in(thread_id, ["a", "b"])', True),
        ('and(eq(name, "x"), and(eq(thread_id, "a"), gt(latency, 1)))', True),
        ('neq(thread_id, "a")', False),
        ('not(eq(thread_id, "a"))', False),
        ('or(eq(thread_id, "a"), eq(name, "x"))', False),
        ('eq(thread_id, "nope")', False),
        ('eq(name, "x")', False),
    ],
)
def test_a_query_is_led_by_a_threads_traces_only_when_it_requires_them(
    chats, expression, led
):
    condition = compile_filter(expression)
    assert trace_filters.led_by_traces(condition) is led
    body = {"session": [chats.id], "filter": expression}
    assert (
        trace_filters.led_by_traces(query_runs(Run.objects.all(), body).query.where)
        is led
    )


def test_sqlite_reads_a_threads_runs_through_the_trace_index(chats):
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL plans from its statistics")
    body = {"session": [chats.id], "is_root": True, "filter": 'eq(thread_id, "a")'}
    # As a key scoped to the project limits it, and as anyone else reads it.
    for visible in (Run.objects.filter(project_id=chats.id), Run.objects.all()):
        runs = query_runs(visible, body).order_by("start_time", "id")[:100]
        assert "USING INDEX run_trace_order (trace_id=?)" in sqlite_plan(runs)
        assert [r.name for r in runs] == ["a1", "a2"]
    # Other queries keep the project's index.
    body["filter"] = 'neq(thread_id, "a")'
    assert "project_id=?" in sqlite_plan(query_runs(Run.objects.all(), body))


def sqlite_plan(queryset):
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return " ".join(str(row[-1]) for row in cursor.fetchall())
