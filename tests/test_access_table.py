"""Project isolation, route by route and wire format by wire format.

A key scoped to "mine" faces a project "theirs" whose trace hangs off one of
mine (so its ids show up wherever children are listed). Every route of the
URL resolver must have a row in ``CASES`` (or be listed in ``NOT_KEY_ROUTES``
with the reason a key cannot reach it): a new route that forgets the rule, or
forgets to be listed, fails ``test_every_route_has_an_isolation_case``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from alerts.models import AlertDelivery, AlertRule
from dashboard.models import SavedView
from datasets.models import Dataset, Example
from review.models import Queue
from runs import sharing
from runs.apikeys import create_api_key
from runs.models import Attachment, Feedback, Project, Run, SharedTrace
from tests.e2e.wire import MULTIPART_TYPE, multipart, part
from tests.factories import (
    AlertRuleFactory,
    DatasetFactory,
    ExampleFactory,
    FeedbackFactory,
    ProjectFactory,
    RunFactory,
)

pytestmark = pytest.mark.django_db

JSON = "application/json"

# Routes an API key does not open: pages need a Django login when
# REQUIRE_AUTH is on (checked below), and the rest carry no project data.
NOT_KEY_ROUTES = {
    "dashboard:compare": "page: Django login",
    "dashboard:queues": "page: Django login",
    "dashboard:queue": "page: Django login",
    "dashboard:queue_add": "page: Django login",
    "dashboard:queue_feedback": "page: Django login",
    "dashboard:queue_rename": "page form (POST): Django login",
    "dashboard:queue_delete": "page form (POST): Django login",
    "dashboard:saved_view_save": "page form (POST): Django login",
    "dashboard:saved_view": "page redirect: Django login",
    "dashboard:saved_view_delete": "page form (POST): Django login",
    "dashboard:overview": "page: Django login",
    "dashboard:traces": "page: Django login",
    "dashboard:trace": "page: Django login",
    "dashboard:run_panel": "page: Django login",
    "dashboard:run_json": "page: Django login",
    "dashboard:projects": "page: Django login",
    "dashboard:attachment": "page: Django login",
    "admin": "Django admin: staff login",
    "schema": "the OpenAPI document, no project data",
    "docs": "the OpenAPI viewer, no project data",
    "redoc": "the OpenAPI viewer, no project data",
    "health": "liveness, no project data",
    "health-ready": "readiness, no project data",
    "health-live": "liveness, no project data",
    "metrics": "process metrics, refused to scoped keys (test_metrics)",
    "api-health": "liveness, no project data",
    "info": "server capabilities, no project data",
    "runs-multipart GET": "a help page for people who open the URL",
    "runs-batch GET": "a help page for people who open the URL",
    "runs-create GET": "a help page for people who open the URL",
    "redoc-bundle": "ReDoc's script, no project data",
    "login": "the sign-in form: a Django login, not a key",
    "logout": "ends a Django login; a key has none",
    "dashboard:threads": "page: Django login",
    "dashboard:thread": "page: Django login",
    "dashboard:feedback": "page form (POST): Django login",
    "dashboard:feedback_edit": "page form (POST): Django login",
    "dashboard:feedback_delete": "page form (POST): Django login",
    "dashboard:users": "page: Django login",
    "dashboard:user": "page: Django login",
    "dashboard:trace_share": "page form (POST): Django login",
    "dashboard:trace_unshare": "page form (POST): Django login",
    "dashboard:langsmith_run": "page redirect: Django login",
    "dashboard:langsmith_project": "page redirect: Django login",
    "datasets:list": "page: Django login",
    "datasets:detail": "page: Django login",
    "datasets:compare": "page: Django login",
    "datasets:add_to_dataset": "page form (POST): Django login",
    "alerts-page": "page: Django login",
}


@dataclass
class World:
    key: str
    mine: Project
    theirs: Project
    own: Run
    foreign: Run
    their_feedback: Feedback


@pytest.fixture
def world(settings) -> World:
    settings.REQUIRE_AUTH = True
    key = create_api_key(name="team", project="mine").key
    mine = ProjectFactory(name="mine")
    theirs = ProjectFactory(name="theirs")
    own = RunFactory(project=mine, name="own")
    foreign = RunFactory(
        project=theirs,
        parent=own,
        name="foreign",
        outputs={"secret": "s3cret"},
        extra={"metadata": {"thread_id": "their-thread"}},
        total_tokens=1000,
    )
    their_feedback = FeedbackFactory(
        run_id=foreign.id, session_id=theirs.id, key="theirs", score=0.25
    )
    return World(key, mine, theirs, own, foreign, their_feedback)


def _untouched(world: World) -> None:
    """Their run, feedback and files are as they were."""
    foreign = Run.objects.get(id=world.foreign.id)
    assert (foreign.project_id, foreign.name, foreign.outputs) == (
        world.theirs.id,
        "foreign",
        {"secret": "s3cret"},
    )
    feedback = Feedback.objects.get(id=world.their_feedback.id)
    assert (feedback.run_id, feedback.session_id, feedback.key, feedback.score) == (
        world.foreign.id,
        world.theirs.id,
        "theirs",
        0.25,
    )
    assert not Attachment.objects.filter(run_id=world.foreign.id).exists()


def _new_own_run() -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "name": "fresh",
        "run_type": "chain",
        "start_time": "2026-11-25T13:40:22+00:00",
        "session_name": "mine",
    }


def _stored_fresh(body: dict[str, Any]) -> None:
    assert Run.objects.get(id=body["id"]).project.name == "mine"


def _text(response) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def _no_foreign_id(world: World, response, status: int = 200) -> None:
    assert response.status_code == status, response.content[:500]
    assert str(world.foreign.id).encode() not in _text(response)
    assert str(world.their_feedback.id).encode() not in _text(response)


@dataclass
class Case:
    name: str
    method: str
    call: Callable[[Any, World], None]
    id: str = ""


def _otlp_span_for(world: World) -> bytes:
    """An OTLP/JSON span whose derived run id is their run's id."""
    raw = world.foreign.id.bytes
    return orjson.dumps(
        {
            "resourceSpans": [
                {
                    "resource": {"attributes": []},
                    "scopeSpans": [
                        {
                            "spans": [
                                {
                                    # run id = span id (8 bytes) + trace id[8:]
                                    "traceId": ("00" * 8) + raw[8:].hex(),
                                    "spanId": raw[:8].hex(),
                                    "name": "hijack",
                                    "kind": 1,
                                    "startTimeUnixNano": "1764072000000000000",
                                    "endTimeUnixNano": "1764072001000000000",
                                    "attributes": [
                                        {
                                            "key": "langsmith.trace.session_name",
                                            "value": {"stringValue": "mine"},
                                        }
                                    ],
                                }
                            ]
                        }
                    ],
                }
            ]
        }
    )


def _otlp(path: str) -> Callable[[Any, World], None]:
    def call(api, world: World) -> None:
        response = api.post(path, _otlp_span_for(world), "application/json")
        assert response.status_code == 403, response.content
        assert str(world.foreign.id) in response.json()["message"]
        _untouched(world)

    return call


def _batch(api, world: World) -> None:
    fresh = _new_own_run()
    their = {"id": str(world.foreign.id), "session_name": "mine", "name": "x"}
    response = api.post(
        "runs/batch",
        orjson.dumps({"post": [fresh, their], "patch": [their]}),
        "application/json",
    )
    assert response.status_code == 403, response.content
    assert response.json()["rejected"] == [
        {
            "item": "run",
            "run_id": str(world.foreign.id),
            "field": "id",
            "error": "This run belongs to another project than 'mine'.",
        }
    ]
    _stored_fresh(fresh)
    _untouched(world)


def _multipart(api, world: World) -> None:
    fresh = _new_own_run()
    foreign = str(world.foreign.id)
    new_feedback = str(uuid.uuid4())
    body = multipart(
        part(f"post.{fresh['id']}", fresh),
        part(f"post.{foreign}", {"name": "x", "session_name": "mine"}),
        part(f"patch.{foreign}", {"outputs": {"stolen": True}}),
        part(
            f"feedback.{new_feedback}",
            {"id": new_feedback, "run_id": foreign, "key": "k", "score": 1},
        ),
        part(
            f"feedback.{world.their_feedback.id}",
            {"id": str(world.their_feedback.id), "run_id": fresh["id"], "key": "k"},
        ),
        part(f"attachment.{foreign}.img", b"\x89PNG", "image/png"),
        part(f"attachment.{fresh['id']}.img", b"\x89PNG", "image/png"),
    )
    response = api.post("runs/multipart", body, MULTIPART_TYPE)
    assert response.status_code == 403, response.content
    rejected = response.json()["rejected"]
    assert sorted((r["item"], r["field"]) for r in rejected) == sorted(
        [
            ("run", "id"),
            (f"feedback.{new_feedback}", "run_id"),
            (f"feedback.{world.their_feedback.id}", "id"),
            (f"attachment.{foreign}.img", "run_id"),
        ]
    )
    assert (response.json()["accepted"], response.json()["attachments"]) == (1, 1)
    _stored_fresh(fresh)
    assert not Feedback.objects.filter(id=new_feedback).exists()
    _untouched(world)


def _single_post(api, world: World) -> None:
    body = {"id": str(world.foreign.id), "name": "x", "session_name": "mine"}
    response = api.post("runs", orjson.dumps(body), "application/json")
    assert response.status_code == 403, response.content
    _untouched(world)


def _run_read(api, world: World) -> None:
    assert api.get(f"runs/{world.foreign.id}").status_code == 404
    response = api.get(f"runs/{world.own.id}")
    assert response.json()["child_run_ids"] == []
    assert response.json()["total_tokens"] == (world.own.total_tokens or 0)
    _no_foreign_id(world, response)


def _run_patch(api, world: World) -> None:
    response = api.patch(
        f"runs/{world.foreign.id}",
        orjson.dumps({"session_name": "mine", "outputs": {"stolen": True}}),
    )
    assert response.status_code == 403, response.content
    _untouched(world)


def _runs_query(api, world: World) -> None:
    for body in (
        {},
        {"session": [str(world.theirs.id)]},
        {"trace": str(world.own.trace_id)},
        {"id": [str(world.foreign.id)]},
    ):
        response = api.post("runs/query", orjson.dumps(body), "application/json")
        _no_foreign_id(world, response)
    response = api.post("runs/query", b"{}", "application/json")
    assert [r["child_run_ids"] for r in response.json()["runs"]] == [[]]


def _roots(api, world: World) -> None:
    for query in ("", "?project=theirs", "?fields=outputs&search=s3cret"):
        _no_foreign_id(world, api.get(f"dashboard/runs/roots{query}"))
    # Their run in my trace is not counted in my trace's totals either.
    [row] = api.get("dashboard/runs/roots").json()["runs"]
    assert (row["id"], row["run_count"], row["trace_total_tokens"]) == (
        str(world.own.id),
        1,
        world.own.total_tokens or 0,
    )


def _hierarchy(api, world: World) -> None:
    assert api.get(f"dashboard/runs/{world.foreign.id}/hierarchy").status_code == 404
    _no_foreign_id(world, api.get(f"dashboard/runs/{world.own.id}/hierarchy"))


def _run_io(api, world: World) -> None:
    assert api.get(f"dashboard/runs/{world.foreign.id}/io").status_code == 404


def _stats_cost(api, world: World) -> None:
    from runs.models import Run

    Run.objects.filter(id=world.foreign.id).update(total_cost=5.0)
    Run.objects.filter(id=world.own.id).update(total_cost=0.25)
    for query, total in (("", 0.25), ("?project=theirs", 0.0)):
        response = api.get(f"dashboard/stats/cost{query}")
        assert response.status_code == 200
        assert response.json()["cost"]["total"] == total


def _stats(api, world: World) -> None:
    for query in ("", "?project=theirs"):
        response = api.get(f"dashboard/stats/summary{query}")
        assert response.json()["total_runs"] == (0 if query else 1)


def _projects(api, world: World) -> None:
    names = [p["name"] for p in api.get("dashboard/projects").json()["projects"]]
    assert names == ["mine"]


def _sessions_list(api, world: World) -> None:
    assert [p["name"] for p in api.get("sessions").json()] == ["mine"]
    response = api.get(f"sessions?id={world.theirs.id}")
    assert response.json() == []


def _sessions_create(api, world: World) -> None:
    body = orjson.dumps({"name": "theirs"})
    assert api.post("sessions?upsert=true", body, "application/json").status_code == 404
    assert Project.objects.get(id=world.theirs.id).name == "theirs"


def _session_detail(method: str) -> Callable[[Any, World], None]:
    def call(api, world: World) -> None:
        path = f"sessions/{world.theirs.id}"
        response = api.call(method, path, orjson.dumps({"name": "taken"}))
        assert response.status_code == 404
        assert Project.objects.get(id=world.theirs.id).name == "theirs"
        assert Run.objects.filter(id=world.foreign.id).exists()

    return call


def _feedback_list(api, world: World) -> None:
    _no_foreign_id(world, api.get("feedback"))
    _no_foreign_id(world, api.get(f"feedback?run={world.foreign.id}"))


def _feedback_create(api, world: World) -> None:
    for body in (
        {"run_id": str(world.foreign.id), "key": "k"},
        {"run_id": str(world.own.id), "key": "k", "session_id": str(world.theirs.id)},
        {"key": "k", "session_id": str(world.theirs.id)},
    ):
        response = api.post("feedback", orjson.dumps(body), "application/json")
        assert response.status_code == 404, (body, response.content)
    assert not Feedback.objects.filter(key="k").exists()


def _feedback_detail(method: str) -> Callable[[Any, World], None]:
    def call(api, world: World) -> None:
        path = f"feedback/{world.their_feedback.id}"
        response = api.call(method, path, orjson.dumps({"score": 0}))
        assert response.status_code == 404
        _untouched(world)

    return call


def _export(api, world: World) -> None:
    for fmt in ("jsonl", "json", "csv"):
        _no_foreign_id(world, api.get(f"export/runs?format={fmt}&project=theirs"))
        _no_foreign_id(world, api.get(f"export/runs?format={fmt}"))


def _ids(items: list[dict[str, Any]]) -> list[str]:
    return [item["id"] for item in items]


def _v2_runs_query(api, world: World) -> None:
    mine, theirs = str(world.mine.id), str(world.theirs.id)
    for body in (
        {"project_ids": [theirs]},
        {"project_ids": [mine, theirs], "trace_id": str(world.own.trace_id)},
        {"project_ids": [mine, theirs], "ids": [str(world.foreign.id)]},
    ):
        response = api.post("/api/v2/runs/query", orjson.dumps(body), JSON)
        _no_foreign_id(world, response)
        assert response.json()["items"] == [] or _ids(response.json()["items"]) == [
            str(world.own.id)
        ]
    body = orjson.dumps({"project_ids": [mine, theirs]})
    response = api.post("/api/v2/runs/query", body, JSON)
    assert _ids(response.json()["items"]) == [str(world.own.id)]


def _v2_run(api, world: World) -> None:
    for project in (world.theirs, world.mine):
        path = f"/api/v2/runs/{world.foreign.id}?project_id={project.id}"
        assert api.get(path).status_code == 404
    response = api.get(f"/api/v2/runs/{world.own.id}?project_id={world.mine.id}")
    assert response.json()["id"] == str(world.own.id)
    _no_foreign_id(world, response)


def _v2_run_url(api, world: World) -> None:
    query = f"project_id={world.theirs.id}&trace_id={world.own.trace_id}"
    assert api.get(f"/api/v2/runs/{world.foreign.id}/url?{query}").status_code == 404
    query = f"project_id={world.mine.id}&trace_id={world.own.trace_id}"
    response = api.get(f"/api/v2/runs/{world.own.id}/url?{query}")
    url = f"/traces/{world.own.trace_id}?run={world.own.id}"
    assert response.json()["url"].endswith(url)


def _their_shared_trace(world: World) -> tuple[Run, SharedTrace]:
    root = RunFactory(project=world.theirs, name="their-root")
    return root, sharing.share_trace(root)


def _share_kept(share: SharedTrace) -> None:
    assert SharedTrace.objects.get(token=share.token).trace_id == share.trace_id


def _v2_share_post(api, world: World) -> None:
    body = {"session_id": str(world.theirs.id), "trace_id": str(world.own.trace_id)}
    response = api.post(
        f"/api/v2/runs/{world.foreign.id}/share", orjson.dumps(body), JSON
    )
    assert response.status_code == 404
    assert not SharedTrace.objects.exists()


def _v2_share_delete(api, world: World) -> None:
    root, share = _their_shared_trace(world)
    for project in (world.theirs, world.mine):
        body = orjson.dumps({"session_id": str(project.id)})
        path = f"/api/v2/runs/{root.trace_id}/share"
        assert api.call("delete", path, body).status_code == 204
    _share_kept(share)


def _v1_share(method: str) -> Callable[[Any, World], None]:
    def call(api, world: World) -> None:
        root, share = _their_shared_trace(world)
        for run in (root, world.foreign):
            response = api.call(method, f"runs/{run.id}/share", b"{}")
            assert response.status_code == 404, response.content
            _no_foreign_id(world, response, 404)
        _share_kept(share)
        assert SharedTrace.objects.count() == 1

    return call


def _v2_traces_query(api, world: World) -> None:
    for body in (
        {"project_id": str(world.theirs.id)},
        {"trace_ids": [str(world.own.trace_id)]},
        {},
    ):
        response = api.post("/api/v2/traces/query", orjson.dumps(body), JSON)
        _no_foreign_id(world, response)
    items = response.json()["items"]
    assert [i["root_run"]["id"] for i in items] == [str(world.own.id)]
    assert items[0]["trace_aggregates"]["total_tokens"] == (world.own.total_tokens or 0)


def _v2_trace_runs(api, world: World) -> None:
    path = f"/api/v2/traces/{world.own.trace_id}/runs"
    response = api.get(f"{path}?project_id={world.theirs.id}")
    _no_foreign_id(world, response)
    assert response.json()["items"] == []
    response = api.get(f"{path}?project_id={world.mine.id}")
    _no_foreign_id(world, response)
    assert _ids(response.json()["items"]) == [str(world.own.id)]


def _v2_sessions_list(api, world: World) -> None:
    items = api.get("/api/v2/sessions").json()["items"]
    assert [p["name"] for p in items] == ["mine"]
    for query in (f"id={world.theirs.id}", "name=theirs", "name_contains=the"):
        assert api.get(f"/api/v2/sessions?{query}").json()["items"] == []


def _v2_sessions_create(api, world: World) -> None:
    body = {"name": "theirs", "type": "PROJECT", "description": "taken"}
    response = api.post("/api/v2/sessions?upsert=true", orjson.dumps(body), JSON)
    assert response.status_code == 404
    assert Project.objects.get(id=world.theirs.id).description == ""


def _v2_session(method: str) -> Callable[[Any, World], None]:
    def call(api, world: World) -> None:
        body = orjson.dumps({"name": "taken", "description": "taken"})
        response = api.call(method, f"/api/v2/sessions/{world.theirs.id}", body)
        assert response.status_code == 404
        theirs = Project.objects.get(id=world.theirs.id)
        assert (theirs.name, theirs.description) == ("theirs", "")
        assert api.get(f"/api/v2/sessions/{world.mine.id}").json()["name"] == "mine"

    return call


def _sessions_resolve(api, world: World) -> None:
    Project.objects.filter(id=world.theirs.id).update(
        agent_id="their-bot", agent_environment="production"
    )
    Project.objects.filter(id=world.mine.id).update(
        agent_id="my-bot", agent_environment="production"
    )
    path = "/api/v1/sessions/resolutions?kind=AGENT&environment=production&id="
    assert api.get(f"{path}their-bot").status_code == 404
    response = api.get(f"{path}my-bot")
    assert response.json() == {"session_id": str(world.mine.id)}


def _api_root(api, world: World) -> None:
    _no_foreign_id(world, api.get(""))


def _own_share_token(api, world: World) -> str:
    """The key shares its own trace (the one their run hangs in)."""
    response = api.call("put", f"runs/{world.own.id}/share", b"{}")
    assert response.status_code == 200, response.content
    return response.json()["share_token"]


UNKNOWN = "00000000-0000-4000-8000-000000000000"


def _public_run(api, world: World) -> None:
    token = _own_share_token(api, world)
    response = api.get(f"public/{token}/run")
    assert (response.json()["id"], response.json()["child_run_ids"]) == (
        str(world.own.id),
        [],
    )
    _no_foreign_id(world, response)
    assert api.get(f"public/{UNKNOWN}/run").status_code == 404


def _public_run_child(api, world: World) -> None:
    token = _own_share_token(api, world)
    assert api.get(f"public/{token}/run/{world.foreign.id}").status_code == 404
    assert api.get(f"public/{token}/run/{world.own.id}").status_code == 200
    assert api.get(f"public/{UNKNOWN}/run/{world.own.id}").status_code == 404


def _public_runs_query(api, world: World) -> None:
    token = _own_share_token(api, world)
    for body in ({}, {"id": [str(world.foreign.id)]}):
        response = api.post(f"public/{token}/runs/query", orjson.dumps(body), JSON)
        _no_foreign_id(world, response)
    response = api.post(f"public/{token}/runs/query", b"{}", JSON)
    assert [r["id"] for r in response.json()["runs"]] == [str(world.own.id)]
    assert api.post(f"public/{UNKNOWN}/runs/query", b"{}", JSON).status_code == 404


def _v2_public_run(api, world: World) -> None:
    token = _own_share_token(api, world)
    path = f"/api/v2/public/{token}/run"
    assert api.get(f"{path}/{world.foreign.id}").status_code == 404
    response = api.get(f"{path}/{world.own.id}")
    assert response.json()["id"] == str(world.own.id)
    _no_foreign_id(world, response)
    assert api.get(f"/api/v2/public/{UNKNOWN}/run/{world.own.id}").status_code == 404


def _v2_public_runs_query(api, world: World) -> None:
    token = _own_share_token(api, world)
    response = api.post(f"/api/v2/public/{token}/runs/query", b"{}", JSON)
    _no_foreign_id(world, response)
    assert _ids(response.json()["items"]) == [str(world.own.id)]
    path = f"/api/v2/public/{UNKNOWN}/runs/query"
    assert api.post(path, b"{}", JSON).status_code == 404


def _shared_trace(api, world: World) -> None:
    token = _own_share_token(api, world)
    response = api.get(f"/public/{token}/r")
    _no_foreign_id(world, response)
    assert str(world.own.id).encode() in response.content
    response = api.get(f"/public/{token}/r?run={world.foreign.id}")
    _no_foreign_id(world, response)
    assert api.get(f"/public/{UNKNOWN}/r").status_code == 404


def _shared_run_panel(api, world: World) -> None:
    token = _own_share_token(api, world)
    path = f"/public/{token}/r/runs"
    assert api.get(f"{path}/{world.foreign.id}").status_code == 404
    assert api.get(f"{path}/{world.own.id}").status_code == 200
    assert api.get(f"/public/{UNKNOWN}/r/runs/{world.own.id}").status_code == 404


def _attachment_download(api, world: World) -> None:
    # The signed token is the credential: a forged or unknown one opens nothing.
    for token in ("forged", f"{world.foreign.id}:1:forged", UNKNOWN):
        assert api.get(f"/api/v2/attachments/{token}").status_code == 404


def _example_attachment(api, world: World) -> None:
    for token in ("forged", UNKNOWN):
        assert api.get(f"examples/attachments/{token}").status_code == 404


def _mcp_tool(api, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    message = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": name, "arguments": arguments},
    }
    response = api.client.post(
        "/mcp",
        orjson.dumps(message),
        content_type=JSON,
        HTTP_ACCEPT="application/json, text/event-stream",
        HTTP_MCP_PROTOCOL_VERSION="2025-06-18",
        HTTP_X_API_KEY=api.key,
    )
    assert response.status_code == 200, response.content
    return response.json()["result"]


def _mcp(api, world: World) -> None:
    foreign = str(world.foreign.id)
    for name, arguments in (
        ("get_run", {"run_id": foreign}),
        ("get_trace", {"trace_id": foreign}),
    ):
        result = _mcp_tool(api, name, arguments)
        assert result["isError"] is True, result
        assert result["content"][0]["text"].startswith("No "), result
    for name, arguments in (
        ("search_traces", {}),
        ("search_traces", {"project": "theirs"}),
        ("get_trace", {"trace_id": str(world.own.trace_id)}),
        ("list_projects", {}),
    ):
        result = _mcp_tool(api, name, arguments)
        text = orjson.dumps(result)
        assert foreign.encode() not in text, (name, result)
        assert b"s3cret" not in text, (name, result)
    result = _mcp_tool(api, "get_trace", {"trace_id": str(world.own.trace_id)})
    assert str(world.own.id) in result["content"][0]["text"]
    [trace] = orjson.loads(_mcp_tool(api, "search_traces", {})["content"][0]["text"])[
        "traces"
    ]
    assert (trace["runs"], trace["total_tokens"]) == (1, world.own.total_tokens or 0)


def _threads(world: World) -> None:
    """A thread of theirs (and their run in my trace says it is in it)."""
    RunFactory(
        project=world.theirs,
        name="their-turn",
        extra={"metadata": {"thread_id": "their-thread"}},
    )
    RunFactory(
        project=world.mine, name="my-turn", extra={"metadata": {"thread_id": "mine"}}
    )


def _v2_threads_query(api, world: World) -> None:
    _threads(world)
    body = orjson.dumps({"project_id": str(world.theirs.id)})
    assert api.post("/api/v2/threads/query", body, JSON).status_code == 404
    body = orjson.dumps({"project_id": str(world.mine.id)})
    response = api.post("/api/v2/threads/query", body, JSON)
    _no_foreign_id(world, response)
    assert [t["thread_id"] for t in response.json()["items"]] == ["mine"]


def _v2_threads_stats(api, world: World) -> None:
    _threads(world)
    select = ["THREAD_COUNT", "TRACE_COUNT", "TOTAL_TOKENS", "THREAD_FEEDBACK_STATS"]
    body = {"project_id": str(world.theirs.id), "select": select}
    assert (
        api.post("/api/v2/threads/stats", orjson.dumps(body), JSON).status_code == 404
    )
    body["project_id"] = str(world.mine.id)
    response = api.post("/api/v2/threads/stats", orjson.dumps(body), JSON)
    _no_foreign_id(world, response)
    assert response.json() == {
        "thread_count": 1,
        "trace_count": 1,
        "total_tokens": 0,
        "thread_feedback_stats": {},
    }


def _v2_thread_route(route: str, param: str) -> Callable[[Any, World], None]:
    def call(api, world: World) -> None:
        _threads(world)
        for project in (world.theirs, world.mine):
            path = f"/api/v2/threads/their-thread/{route}?{param}={project.id}"
            response = api.get(path)
            assert response.status_code in (
                (404,) if project == world.theirs else (200, 404)
            ), response.content
            assert b"their-turn" not in response.content
            assert str(world.foreign.id).encode() not in response.content
            if response.status_code == 200:
                assert response.json().get("items", []) == []
        response = api.get(f"/api/v2/threads/mine/{route}?{param}={world.mine.id}")
        assert response.status_code == 200, response.content

    return call


def _dataset_refused(method: str, path: str) -> Callable[[Any, World], None]:
    """Datasets belong to no project: a scoped key may not use them at all."""

    def call(api, world: World) -> None:
        dataset = DatasetFactory(name="shared-set")
        example = ExampleFactory(dataset=dataset, inputs={"q": "kept"})
        url = path.format(dataset=dataset.id, example=example.id)
        body, kind = orjson.dumps({"name": "taken"}), JSON
        if "upload" in path or path.endswith("/examples"):
            body, kind = (
                multipart(part("file", b"q,a\n1,2\n", "text/csv")),
                MULTIPART_TYPE,
            )
        response = api.call(method, url, body, kind)
        assert response.status_code == 403, (url, response.content)
        assert "not scoped" in response.json()["detail"]
        assert Dataset.objects.get(id=dataset.id).name == "shared-set"
        assert list(Example.objects.values_list("inputs", flat=True)) == [{"q": "kept"}]

    return call


DATASET_ROUTES = [
    ("datasets", "get", "datasets"),
    ("datasets", "post", "datasets"),
    ("datasets-upload", "post", "datasets/upload"),
    ("comparative", "post", "datasets/comparative"),
    ("dataset-detail", "get", "datasets/{dataset}"),
    ("dataset-detail", "patch", "datasets/{dataset}"),
    ("dataset-detail", "delete", "datasets/{dataset}"),
    ("dataset-versions", "get", "datasets/{dataset}/versions"),
    ("dataset-version", "get", "datasets/{dataset}/version"),
    ("dataset-diff", "get", "datasets/{dataset}/versions/diff"),
    ("dataset-tags", "put", "datasets/{dataset}/tags"),
    ("dataset-splits", "get", "datasets/{dataset}/splits"),
    ("dataset-splits", "put", "datasets/{dataset}/splits"),
    ("dataset-jsonl", "get", "datasets/{dataset}/jsonl"),
    ("dataset-csv", "get", "datasets/{dataset}/csv"),
    ("experiment-runs", "post", "datasets/{dataset}/runs"),
    ("examples", "get", "examples?dataset={dataset}"),
    ("examples", "post", "examples"),
    ("examples", "delete", "examples?example_ids={example}"),
    ("examples-bulk", "post", "examples/bulk"),
    ("examples-bulk", "patch", "examples/bulk"),
    ("example-detail", "get", "examples/{example}"),
    ("example-detail", "patch", "examples/{example}"),
    ("example-detail", "delete", "examples/{example}"),
    ("dataset-examples-multipart", "post", "platform/datasets/{dataset}/examples"),
    ("dataset-examples-multipart", "patch", "platform/datasets/{dataset}/examples"),
    (
        "dataset-examples-metadata",
        "patch",
        "platform/datasets/{dataset}/examples/metadata",
    ),
]


@dataclass
class Rules:
    mine: Any
    theirs: Any


def _rules(world: World) -> Rules:
    mine = AlertRuleFactory(project=world.mine, name="my-rule")
    theirs = AlertRuleFactory(project=world.theirs, name="their-rule", threshold=0.5)
    AlertDelivery.objects.create(
        rule=theirs, event="fired", url=theirs.webhook_url, payload={"value": 0.9}
    )
    return Rules(mine, theirs)


def _their_rule_kept(rules: Rules) -> None:
    rule = AlertRule.objects.get(pk=rules.theirs.pk)
    assert (rule.name, rule.project_id, rule.threshold) == (
        "their-rule",
        rules.theirs.project_id,
        0.5,
    )
    assert rule.deliveries.count() == 1


def _alerts_list(api, world: World) -> None:
    _rules(world)
    assert [r["name"] for r in api.get("alerts").json()] == ["my-rule"]


def _alerts_create(api, world: World) -> None:
    rules = _rules(world)
    body = {
        "name": "sneaky",
        "project": "theirs",
        "metric": "error_rate",
        "comparison": "gt",
        "threshold": 0.1,
        "window_minutes": 60,
        "webhook_url": rules.theirs.webhook_url,
    }
    response = api.post("alerts", orjson.dumps(body), JSON)
    assert response.status_code == 403, response.content
    assert "may only manage alerts of project 'mine'" in str(response.json())
    assert not AlertRule.objects.filter(name="sneaky").exists()
    _their_rule_kept(rules)


def _alert(method: str) -> Callable[[Any, World], None]:
    def call(api, world: World) -> None:
        rules = _rules(world)
        body = orjson.dumps({"name": "taken", "threshold": 0.9, "project": "mine"})
        response = api.call(method, f"alerts/{rules.theirs.pk}", body)
        assert response.status_code == 404, response.content
        assert b"their-rule" not in response.content
        _their_rule_kept(rules)
        assert api.get(f"alerts/{rules.mine.pk}").json()["name"] == "my-rule"

    return call


def _alert_deliveries(api, world: World) -> None:
    rules = _rules(world)
    assert api.get(f"alerts/{rules.theirs.pk}/deliveries").status_code == 404
    assert api.get(f"alerts/{rules.mine.pk}/deliveries").json() == []


CASES = [
    Case("runs-batch", "post", _batch),
    Case("runs-multipart", "post", _multipart),
    Case("runs-create", "post", _single_post),
    Case("run-detail", "get", _run_read),
    Case("run-detail", "patch", _run_patch),
    Case("runs-query", "post", _runs_query),
    Case("otel-traces", "post", _otlp("otel/v1/traces")),
    Case("otlp-traces", "post", _otlp("/v1/traces")),
    Case("dashboard-roots", "get", _roots),
    Case("dashboard-hierarchy", "get", _hierarchy),
    Case("dashboard-run-io", "get", _run_io),
    Case("dashboard-stats", "get", _stats),
    Case("dashboard-stats-cost", "get", _stats_cost),
    Case("dashboard-projects", "get", _projects),
    Case("sessions", "get", _sessions_list),
    Case("sessions", "post", _sessions_create),
    *(
        Case("session-detail", m, _session_detail(m), id=f"session-detail-{m}")
        for m in ("get", "patch", "delete")
    ),
    Case("feedback", "get", _feedback_list),
    Case("feedback", "post", _feedback_create),
    *(
        Case("feedback-detail", m, _feedback_detail(m), id=f"feedback-detail-{m}")
        for m in ("get", "patch", "delete")
    ),
    Case("export-runs", "get", _export),
    Case("api-root", "get", _api_root),
    Case("v2-runs-query", "post", _v2_runs_query),
    Case("v2-run", "get", _v2_run),
    Case("v2-run-url", "get", _v2_run_url),
    Case("v2-run-share", "post", _v2_share_post),
    Case("v2-run-share", "delete", _v2_share_delete),
    *(
        Case("run-share", m, _v1_share(m), id=f"run-share-{m}")
        for m in ("get", "put", "delete")
    ),
    Case("v2-traces-query", "post", _v2_traces_query),
    Case("v2-trace-runs", "get", _v2_trace_runs),
    Case("v2-sessions", "get", _v2_sessions_list),
    Case("v2-sessions", "post", _v2_sessions_create),
    *(
        Case("v2-session", m, _v2_session(m), id=f"v2-session-{m}")
        for m in ("get", "patch")
    ),
    Case("sessions-resolve", "get", _sessions_resolve),
    Case("public-run", "get", _public_run),
    Case("public-run-child", "get", _public_run_child),
    Case("public-runs-query", "post", _public_runs_query),
    Case("v2-public-run", "get", _v2_public_run),
    Case("v2-public-runs-query", "post", _v2_public_runs_query),
    Case("shared-trace", "get", _shared_trace),
    Case("shared-run-panel", "get", _shared_run_panel),
    Case("attachment-download", "get", _attachment_download),
    Case("example-attachment", "get", _example_attachment),
    Case("mcp", "post", _mcp),
    Case("v2-threads-query", "post", _v2_threads_query),
    Case("v2-threads-stats", "post", _v2_threads_stats),
    Case("v2-thread-traces", "get", _v2_thread_route("traces", "project_id")),
    Case(
        "v2-thread-stats",
        "get",
        _v2_thread_route("stats", "selects=TURNS&session_id"),
    ),
    *(
        Case(name, m, _dataset_refused(m, path), id=f"{name}-{m}")
        for name, m, path in DATASET_ROUTES
    ),
    Case("alerts", "get", _alerts_list),
    Case("alerts", "post", _alerts_create),
    *(
        Case("alert", m, _alert(m), id=f"alert-{m}")
        for m in ("get", "patch", "put", "delete")
    ),
    Case("alert-deliveries", "get", _alert_deliveries),
]


class Api:
    """The test client with the scoped key, paths relative to API_PREFIX."""

    def __init__(self, client, prefix: str, key: str) -> None:
        self.client, self.prefix, self.key = client, prefix, key

    def _url(self, path: str) -> str:
        return path if path.startswith("/") else f"{self.prefix}/{path}"

    def call(self, method: str, path: str, body: bytes = b"", content_type=None):
        if method == "get":
            return self.get(path)
        return getattr(self.client, method)(
            self._url(path),
            body,
            content_type=content_type or "application/json",
            HTTP_X_API_KEY=self.key,
        )

    def get(self, path: str):
        return self.client.get(self._url(path), HTTP_X_API_KEY=self.key)

    def post(self, path: str, body: bytes, content_type: str):
        return self.call("post", path, body, content_type)

    def patch(self, path: str, body: bytes):
        return self.call("patch", path, body)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id or f"{c.name}-{c.method}")
def test_a_scoped_key_neither_sees_nor_changes_another_project(
    case, world, client, api_prefix
):
    case.call(Api(client, api_prefix, world.key), world)


def _routes(resolver: URLResolver | None = None, prefix: str = "") -> list:
    """(name, view) of every route, admin's as one."""
    found = []
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            if entry.app_name == "admin":
                found.append(("admin", None))
                continue
            space = f"{entry.namespace}:" if entry.namespace else prefix
            found.extend(_routes(entry, space))
        elif isinstance(entry, URLPattern):
            found.append((f"{prefix}{entry.name}", entry.callback))
    return found


def _methods(callback: Any) -> set[str]:
    view = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
    if view is None:
        return {"get"}
    return {
        m
        for m in view.http_method_names
        if m not in ("options", "head") and hasattr(view, m)
    }


def test_every_route_has_an_isolation_case():
    covered = {(case.name, case.method) for case in CASES}
    missing = [
        f"{name} {method.upper()}"
        for name, callback in _routes()
        if name not in NOT_KEY_ROUTES
        for method in sorted(_methods(callback))
        if (name, method) not in covered
        and f"{name} {method.upper()}" not in NOT_KEY_ROUTES
    ]
    assert missing == [], (
        "Routes without a project-isolation case: add a Case to CASES in "
        "tests/test_access_table.py (reads of another project: 404 or absent; "
        "writes: a per-item 403) or, if an API key cannot reach it, a line in "
        f"NOT_KEY_ROUTES saying why: {missing}"
    )


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/traces",
        "/projects",
        "/admin/runs/run/",
        "/threads",
        "/threads/their-thread",
        "/users",
        "/users/someone",
        "/datasets",
        f"/datasets/{UNKNOWN}",
        f"/datasets/{UNKNOWN}/compare",
        "/alerts",
        "/views/1",
        f"/o/default/projects/p/{UNKNOWN}",
        f"/o/default/projects/p/{UNKNOWN}/r/{UNKNOWN}",
    ],
)
def test_an_api_key_does_not_open_the_pages(path, world, client):
    response = client.get(path, HTTP_X_API_KEY=world.key)
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_an_api_key_does_not_post_the_page_forms(world, client):
    trace = world.own.trace_id
    queue = Queue.objects.create(name="team queue")
    view = SavedView.objects.create(name="team view", query="project=mine")
    for path in (
        "/feedback",
        f"/feedback/{world.their_feedback.id}/edit",
        f"/feedback/{world.their_feedback.id}/delete",
        f"/traces/{trace}/share",
        f"/traces/{trace}/unshare",
        f"/traces/{trace}/runs/{world.foreign.id}/add-to-dataset",
        f"/queues/{queue.pk}/rename",
        f"/queues/{queue.pk}/delete",
        "/views",
        f"/views/{view.pk}/delete",
    ):
        data = {"run_id": str(world.foreign.id), "key": "k", "score": "1"}
        response = client.post(path, data, HTTP_X_API_KEY=world.key)
        assert response.status_code == 302, path
        assert "login" in response["Location"], path
    assert not SharedTrace.objects.exists()
    assert not Dataset.objects.exists()
    assert not Feedback.objects.filter(key="k").exists()
    assert list(Queue.objects.values_list("name", flat=True)) == ["team queue"]
    assert list(SavedView.objects.values_list("name", flat=True)) == ["team view"]
    _untouched(world)


def test_an_api_key_does_not_open_a_trace_page(world, client):
    for path in (
        f"/traces/{world.own.trace_id}",
        f"/traces/{world.own.trace_id}/runs/{world.foreign.id}",
        f"/traces/{world.own.trace_id}/runs/{world.foreign.id}.json",
    ):
        response = client.get(path, HTTP_X_API_KEY=world.key)
        assert response.status_code == 302, path
