"""The API's front door, its browsable pages under the CSP, and its documents."""

import json

import pytest
import yaml

from runs.api.examples import examples
from tests.factories import FeedbackFactory, ProjectFactory, RunFactory

pytestmark = pytest.mark.django_db


def test_the_api_root_names_every_resource_in_json(client, api_prefix, settings):
    settings.REQUIRE_AUTH = True  # a list of routes, open like /info
    response = client.get(f"{api_prefix}/")
    assert response.status_code == 200
    body = response.json()
    assert list(body) == [
        "info",
        "sessions",
        "runs",
        "feedback",
        "dashboard",
        "export",
        "otel",
        "datasets",
        "examples",
        "alerts",
        "v2",
        "docs",
    ]
    base = f"http://testserver{api_prefix}"
    assert body["sessions"] == {
        "list": f"{base}/sessions",
        "detail": f"{base}/sessions/{{id}}",
    }
    assert body["runs"]["query"] == f"{base}/runs/query"
    assert body["dashboard"]["roots"] == f"{base}/dashboard/runs/roots"
    assert body["docs"]["redoc"] == "http://testserver/redoc"
    for links in body.values():
        for url in links.values():
            if "{id}" not in url:
                path = url.removeprefix("http://testserver")
                assert client.get(path).status_code != 404, url


def test_the_api_root_is_browsable(client, api_prefix):
    page = client.get(f"{api_prefix}/", HTTP_ACCEPT="text/html").content.decode()
    assert "<title>Api Root – Agent Spy API</title>" in page
    assert f"http://testserver{api_prefix}/sessions" in page


def test_the_browsable_api_is_indented_and_has_no_inline_style(client, api_prefix):
    RunFactory(name="browsable")
    page = client.get(
        f"{api_prefix}/dashboard/runs/roots", HTTP_ACCEPT="text/html"
    ).content.decode()
    assert "<style" not in page
    assert " style=" not in page
    assert "\n  &quot;runs&quot;: [\n    {\n" in page
    # JSON clients still get the compact form.
    raw = client.get(f"{api_prefix}/dashboard/runs/roots").content
    assert b"\n" not in raw


def test_redoc_loads_nothing_from_another_origin(client):
    page = client.get("/redoc").content.decode()
    assert "fonts.googleapis.com" not in page
    bundle = client.get("/redoc-dist/bundles/redoc.standalone.js")
    body = b"".join(bundle.streaming_content) if bundle.streaming else bundle.content
    assert b"cdn.redoc.ly/redoc/logo-mini.svg" not in body
    assert b"/static/agentspy/favicon.svg" in body


def test_swagger_tags_routes_by_resource(client, api_prefix):
    schema = yaml.safe_load(client.get("/api/schema/").content)
    tags = {
        path: sorted({t for op in ops.values() for t in op.get("tags", [])})
        for path, ops in schema["paths"].items()
    }
    assert {t for found in tags.values() for t in found} == {
        "alerts",
        "dashboard",
        "datasets",
        "examples",
        "export",
        "feedback",
        "info",
        "otel",
        "public",
        "runs",
        "sessions",
        "v2",
    }
    assert tags[f"{api_prefix}/runs/query"] == ["runs"]
    assert tags["/api/v2/runs/query"] == ["v2"]
    assert tags[f"{api_prefix}/platform/datasets/{{id}}/examples"] == ["datasets"]
    assert tags["/v1/traces"] == ["otel"]


# Run content and distributions: keys of their own, not the API's.
FREE_FORM = {
    "inputs",
    "outputs",
    "extra",
    "events",
    "serialized",
    "value",
    "correction",
    "feedback_source",
    "status_distribution",
    "run_type_distribution",
    "batch_ingest_config",
    "instance_flags",
}


def _keys(value):
    """The key structure of a JSON value (first item of each list)."""
    if isinstance(value, dict):
        return {k: None if k in FREE_FORM else _keys(v) for k, v in value.items()}
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return [_keys(value[0])]
    return None


def test_every_response_example_has_the_keys_of_a_real_response(client, api_prefix):
    project = ProjectFactory(name="my-project")
    root = RunFactory(name="weather-agent", project=project, tags=["prod"])
    child = RunFactory(parent=root, project=project, run_type="llm")
    feedback = FeedbackFactory(run_id=root.id, trace_id=root.trace_id)
    real = {
        "info_retrieve": client.get(f"{api_prefix}/info"),
        "runs_retrieve": client.get(f"{api_prefix}/runs/{root.id}"),
        "runs_query_create": client.post(
            f"{api_prefix}/runs/query",
            json.dumps({"id": [str(root.id)]}),
            content_type="application/json",
        ),
        "runs_batch_create": client.post(
            f"{api_prefix}/runs/batch",
            json.dumps({"post": [], "patch": []}),
            content_type="application/json",
        ),
        "sessions_list": client.get(f"{api_prefix}/sessions"),
        "sessions_retrieve": client.get(f"{api_prefix}/sessions/{project.id}"),
        "feedback_retrieve": client.get(f"{api_prefix}/feedback/{feedback.id}"),
        "feedback_list": client.get(f"{api_prefix}/feedback"),
        "dashboard_runs_roots_retrieve": client.get(
            f"{api_prefix}/dashboard/runs/roots"
        ),
        "dashboard_runs_hierarchy_retrieve": client.get(
            f"{api_prefix}/dashboard/runs/{child.id}/hierarchy?light=true"
        ),
        "dashboard_stats_summary_retrieve": client.get(
            f"{api_prefix}/dashboard/stats/summary"
        ),
        "dashboard_projects_retrieve": client.get(f"{api_prefix}/dashboard/projects"),
    }
    by_operation = {op: example for (op, _), example in examples().items()}
    for operation, response in real.items():
        assert response.status_code in (200, 202), operation
        assert _keys(by_operation[operation]) == _keys(response.json()), operation
    schema = yaml.safe_load(client.get("/api/schema/").content)
    sessions = schema["paths"][f"{api_prefix}/sessions"]["get"]
    example = sessions["responses"]["200"]["content"]["application/json"]["example"]
    assert example[0]["name"] == "my-project"
