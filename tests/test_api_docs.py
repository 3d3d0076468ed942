"""OpenAPI schema, Swagger UI, ReDoc, and the browsable API on read routes."""

import re

import pytest
import yaml

from tests.factories import FeedbackFactory, RunFactory

pytestmark = pytest.mark.django_db


def test_schema_describes_every_api_route(client, api_prefix):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    paths = set(schema["paths"])
    for path in [
        "info",
        "runs/batch",
        "runs/multipart",
        "runs",
        "runs/{run_id}",
        "runs/query",
        "sessions",
        "sessions/{id}",
        "feedback",
        "feedback/{id}",
        "export/runs",
        "dashboard/runs/roots",
        "dashboard/runs/{run_id}/hierarchy",
        "dashboard/runs/{run_id}/io",
        "dashboard/stats/summary",
        "dashboard/projects",
    ]:
        assert f"{api_prefix}/{path}" in paths, path
    roots = schema["paths"][f"{api_prefix}/dashboard/runs/roots"]["get"]
    names = {p["name"] for p in roots["parameters"]}
    assert {"project", "status", "search", "since", "ordering", "limit"} <= names
    batch = schema["paths"][f"{api_prefix}/runs/batch"]["post"]
    assert "application/json" in batch["requestBody"]["content"]


def test_swagger_ui_and_redoc_pages(client):
    assert client.get("/docs").status_code == 200
    assert client.get("/redoc").status_code == 200


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_docs_pages_load_their_assets_from_this_server(client, path):
    response = client.get(path)
    html = response.content.decode()
    assert "cdn.jsdelivr.net" not in html
    assert "https://" not in html
    assert "https://" not in response["Content-Security-Policy"]
    assets = re.findall(
        r'"(/static/drf_spectacular_sidecar/[^"]+|/redoc-dist/[^"]+)"', html
    )
    assert assets
    assert {client.get(asset).status_code for asset in assets} == {200}


@pytest.mark.parametrize(
    "path",
    [
        "dashboard/runs/roots",
        "dashboard/runs/{run}/hierarchy",
        "dashboard/runs/{run}/io",
        "dashboard/stats/summary",
        "dashboard/projects",
        "sessions",
        "sessions/{project}",
        "feedback",
        "feedback/{feedback}",
    ],
)
def test_browsable_api_renders_every_read_route(client, api_prefix, path):
    run = RunFactory(name="browsable")
    feedback = FeedbackFactory(run_id=run.id)
    url = path.format(run=run.id, project=run.project_id, feedback=feedback.id)
    response = client.get(f"{api_prefix}/{url}", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert b"Agent Spy" in response.content or b"Django REST framework" in (
        response.content
    )


@pytest.mark.parametrize("route", ["runs/batch", "runs/multipart", "runs"])
def test_get_on_an_ingest_route_describes_it(client, api_prefix, route):
    body = client.get(f"{api_prefix}/{route}").json()
    assert body["methods"] == ["POST"]
    assert body["route"] == f"{api_prefix}/{route}"
    assert (
        body["send_traces_with"] == f"LANGCHAIN_ENDPOINT=http://testserver{api_prefix}"
    )
    page = client.get(f"{api_prefix}/{route}", HTTP_ACCEPT="text/html")
    assert page.status_code == 200
    assert b"POST" in page.content
