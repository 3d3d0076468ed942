"""The v2 threads routes refuse what they cannot answer with a 4xx (or 501)."""

from datetime import UTC, datetime

import orjson
import pytest

from runs.apikeys import create_api_key
from runs.query.turn_text import final_answer, preview, user_input
from tests.factories import ProjectFactory, RunFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.fixture
def project():
    project = ProjectFactory(name="p")
    RunFactory(project=project, start_time=T0, extra={"metadata": {"thread_id": "t"}})
    return project


def query(client, body, **headers):
    return client.post(
        "/api/v2/threads/query",
        orjson.dumps(body),
        content_type="application/json",
        **headers,
    )


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({}, 400, "project_id"),
        ({"project_id": "nope"}, 400, "project_id"),
        ({"page_size": 0}, 400, "page_size"),
        ({"page_size": 101}, 400, "page_size"),
        ({"cursor": "not-ours"}, 400, "cursor"),
        ({"filter": 'eq(status, "error")'}, 400, "filter"),
        ({"thread_filter": "x"}, 400, "thread_filter"),
        ({"ai_search": "angry users"}, 501, None),
    ],
)
def test_threads_query_refuses_bad_input_by_name(client, project, body, status, field):
    body = (
        {"project_id": str(project.id), **body}
        if "project_id" not in body and body
        else body
    )
    response = query(client, body)
    assert response.status_code == status
    if field:
        assert field in response.json()


def test_an_unknown_project_or_a_list_body_is_refused(client, project):
    assert (
        query(
            client, {"project_id": "00000000-0000-4000-8000-000000000000"}
        ).status_code
        == 404
    )
    assert query(client, [1]).status_code == 400


def test_thread_traces_and_stats_refuse_unknown_selects_and_need_a_project(
    client, project
):
    base = "/api/v2/threads/t"
    response = client.get(
        f"{base}/traces", {"project_id": project.id, "selects": "NOPE"}
    )
    assert (response.status_code, "selects" in response.json()) == (400, True)
    assert client.get(f"{base}/traces").status_code == 400
    response = client.get(f"{base}/stats", {"session_id": project.id})
    assert (response.status_code, "selects" in response.json()) == (400, True)
    response = client.get(
        f"{base}/traces", {"project_id": project.id, "tree_filter": "x"}
    )
    assert response.status_code == 400
    response = client.get(
        f"{base}/stats", {"session_id": project.id, "selects": "TURNS,FEEDBACK_STATS"}
    )
    assert response.json() == {"turns": 1, "feedback_stats": {}}


def test_a_thread_of_another_project_is_not_found_with_a_scoped_key(client, project):
    key = create_api_key(name="k", project="elsewhere").key
    ProjectFactory(name="elsewhere")
    response = query(client, {"project_id": str(project.id)}, HTTP_X_API_KEY=key)
    assert response.status_code == 404
    response = client.get(
        "/api/v2/threads/t/stats",
        {"session_id": project.id, "selects": "TURNS"},
        HTTP_X_API_KEY=key,
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("inputs", "expected"),
    [
        (
            {
                "messages": [
                    {"role": "user", "content": "a"},
                    {"role": "assistant", "content": "b"},
                    {"role": "user", "content": "c"},
                ]
            },
            "c",
        ),
        ({"question": "why?"}, "why?"),
        ({"anything": "only value"}, "only value"),
        ({"a": 1, "b": 2}, '{"a": 1, "b": 2}'),
        ("plain", "plain"),
        (None, ""),
    ],
)
def test_a_turns_user_input_is_the_last_human_message_else_the_input_text(
    inputs, expected
):
    assert user_input(inputs) == expected


@pytest.mark.parametrize(
    ("outputs", "expected"),
    [
        (
            {
                "messages": [
                    {"role": "user", "content": "q"},
                    {"role": "assistant", "content": "final"},
                ]
            },
            "final",
        ),
        ({"answer": "42"}, "42"),
        ({"output": "done"}, "done"),
    ],
)
def test_a_turns_final_answer_is_the_last_ai_message_else_the_output_text(
    outputs, expected
):
    assert final_answer(outputs) == expected


def test_previews_fold_whitespace_and_clip():
    assert preview("a\n  b", 10) == "a b"
    assert preview("x" * 20, 10) == "x" * 9 + "…"
