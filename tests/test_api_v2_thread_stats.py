"""``POST /api/v2/threads/stats``: aggregates of a project's recent threads."""

import re
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from runs.apikeys import create_api_key
from tests.factories import FeedbackFactory, ProjectFactory, RunFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
WINDOW = {
    "min_start_time": (T0 - timedelta(hours=1)).isoformat(),
    "max_start_time": (T0 + timedelta(hours=2)).isoformat(),
}
ALL = [
    "THREAD_COUNT", "TRACE_COUNT", "TOTAL_TOKENS", "PROMPT_TOKENS",
    "COMPLETION_TOKENS", "ERROR_RATE", "LATENCY_P50", "LATENCY_P99",
    "MEDIAN_TOKENS", "THREAD_FEEDBACK_STATS",
]  # fmt: skip


def turn(project, thread, start, seconds, tokens, **fields):
    return RunFactory(
        project=project,
        start_time=start,
        end_time=start + timedelta(seconds=seconds),
        extra={"metadata": {"thread_id": thread}},
        prompt_tokens=tokens - 1,
        completion_tokens=1,
        total_tokens=tokens,
        **fields,
    )


@pytest.fixture
def chat():
    project = ProjectFactory(name="chat")
    first = turn(project, "t-1", T0, 1, 10)
    turn(project, "t-1", T0 + timedelta(minutes=1), 2, 20)
    turn(project, "t-1", T0 + timedelta(minutes=2), 3, 30)
    failed = turn(project, "t-2", T0 + timedelta(hours=1), 4, 40, status="error")
    # A tool failing under a successful root makes its turn an errored one.
    RunFactory(project=project, parent=failed, status="error", total_tokens=0)
    # Last active before the window: not counted, nor its early turns.
    turn(project, "t-old", T0 - timedelta(days=3), 9, 99)
    turn(ProjectFactory(name="other"), "t-1", T0, 5, 50)
    FeedbackFactory(run_id=first.id, key="thumbs", score=1.0)
    FeedbackFactory(trace_id=failed.trace_id, key="thumbs", score=0.0, comment="no")
    FeedbackFactory(run_id=failed.id, key="label", score=None, value="rude")
    return project


def stats(client, body, **headers):
    return client.post(
        "/api/v2/threads/stats",
        orjson.dumps(body),
        content_type="application/json",
        **headers,
    )


def test_aggregates_the_threads_last_active_in_the_window(client, chat):
    body = {"project_id": str(chat.id), "select": ALL, **WINDOW}
    response = stats(client, body)
    assert response.status_code == 200
    assert response.json() == {
        "thread_count": 2,
        "trace_count": 4,
        "total_tokens": 100,
        "prompt_tokens": 96,
        "completion_tokens": 4,
        "error_rate": 0.25,
        "latency_p50_seconds": 2.5,
        "latency_p99_seconds": pytest.approx(3.97),
        "median_tokens": 25,
        "thread_feedback_stats": {
            "label": {
                "n": 1, "avg": None, "min": None, "max": None,
                "values": {"rude": 1}, "comments": [],
            },
            "thumbs": {
                "n": 2, "avg": 0.5, "min": 0.0, "max": 1.0,
                "values": {}, "comments": ["no"],
            },
        },
    }  # fmt: skip


def test_a_thread_counts_once_in_the_bucket_of_its_latest_turn(client, chat):
    body = {
        "project_id": str(chat.id),
        "select": ["THREAD_COUNT", "TRACE_COUNT", "LATENCY_P50", "ERROR_RATE"],
        "stride": {"unit": "MINUTE", "value": 60},
        **WINDOW,
    }
    response = stats(client, body).json()
    assert response["buckets"] == [
        {
            "bucket_start_time": (T0 - timedelta(hours=1)).isoformat(),
            "thread_count": 0,
            "trace_count": 0,
            "latency_p50_seconds": None,
            "error_rate": None,
        },
        {
            "bucket_start_time": T0.isoformat(),
            "thread_count": 1,
            "trace_count": 3,
            "latency_p50_seconds": 2.0,
            "error_rate": 0.0,
        },
        {
            "bucket_start_time": (T0 + timedelta(hours=1)).isoformat(),
            "thread_count": 1,
            "trace_count": 1,
            "latency_p50_seconds": 4.0,
            "error_rate": 1.0,
        },
    ]
    assert (response["thread_count"], response["trace_count"]) == (2, 4)


def test_a_project_without_threads_in_the_window_adds_up_to_nothing(client, chat):
    body = {"project_id": str(chat.id), "select": ALL}  # the last day: empty
    assert stats(client, body).json() == {
        "thread_count": 0,
        "trace_count": 0,
        "total_tokens": 0,
        "prompt_tokens": 0,
        "completion_tokens": 0,
        "error_rate": None,
        "latency_p50_seconds": None,
        "latency_p99_seconds": None,
        "median_tokens": None,
        "thread_feedback_stats": {},
    }


def test_one_thread_is_its_own_median(client, chat):
    body = {
        "project_id": str(chat.id),
        "select": ["THREAD_COUNT", "LATENCY_P99", "MEDIAN_TOKENS"],
        "min_start_time": (T0 + timedelta(minutes=30)).isoformat(),
        "max_start_time": (T0 + timedelta(hours=2)).isoformat(),
    }
    assert stats(client, body).json() == {
        "thread_count": 1,
        "latency_p99_seconds": 4.0,
        "median_tokens": 40,
    }


def test_what_the_rollups_do_not_keep_answers_null(client, chat):
    unkept = [
        "TOTAL_COST", "PROMPT_COST", "COMPLETION_COST", "STREAMING_RATE",
        "FIRST_TOKEN_P50", "FIRST_TOKEN_P99", "PROMPT_TOKEN_DETAILS",
        "COMPLETION_TOKEN_DETAILS", "PROMPT_COST_DETAILS", "COMPLETION_COST_DETAILS",
    ]  # fmt: skip
    body = {"project_id": str(chat.id), "select": unkept, **WINDOW}
    assert stats(client, body).json() == {
        "total_cost": None,
        "prompt_cost": None,
        "completion_cost": None,
        "streaming_rate": None,
        "first_token_p50_seconds": None,
        "first_token_p99_seconds": None,
        "prompt_token_details": None,
        "completion_token_details": None,
        "prompt_cost_details": None,
        "completion_cost_details": None,
    }


def test_runs_are_never_scanned_only_rollups(client, chat):
    body = {"project_id": str(chat.id), "select": ALL, **WINDOW}
    with CaptureQueriesContext(connection) as captured:
        assert stats(client, body).status_code == 200
    sql = " ".join(q["sql"] for q in captured.captured_queries)
    assert "runs_threadrollup" in sql and "runs_tracerollup" in sql
    # Runs are read only by primary key: the run a feedback row names.
    reads = re.findall(r'FROM "runs_run" ("?\w+"?) WHERE (\S+)', sql)
    assert reads and all(where == f'{alias}."id"' for alias, where in reads)
    assert sql.count('"runs_run"') == len(reads)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "select"),
        ({"select": []}, "select"),
        ({"select": ["TURNS"]}, "select"),
        ({"select": ["THREAD_COUNT"], "filter": 'eq(status, "error")'}, "filter"),
        ({"select": ["THREAD_COUNT"], "thread_filter": "x"}, "thread_filter"),
        ({"select": ["THREAD_COUNT"], "stride": {"unit": "WEEK"}}, "stride"),
        ({"select": ["THREAD_COUNT"], "stride": {"unit": "DAY", "value": 0}}, "stride"),
        ({"select": ["THREAD_COUNT"], "stride": {"unit": "SECOND"}}, "stride"),
        ({"select": ["THREAD_COUNT"], "min_start_time": "soon"}, "min_start_time"),
    ],
)
def test_bad_input_is_refused_by_name(client, chat, body, field):
    response = stats(client, {"project_id": str(chat.id), **body})
    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_a_missing_project_or_a_list_body_is_refused(client, chat):
    response = stats(client, {"select": ["THREAD_COUNT"]})
    assert (response.status_code, list(response.json())) == (400, ["project_id"])
    unknown = {"project_id": "00000000-0000-4000-8000-000000000000"}
    response = stats(client, {**unknown, "select": ["THREAD_COUNT"]})
    assert response.status_code == 404
    assert stats(client, [1]).status_code == 400


def test_a_scoped_key_sees_only_its_projects_threads(client, chat, settings):
    settings.REQUIRE_AUTH = True
    key = create_api_key(name="k", project="other").key
    other = ProjectFactory(name="other")
    body = {"select": ["THREAD_COUNT", "TOTAL_TOKENS"], **WINDOW}
    response = stats(client, {**body, "project_id": str(chat.id)}, HTTP_X_API_KEY=key)
    assert response.status_code == 404
    response = stats(client, {**body, "project_id": str(other.id)}, HTTP_X_API_KEY=key)
    assert response.json() == {"thread_count": 1, "total_tokens": 50}


def test_feedback_naming_both_a_turns_trace_and_its_root_counts_once(client, chat):
    root = RunFactory(
        project=chat,
        start_time=T0 + timedelta(minutes=90),
        extra={"metadata": {"thread_id": "t-3"}},
    )
    FeedbackFactory(run_id=root.id, trace_id=root.trace_id, key="stars", score=4.0)
    body = {"project_id": str(chat.id), "select": ["THREAD_FEEDBACK_STATS"], **WINDOW}
    feedback = stats(client, body).json()["thread_feedback_stats"]
    assert (feedback["stars"]["n"], feedback["stars"]["avg"]) == (1, 4.0)
    assert (feedback["thumbs"]["n"], feedback["label"]["n"]) == (2, 1)


def test_null_values_count_as_absent(client, chat):
    body = {
        "project_id": str(chat.id),
        "select": ["THREAD_COUNT"],
        "stride": None,
        "filter": None,
        **WINDOW,
    }
    assert stats(client, body).json() == {"thread_count": 2}
