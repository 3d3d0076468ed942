"""The real ``langsmith.Client`` reads, lists and deletes through a live server."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from langsmith import Client
from langsmith.utils import LangSmithConflictError, LangSmithNotFoundError

from runs.models import Feedback, Project, Run
from tests.factories import RunFactory

pytestmark = [
    pytest.mark.e2e,
    # The SDK announces its next-generation APIs; these are the ones tested here.
    pytest.mark.filterwarnings("ignore:.*deprecated"),
]

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.fixture
def client(live_url, api_prefix) -> Client:
    return Client(
        api_url=f"{live_url}{api_prefix}", api_key="any-key", auto_batch_tracing=False
    )


def test_projects_are_created_read_listed_and_conflicts_raise(client):
    created = client.create_project(
        "sdk-read", description="from the SDK", metadata={"team": "search"}
    )
    assert created.name == "sdk-read"
    assert created.description == "from the SDK"
    with pytest.raises(LangSmithConflictError):
        client.create_project("sdk-read")
    by_name = client.read_project(project_name="sdk-read")
    assert by_name.id == created.id
    assert client.read_project(project_id=created.id).name == "sdk-read"
    assert client.has_project("sdk-read") is True
    assert client.has_project("no-such-project") is False
    client.create_project("sdk-other")
    names = sorted(p.name for p in client.list_projects())
    assert names == ["sdk-other", "sdk-read"]
    assert [p.name for p in client.list_projects(name="sdk-other")] == ["sdk-other"]
    stored = Project.objects.get(name="sdk-read")
    assert stored.metadata == {"team": "search"}


def test_list_runs_filters_and_follows_cursors_across_pages(client):
    project = Project.objects.create(name="paged")
    roots = []
    for i in range(120):
        root = RunFactory(
            project=project, name=f"root-{i:03}", start_time=T0 + timedelta(seconds=i)
        )
        roots.append(root)
    for i in range(3):
        RunFactory(
            project=project,
            parent=roots[i],
            run_type="llm",
            name=f"llm-{i}",
            start_time=roots[i].start_time + timedelta(milliseconds=5),
            status="error" if i == 0 else "success",
            error="boom" if i == 0 else None,
        )
    # 123 runs: two cursor pages of the server's default 100.
    every = list(client.list_runs(project_name="paged"))
    assert len(every) == 123
    assert len({r.id for r in every}) == 123
    assert every[0].name == "root-119"
    roots_only = list(client.list_runs(project_name="paged", is_root=True))
    assert len(roots_only) == 120
    llm = list(client.list_runs(project_name="paged", run_type="llm"))
    assert sorted(r.name for r in llm) == ["llm-0", "llm-1", "llm-2"]
    errors = list(client.list_runs(project_name="paged", error=True))
    assert [r.name for r in errors] == ["llm-0"]
    assert [r.error for r in errors] == ["boom"]
    first_five = list(client.list_runs(project_name="paged", limit=5))
    assert [r.name for r in first_five] == [f"root-{i}" for i in range(119, 114, -1)]
    by_id = list(client.list_runs(run_ids=[roots[7].id, roots[8].id]))
    assert sorted(r.name for r in by_id) == ["root-007", "root-008"]


def test_read_run_loads_child_runs(client):
    project = Project.objects.create(name="tree")
    root = RunFactory(project=project, name="agent", start_time=T0)
    child = RunFactory(
        project=project, parent=root, name="llm", start_time=T0 + timedelta(seconds=1)
    )
    RunFactory(
        project=project, parent=child, name="tool", start_time=T0 + timedelta(seconds=2)
    )
    run = client.read_run(root.id, load_child_runs=True)
    assert run.name == "agent"
    assert [c.name for c in run.child_runs] == ["llm"]
    assert [c.name for c in run.child_runs[0].child_runs] == ["tool"]
    with pytest.raises(LangSmithNotFoundError):
        client.read_run(uuid.uuid4())


def test_feedback_is_created_listed_updated_and_deleted(client):
    project = Project.objects.create(name="fb")
    run = RunFactory(project=project, name="answer")
    other = RunFactory(project=project, name="other")
    created = client.create_feedback(
        run.id, key="correctness", score=1.0, comment="right"
    )
    client.create_feedback(other.id, key="helpfulness", score=0.0)
    listed = list(client.list_feedback(run_ids=[run.id]))
    assert [(f.key, f.score, f.comment) for f in listed] == [
        ("correctness", 1.0, "right")
    ]
    assert listed[0].id == created.id
    client.update_feedback(created.id, score=0.5, comment="partly")
    again = client.read_feedback(created.id)
    assert (again.score, again.comment) == (0.5, "partly")
    stored = Feedback.objects.get(id=created.id)
    assert (stored.session_id, stored.trace_id) == (project.id, run.trace_id)
    client.delete_feedback(created.id)
    assert list(client.list_feedback(run_ids=[run.id])) == []


def test_delete_project_removes_its_runs(client):
    project = Project.objects.create(name="doomed")
    root = RunFactory(project=project)
    RunFactory(project=project, parent=root)
    keep = RunFactory(project=Project.objects.create(name="kept"))
    client.delete_project(project_name="doomed")
    assert not Project.objects.filter(name="doomed").exists()
    assert list(Run.objects.values_list("id", flat=True)) == [keep.id]
    with pytest.raises(LangSmithNotFoundError):
        client.read_project(project_name="doomed")
