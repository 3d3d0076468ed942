import uuid

import orjson
import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from agentspy import metrics
from runs.apikeys import create_api_key

pytestmark = pytest.mark.django_db


def sample(name, **labels):
    return REGISTRY.get_sample_value(name, labels) or 0.0


def post_runs(client, api_prefix, n, project="metrics-demo"):
    runs = [
        {
            "id": str(uuid.uuid4()),
            "name": "r",
            "start_time": "2026-11-25T12:00:00Z",
            "session_name": project,
        }
        for _ in range(n)
    ]
    return client.post(
        f"{api_prefix}/runs/batch",
        data=orjson.dumps({"post": runs}),
        content_type="application/json",
    )


def scrape(client, **headers):
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    families = text_string_to_metric_families(response.content.decode())
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in families
        for s in family.samples
    }


def test_requests_are_counted_by_route_name_not_path(client, api_prefix):
    before = sample(
        "agentspy_http_requests_total", route="run-detail", method="GET", status="404"
    )
    client.get(f"{api_prefix}/runs/{uuid.uuid4()}")
    client.get(f"{api_prefix}/runs/{uuid.uuid4()}")
    after = sample(
        "agentspy_http_requests_total", route="run-detail", method="GET", status="404"
    )
    assert after - before == 2
    count = sample(
        "agentspy_http_request_duration_seconds_count", route="run-detail", method="GET"
    )
    assert count >= 2


def test_ingested_runs_and_batch_sizes_are_counted_by_project(client, api_prefix):
    ingested = sample("agentspy_runs_ingested_total", project="metrics-demo")
    batches = sample("agentspy_ingest_batch_size_count")
    small = sample("agentspy_ingest_batch_size_bucket", le="5.0")
    assert post_runs(client, api_prefix, 7).status_code == 202
    assert post_runs(client, api_prefix, 2).status_code == 202
    assert sample("agentspy_runs_ingested_total", project="metrics-demo") == (
        ingested + 9
    )
    assert sample("agentspy_ingest_batch_size_count") == batches + 2
    assert sample("agentspy_ingest_batch_size_bucket", le="5.0") == small + 1


def test_rejected_runs_are_counted(client, api_prefix):
    before = sample("agentspy_runs_rejected_total", project="")
    body = orjson.dumps({"post": [{"id": "nope"}, {"id": "nope2"}]})
    client.post(f"{api_prefix}/runs/batch", data=body, content_type="application/json")
    assert sample("agentspy_runs_rejected_total", project="") == before + 2


def test_a_request_over_several_projects_is_labelled_as_such():
    class Result:
        accepted = [1, 2, 3]
        rejected = []
        projects = {"a", "b"}

    before = sample("agentspy_runs_ingested_total", project=metrics.MIXED_PROJECTS)
    metrics.observe_ingest(Result())
    after = sample("agentspy_runs_ingested_total", project=metrics.MIXED_PROJECTS)
    assert after == before + 3


def test_metrics_endpoint_serves_prometheus_text_with_database_size(client, api_prefix):
    post_runs(client, api_prefix, 1)
    samples = scrape(client)
    size, how = metrics.database_size_bytes()
    vendor = "sqlite" if how == "sqlite_pages" else "postgresql"
    assert samples[("agentspy_database_size_bytes", (("vendor", vendor),))] > 0
    assert size > 0
    assert (
        samples[("agentspy_runs_ingested_total", (("project", "metrics-demo"),))] >= 1
    )
    assert any(name == "agentspy_http_requests_total" for name, _ in samples)


def test_metrics_need_a_key_when_auth_is_on(client, settings):
    settings.REQUIRE_AUTH = True
    settings.API_KEYS = ["env-key"]
    response = client.get("/metrics")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert client.get("/metrics", headers={"x-api-key": "bad"}).status_code == 401
    assert client.get("/metrics", headers={"x-api-key": "env-key"}).status_code == 200
    stored = create_api_key(name="prom", read_only=True)
    assert client.get("/metrics", headers={"x-api-key": stored.key}).status_code == 200


def test_project_scoped_key_cannot_read_metrics(client, settings):
    settings.REQUIRE_AUTH = True
    scoped = create_api_key(name="a", project="team-a")
    assert client.get("/metrics", headers={"x-api-key": scoped.key}).status_code == 403
