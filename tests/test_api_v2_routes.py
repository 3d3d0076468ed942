"""The v2 routes in-process: every select, sessions, traces, shares and public reads."""

import uuid

import orjson
import pytest

from runs.api.v2.fields import SELECT_FIELDS
from runs.models import Feedback, Project, SharedTrace
from tests.factories import ProjectFactory, RunFactory

pytestmark = pytest.mark.django_db


def send(client, method, path, body=None, **extra):
    return getattr(client, method)(
        path,
        orjson.dumps(body) if body is not None else b"",
        content_type="application/json",
        **extra,
    )


def test_every_select_has_a_value_of_the_v2_shape(client):
    project = ProjectFactory(name="all-selects")
    root = RunFactory(
        project=project,
        extra={"metadata": {"conversation_id": "c-9"}},
        outputs={"answer": "x" * 500},
        error="boom " * 100,
        status="error",
        events=[{"name": "start"}],
        serialized={"name": "chain"},
    )
    child = RunFactory(
        project=project, parent=root, run_type="chat_model", status="running"
    )
    Feedback.objects.create(run_id=root.id, key="label", value="good", comment="nice")
    SharedTrace.objects.create(trace_id=root.trace_id)
    query = "&".join(f"selects={name}" for name in SELECT_FIELDS)
    body = client.get(f"/api/v2/runs/{root.id}?project_id={project.id}&{query}").json()
    assert set(body) >= {name.lower() for name in SELECT_FIELDS}
    assert (body["status"], body["run_type"], body["thread_id"]) == (
        "ERROR",
        "CHAIN",
        "c-9",
    )
    assert body["outputs_preview"] == "x" * 200
    assert body["error_preview"] == ("boom " * 100)[:200]
    assert body["events"] == [{"name": "start"}]
    assert body["manifest"] == {"name": "chain"}
    assert body["feedback_stats"]["label"] == {
        "n": 1, "avg": None, "min": None, "max": None, "errors": 0,
        "values": {"good": 1}, "comments": ["nice"],
    }  # fmt: skip
    assert body["share_url"].startswith("http://testserver/public/")
    assert body["attachments"] == {}
    assert (body["total_cost"], body["is_in_dataset"]) == (None, False)
    kid = client.get(
        f"/api/v2/runs/{child.id}?project_id={project.id}"
        "&selects=STATUS&selects=RUN_TYPE&selects=END_TIME&selects=LATENCY_SECONDS"
    ).json()
    assert kid == {
        "id": str(child.id),
        "status": "PENDING",
        "run_type": "chat_model",
        "end_time": kid["end_time"],
        "latency_seconds": 1.0,
    }


def test_traces_query_and_runs_of_a_trace_in_process(client):
    project = ProjectFactory(name="traces")
    root = RunFactory(project=project, name="root", total_tokens=3)
    RunFactory(project=project, parent=root, name="child", total_tokens=4)
    page = send(
        client,
        "post",
        "/api/v2/traces/query",
        {
            "project_id": str(project.id),
            "trace_ids": [str(root.trace_id)],
            "selects": ["NAME"],
        },
    ).json()
    assert page["next_cursor"] is None
    assert page["items"][0]["root_run"] == {"id": str(root.id), "name": "root"}
    assert page["items"][0]["trace_aggregates"]["total_tokens"] == 7
    runs = client.get(
        f"/api/v2/traces/{root.trace_id}/runs?project_id={project.id}&selects=NAME",
        HTTP_ACCEPT="text/event-stream",
    )
    text = b"".join(runs.streaming_content).decode()
    assert text.index('"root"') < text.index('"child"')
    bad = send(client, "post", "/api/v2/traces/query", {"sem_filter": "slow"})
    assert bad.status_code == 400


def test_sessions_v2_in_process(client):
    made = send(client, "post", "/api/v2/sessions", {"type": "PROJECT", "name": "s1"})
    assert made.status_code == 201
    sid = made.json()["id"]
    RunFactory(project=Project.objects.get(id=sid))
    agent = ProjectFactory(name="bot/local", agent_id="bot", agent_environment="local")
    listed = client.get("/api/v2/sessions?include_stats=true&type=AGENT").json()
    assert [(s["name"], s["type"]) for s in listed["items"]] == [("bot/local", "AGENT")]
    plain = client.get("/api/v2/sessions?type=PROJECT&include_stats=true").json()
    assert [(s["name"], s["run_count"]) for s in plain["items"]] == [("s1", 1)]
    assert client.get(f"/api/v2/sessions?id={agent.id}").json()["items"][0][
        "id"
    ] == str(agent.id)
    read = client.get(f"/api/v2/sessions/{sid}?include_stats=true").json()
    assert (read["run_count"], read["error_rate"]) == (1, 0.0)
    patched = send(
        client, "patch", f"/api/v2/sessions/{sid}",
        {"name": "s2", "description": None, "end_time": None, "longlived_ttl_days": 7,
         "extra": {"metadata": {"a": 1}}},
    ).json()  # fmt: skip
    assert (patched["name"], patched["longlived_ttl_days"], patched["extra"]) == (
        "s2",
        7,
        {"metadata": {"a": 1}},
    )
    cleared = send(client, "patch", f"/api/v2/sessions/{sid}", {"extra": None}).json()
    assert cleared["extra"] is None
    taken = send(client, "patch", f"/api/v2/sessions/{sid}", {"name": "bot/local"})
    assert taken.status_code == 409
    assert client.get(f"/api/v2/sessions/{uuid.uuid4()}").status_code == 404


def test_shares_and_public_reads_in_process(client, api_prefix):
    project = ProjectFactory(name="share")
    root = RunFactory(project=project, name="root")
    child = RunFactory(project=project, parent=root, name="child")
    assert client.get(f"{api_prefix}/runs/{root.id}/share").json() is None
    token = str(uuid.uuid4())
    put = send(
        client, "put", f"{api_prefix}/runs/{child.id}/share", {"share_token": token}
    )
    assert put.json() == {"run_id": str(child.id), "share_token": token}
    again = send(
        client, "post", f"/api/v2/runs/{root.id}/share",
        {"session_id": str(project.id), "trace_id": str(root.trace_id)},
    )  # fmt: skip
    assert again.json() == {"share_token": token}
    public = f"{api_prefix}/public/{token}"
    assert client.get(f"{public}/run").json()["name"] == "root"
    assert client.get(f"{public}/run/{child.id}").json()["name"] == "child"
    assert client.get(f"{public}/run/{uuid.uuid4()}").status_code == 404
    only = send(client, "post", f"{public}/runs/query", {"id": [str(child.id)]}).json()
    assert [r["name"] for r in only["runs"]] == ["child"]
    v2 = send(
        client, "post", f"/api/v2/public/{token}/runs/query", {"selects": ["NAME"]}
    )
    assert [r["name"] for r in v2.json()["items"]] == ["root", "child"]
    one = client.get(f"/api/v2/public/{token}/run/{child.id}?selects=NAME").json()
    assert one == {"id": str(child.id), "name": "child"}
    assert client.get(f"/api/v2/public/{token}/run/{uuid.uuid4()}").status_code == 404
    gone = send(
        client, "delete", f"/api/v2/runs/{root.trace_id}/share",
        {"session_id": str(project.id)},
    )  # fmt: skip
    assert gone.status_code == 204
    assert client.get(f"{public}/run").status_code == 404
    send(client, "put", f"{api_prefix}/runs/{child.id}/share", {})
    assert (
        send(client, "delete", f"{api_prefix}/runs/{root.id}/share").status_code == 204
    )
    assert not SharedTrace.objects.exists()


def test_costs_come_back_selected_and_totalled_per_trace(client):
    project = ProjectFactory(name="priced")
    root = RunFactory(project=project, name="agent")
    RunFactory(
        project=project,
        parent=root,
        run_type="llm",
        prompt_cost=0.002,
        completion_cost=0.001,
        total_cost=0.003,
    )
    RunFactory(project=project, parent=root, run_type="llm", total_cost=0.004)
    query = "selects=TOTAL_COST&selects=PROMPT_COST&selects=COMPLETION_COST"
    llm = root.children.filter(prompt_cost=0.002).get()
    body = client.get(f"/api/v2/runs/{llm.id}?project_id={project.id}&{query}").json()
    assert (body["prompt_cost"], body["completion_cost"], body["total_cost"]) == (
        0.002,
        0.001,
        0.003,
    )
    traces = send(
        client,
        "post",
        "/api/v2/traces/query",
        {"project_id": str(project.id), "selects": ["NAME"]},
    ).json()
    [item] = traces["items"]
    assert item["trace_aggregates"]["total_cost"] == pytest.approx(0.007)
