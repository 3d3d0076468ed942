"""The v2 read API: bad input, scoped keys, streams, absolute links."""

import uuid
from datetime import timedelta

import orjson
import pytest
from django.core import signing
from django.utils import timezone

from runs.api.links import sign_attachment
from runs.apikeys import create_api_key
from runs.models import Project
from tests.factories import ProjectFactory, RunFactory
from tests.test_dashboard_trace import attach

pytestmark = pytest.mark.django_db


def post(client, path, body, **extra):
    return client.post(
        f"/api/v2/{path}", orjson.dumps(body), content_type="application/json", **extra
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "project_ids"),
        ({"project_ids": ["not-a-uuid"]}, "project_ids"),
        (
            {"project_ids": [str(uuid.uuid4())], "selects": ["NAME", "COLOUR"]},
            "selects",
        ),
        ({"project_ids": [str(uuid.uuid4())], "page_size": 1001}, "page_size"),
        ({"project_ids": [str(uuid.uuid4())], "cursor": "garbage"}, "cursor"),
        ({"project_ids": [str(uuid.uuid4())], "ai_search": "why slow"}, "ai_search"),
        (
            {"reference_dataset_id": str(uuid.uuid4()), "project_ids": []},
            "reference_dataset_id",
        ),
    ],
)
def test_a_bad_runs_query_answers_400_naming_the_field(client, body, field):
    response = post(client, "runs/query", body)
    assert response.status_code == 400
    assert field in response.json()


def test_runs_query_streams_json_patch_events(client):
    project = ProjectFactory(name="sse")
    runs = [RunFactory(project=project, name=f"r{i}") for i in range(3)]
    response = post(
        client,
        "runs/query",
        {"project_ids": [str(project.id)], "page_size": 2, "selects": ["NAME"]},
        HTTP_ACCEPT="text/event-stream",
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/event-stream"
    text = b"".join(response.streaming_content).decode()
    events = [block.split("\n") for block in text.strip().split("\n\n")]
    assert [e[0] for e in events] == ["event: data"] * 4 + ["event: end"]
    patches = [orjson.loads(e[1].removeprefix("data: ")) for e in events[:4]]
    assert patches[0] == [
        {"op": "add", "path": "", "value": {"items": [], "next_cursor": None}}
    ]
    assert [p[0]["value"]["name"] for p in patches[1:3]] == [runs[2].name, runs[1].name]
    assert patches[3][0]["path"] == "/next_cursor"
    assert patches[3][0]["value"]


def test_a_bad_request_with_a_stream_accept_header_is_a_json_400(client):
    response = post(client, "runs/query", {}, HTTP_ACCEPT="text/event-stream")
    assert response.status_code == 400
    assert "project_ids" in orjson.loads(response.content)


@pytest.fixture
def scoped_key():
    key = create_api_key(name="team", project="mine").key
    mine = ProjectFactory(name="mine")
    theirs = ProjectFactory(name="theirs", agent_id="bot", agent_environment="local")
    own = RunFactory(project=mine, name="own")
    other = RunFactory(project=theirs, name="other")
    return key, mine, theirs, own, other


def test_a_scoped_key_reads_only_its_project_through_v2(client, scoped_key):
    key, mine, theirs, own, other = scoped_key
    both = {"project_ids": [str(mine.id), str(theirs.id)], "selects": ["NAME"]}
    runs = post(client, "runs/query", both, HTTP_X_API_KEY=key).json()
    assert [r["name"] for r in runs["items"]] == ["own"]
    traces = post(
        client, "traces/query", {"selects": ["NAME"]}, HTTP_X_API_KEY=key
    ).json()
    assert [t["root_run"]["name"] for t in traces["items"]] == ["own"]
    url = f"/api/v2/runs/{other.id}?project_id={theirs.id}"
    assert client.get(url, HTTP_X_API_KEY=key).status_code == 404
    runs_of = f"/api/v2/traces/{other.trace_id}/runs?project_id={theirs.id}"
    assert client.get(runs_of, HTTP_X_API_KEY=key).json() == {"items": []}
    sessions = client.get("/api/v2/sessions", HTTP_X_API_KEY=key).json()
    assert [s["name"] for s in sessions["items"]] == ["mine"]
    resolve = "/api/v1/sessions/resolutions?kind=AGENT&id=bot&environment=LOCAL"
    assert client.get(resolve).json() == {"session_id": str(theirs.id)}
    assert client.get(resolve, HTTP_X_API_KEY=key).status_code == 404
    share = post(
        client,
        f"runs/{other.id}/share",
        {"session_id": str(theirs.id), "trace_id": str(other.trace_id)},
        HTTP_X_API_KEY=key,
    )
    assert share.status_code == 404


def test_resolving_other_kinds_of_address_is_404(client):
    for query in ("kind=EXPERIMENT&id=x", "kind=EVALUATOR", "kind=AGENT&id=x"):
        response = client.get(f"/api/v1/sessions/resolutions?{query}")
        assert response.status_code == 404
    assert client.get("/api/v1/sessions/resolutions?kind=ROBOT").status_code == 400


def test_get_url_honours_forwarded_host_when_trusted(client, settings):
    run = RunFactory()
    url = (
        f"/api/v2/runs/{run.id}/url?project_id={run.project_id}&trace_id={run.trace_id}"
    )
    forwarded = {"HTTP_X_FORWARDED_HOST": "spy.example.com:8443"}
    plain = client.get(url, **forwarded).json()["url"]
    assert plain == f"http://testserver/traces/{run.trace_id}?run={run.id}"
    settings.USE_X_FORWARDED_HOST = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    proxied = client.get(url, HTTP_X_FORWARDED_PROTO="https", **forwarded).json()
    assert proxied["url"] == (
        f"https://spy.example.com:8443/traces/{run.trace_id}?run={run.id}"
    )


def test_app_path_carries_the_port_only_for_a_loopback_host(client, api_prefix):
    run = RunFactory()
    path = f"/traces/{run.trace_id}?run={run.id}"
    local = client.get(f"{api_prefix}/runs/{run.id}", HTTP_HOST="127.0.0.1:8123")
    assert local.json()["app_path"] == f":8123{path}"
    named = client.get(f"{api_prefix}/runs/{run.id}", HTTP_HOST="localhost:9000")
    assert named.json()["app_path"] == f":9000{path}"
    remote = client.get(f"{api_prefix}/runs/{run.id}", HTTP_HOST="spy.example.com:80")
    assert remote.json()["app_path"] == path
    default_port = client.get(f"{api_prefix}/runs/{run.id}", HTTP_HOST="localhost")
    assert default_port.json()["app_path"] == path


def test_an_attachment_link_expires_and_names_only_its_attachment(
    client, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    run = RunFactory()
    first = attach(run, "a.txt", "text/plain", b"first")
    attach(run, "b.txt", "text/plain", b"second")
    token = sign_attachment(first)
    response = client.get(f"/api/v2/attachments/{token}")
    assert b"".join(response.streaming_content) == b"first"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    settings.ATTACHMENT_URL_MAX_AGE = 60
    later = timezone.now() + timedelta(seconds=120)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(signing.time, "time", lambda: later.timestamp())
        assert client.get(f"/api/v2/attachments/{token}").status_code == 404
    first.delete()
    assert client.get(f"/api/v2/attachments/{token}").status_code == 404


def test_v2_sessions_reject_bad_parameters(client):
    assert client.get("/api/v2/sessions?sort_by=COLOUR").status_code == 400
    assert client.get("/api/v2/sessions?metadata=[1]").status_code == 400
    assert client.get("/api/v2/sessions?cursor=nope").status_code == 400
    assert client.get("/api/v2/sessions?filter=eq(name,'x')").status_code == 400
    agent = post(client, "sessions", {"type": "AGENT", "name": "bot"})
    assert agent.status_code == 400
    assert "type" in agent.json()
    assert not Project.objects.filter(name="bot").exists()
