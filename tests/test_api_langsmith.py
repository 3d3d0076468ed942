"""LangSmith read routes through the test client: exact shapes, paging, errors."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from runs.models import TENANT_ID, Feedback, Project, Run
from tests.factories import FeedbackFactory, ProjectFactory, RunFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture
def api(client, api_prefix):
    class Api:
        def get(self, path, data=None):
            return client.get(f"{api_prefix}/{path}", data)

        def post(self, path, body, query=""):
            return client.post(
                f"{api_prefix}/{path}{query}", body, content_type="application/json"
            )

        def patch(self, path, body):
            return client.patch(
                f"{api_prefix}/{path}", body, content_type="application/json"
            )

        def delete(self, path):
            return client.delete(f"{api_prefix}/{path}")

    return Api()


def test_create_session_returns_the_tracer_session_shape(api):
    pid = uuid.uuid4()
    response = api.post(
        "sessions",
        {
            "id": str(pid),
            "name": "demo",
            "description": "d",
            "extra": {"metadata": {"k": "v"}},
            "retention_days": 14,
        },
    )
    assert response.status_code == 201
    project = Project.objects.get()
    assert response.json() == {
        "id": str(pid),
        "name": "demo",
        "description": "d",
        "start_time": project.created_at.isoformat(),
        "end_time": None,
        "extra": {"metadata": {"k": "v"}},
        "tenant_id": str(TENANT_ID),
        "reference_dataset_id": None,
        "default_dataset_id": None,
        "trace_tier": "longlived",
        "retention_days": 14,
    }


def test_duplicate_session_is_409_unless_upserted(api):
    assert api.post("sessions", {"name": "demo"}).status_code == 201
    assert api.post("sessions", {"name": "demo"}).status_code == 409
    upserted = api.post(
        "sessions", {"name": "demo", "description": "new"}, query="?upsert=true"
    )
    assert upserted.status_code == 200
    assert upserted.json()["description"] == "new"
    assert Project.objects.count() == 1
    assert api.post("sessions", {"description": "no name"}).status_code == 400


def test_list_sessions_filters_by_name_and_pages_by_offset(api):
    for name in ["a", "b", "c"]:
        ProjectFactory(name=name)
    p = Project.objects.get(name="b")
    RunFactory(project=p, start_time=T0)
    listed = api.get("sessions", {"limit": 2, "offset": 0}).json()
    assert len(listed) == 2
    rest = api.get("sessions", {"limit": 2, "offset": 2}).json()
    assert len(rest) == 1
    names = {row["name"] for row in listed + rest}
    assert names == {"a", "b", "c"}
    assert api.get("sessions", {"offset": 10}).json() == []
    only = api.get("sessions", {"name": "b"}).json()
    assert [(r["name"], r["run_count"]) for r in only] == [("b", 1)]
    assert only[0]["last_run_start_time"] == T0.isoformat()
    light = api.get("sessions", {"name": "b", "include_stats": "False"}).json()
    assert "run_count" not in light[0]
    assert api.get("sessions", {"limit": 0}).status_code == 400


def test_read_patch_and_delete_one_session(api):
    project = ProjectFactory(name="p")
    root = RunFactory(project=project)
    RunFactory(project=project, parent=root)
    FeedbackFactory(run_id=root.id, session_id=project.id)
    other = RunFactory(project=ProjectFactory(name="other"))
    body = api.get(f"sessions/{project.id}").json()
    assert (body["name"], body["run_count"]) == ("p", 2)
    patched = api.patch(
        f"sessions/{project.id}", {"name": "renamed", "retention_days": 7}
    ).json()
    assert (patched["name"], patched["retention_days"]) == ("renamed", 7)
    assert api.patch(f"sessions/{project.id}", {"name": "other"}).status_code == 409
    assert api.delete(f"sessions/{project.id}").status_code == 204
    assert list(Run.objects.values_list("id", flat=True)) == [other.id]
    assert Feedback.objects.count() == 0
    assert api.get(f"sessions/{project.id}").status_code == 404


def seed_runs(project, n):
    roots = [
        RunFactory(project=project, name=f"r{i}", start_time=T0 + timedelta(seconds=i))
        for i in range(n)
    ]
    RunFactory(
        project=project,
        parent=roots[0],
        name="child",
        run_type="llm",
        start_time=T0 + timedelta(milliseconds=500),
        status="error",
        error="boom",
    )
    return roots


def test_runs_query_pages_with_cursors_newest_first(api):
    project = ProjectFactory(name="p")
    seed_runs(project, 5)
    seen, cursor = [], None
    for _ in range(10):
        body = {"session": [str(project.id)], "limit": 2}
        if cursor:
            body["cursor"] = cursor
        page = api.post("runs/query", body).json()
        seen += [r["name"] for r in page["runs"]]
        cursor = page["cursors"]["next"]
        if not cursor:
            break
    assert seen == ["r4", "r3", "r2", "r1", "child", "r0"]
    bad = api.post("runs/query", {"cursor": "garbage"})
    assert bad.status_code == 400
    assert list(bad.json()) == ["cursor"]


def test_runs_query_filters(api):
    project = ProjectFactory(name="p")
    roots = seed_runs(project, 3)

    def names(body):
        return [r["name"] for r in api.post("runs/query", body).json()["runs"]]

    assert names({"is_root": False, "trace": str(roots[0].trace_id)}) == ["child"]
    assert names({"parent_run": str(roots[0].id)}) == ["child"]
    assert names({"run_type": "llm"}) == ["child"]
    assert names({"error": True}) == ["child"]
    assert names({"error": False, "is_root": True}) == ["r2", "r1", "r0"]
    assert names({"id": [str(roots[1].id)]}) == ["r1"]
    assert names({"session_id": str(project.id), "is_root": True, "limit": 1}) == ["r2"]
    since = (T0 + timedelta(seconds=1)).isoformat()
    assert names({"start_time": since}) == ["r2", "r1"]
    assert names({"query": "child"}) == ["child", "r0"]
    assert names({"session": [str(uuid.uuid4())]}) == []
    full = api.post("runs/query", {"id": [str(roots[0].id)]}).json()["runs"][0]
    assert full["child_run_ids"] == [str(roots[0].children.get().id)]
    assert full["parent_run_ids"] == []
    assert names({"filter": 'eq(name, "r1")'}) == ["r1"]
    assert names({"tree_filter": 'eq(run_type, "llm")'}) == ["child", "r0"]
    assert names({"trace_filter": 'eq(name, "r0")'}) == ["child", "r0"]
    dsl = api.post("runs/query", {"filter": 'eq(name, "x"'})
    assert dsl.status_code == 400
    assert dsl.json() == {
        "filter": ["At position 13: the expression ends early; expected ')' or ','"]
    }


def test_feedback_routes(api):
    run = RunFactory(name="r")
    created = api.post(
        "feedback", {"run_id": str(run.id), "key": "accuracy", "score": 0.9}
    )
    assert created.status_code == 201
    body = created.json()
    assert body["trace_id"] == str(run.trace_id)
    assert body["session_id"] == str(run.project_id)
    fid = body["id"]
    assert api.post("feedback", {"id": fid, "key": "x"}).status_code == 409
    assert api.post("feedback", {"run_id": str(run.id)}).json() == {
        "key": ["is required and must be a string"]
    }
    FeedbackFactory(run_id=uuid.uuid4(), key="elsewhere")
    listed = api.get("feedback", {"run": str(run.id)}).json()
    assert [(f["key"], f["score"]) for f in listed] == [("accuracy", 0.9)]
    assert len(api.get("feedback").json()) == 2
    assert len(api.get("feedback", {"limit": 1, "offset": 1}).json()) == 1
    patched = api.patch(f"feedback/{fid}", {"score": 0.1, "comment": "meh"}).json()
    assert (patched["score"], patched["comment"], patched["key"]) == (
        0.1,
        "meh",
        "accuracy",
    )
    assert api.get(f"feedback/{fid}").json()["score"] == 0.1
    assert api.delete(f"feedback/{fid}").status_code == 204
    assert api.get(f"feedback/{fid}").status_code == 404
