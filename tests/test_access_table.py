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

from runs.apikeys import create_api_key
from runs.models import Attachment, Feedback, Project, Run
from tests.e2e.wire import MULTIPART_TYPE, multipart, part
from tests.factories import FeedbackFactory, ProjectFactory, RunFactory

pytestmark = pytest.mark.django_db

# Routes an API key does not open: pages need a Django login when
# REQUIRE_AUTH is on (checked below), and the rest carry no project data.
NOT_KEY_ROUTES = {
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
        project=theirs, parent=own, name="foreign", outputs={"secret": "s3cret"}
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


def _hierarchy(api, world: World) -> None:
    assert api.get(f"dashboard/runs/{world.foreign.id}/hierarchy").status_code == 404
    _no_foreign_id(world, api.get(f"dashboard/runs/{world.own.id}/hierarchy"))


def _run_io(api, world: World) -> None:
    assert api.get(f"dashboard/runs/{world.foreign.id}/io").status_code == 404


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
    ],
)
def test_an_api_key_does_not_open_the_pages(path, world, client):
    response = client.get(path, HTTP_X_API_KEY=world.key)
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_an_api_key_does_not_open_a_trace_page(world, client):
    for path in (
        f"/traces/{world.own.trace_id}",
        f"/traces/{world.own.trace_id}/runs/{world.foreign.id}",
        f"/traces/{world.own.trace_id}/runs/{world.foreign.id}.json",
    ):
        response = client.get(path, HTTP_X_API_KEY=world.key)
        assert response.status_code == 302, path
