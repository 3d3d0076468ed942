"""A project-scoped API key reads only its project through every read route."""

import orjson
import pytest

from runs.apikeys import create_api_key
from tests.factories import FeedbackFactory, ProjectFactory, RunFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def scoped(client, api_prefix):
    key = create_api_key(name="team", project="mine").key
    mine = ProjectFactory(name="mine")
    theirs = ProjectFactory(name="theirs")
    own = RunFactory(project=mine, name="own")
    other = RunFactory(project=theirs, name="other")
    FeedbackFactory(run_id=own.id, session_id=mine.id, key="own")
    FeedbackFactory(run_id=other.id, session_id=theirs.id, key="other")

    def get(path, **extra):
        return client.get(f"{api_prefix}/{path}", HTTP_X_API_KEY=key, **extra)

    def post(path, body):
        return client.post(
            f"{api_prefix}/{path}",
            body,
            content_type="application/json",
            HTTP_X_API_KEY=key,
        )

    return get, post, own, other


def test_scoped_key_lists_only_its_project(scoped):
    get, post, own, other = scoped
    assert [r["name"] for r in get("dashboard/runs/roots").json()["runs"]] == ["own"]
    assert [p["name"] for p in get("sessions").json()] == ["mine"]
    assert [p["name"] for p in get("dashboard/projects").json()["projects"]] == ["mine"]
    assert get("dashboard/stats/summary").json()["total_runs"] == 1
    assert [r["name"] for r in post("runs/query", {}).json()["runs"]] == ["own"]
    assert [f["key"] for f in get("feedback").json()] == ["own"]
    lines = b"".join(get("export/runs").streaming_content).splitlines()
    assert [orjson.loads(line)["name"] for line in lines] == ["own"]


def test_scoped_key_cannot_read_or_touch_another_project(scoped):
    get, post, own, other = scoped
    assert get(f"dashboard/runs/{other.id}/hierarchy").status_code == 404
    assert get(f"dashboard/runs/{other.id}/io").status_code == 404
    assert get(f"sessions/{other.project_id}").status_code == 404
    assert get(f"dashboard/runs/{own.id}/hierarchy").status_code == 200
    assert post("sessions", {"name": "new-project"}).status_code == 404
    assert post("feedback", {"run_id": str(other.id), "key": "x"}).status_code == 404
    assert get("dashboard/stats/summary?project=theirs").json()["total_runs"] == 0
