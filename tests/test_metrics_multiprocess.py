import urllib.request
import uuid

import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.live import ServerProcess

pytestmark = pytest.mark.e2e


def post(url, project):
    body = orjson.dumps(
        {
            "post": [
                {
                    "id": str(uuid.uuid4()),
                    "name": "r",
                    "start_time": "2026-11-25T12:00:00Z",
                    "session_name": project,
                }
            ]
        }
    )
    request = urllib.request.Request(
        f"{url}/api/v1/runs/batch",
        data=body,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 202


def test_gunicorn_workers_share_counters_through_the_multiprocess_dir(
    tmp_path, transactional_db
):
    """Two workers each count their own requests; one scrape sums them."""
    env = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "API_PREFIX": "/api/v1"}
    # A generous start-up timeout: CI machines are busy.
    server = ServerProcess(env=env).start(timeout=120)
    try:
        for _ in range(20):
            post(server.url, "mp-demo")
        with urllib.request.urlopen(f"{server.url}/metrics", timeout=30) as response:
            text = response.read().decode()
    finally:
        server.stop()
    values = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    assert values[("agentspy_runs_ingested_total", (("project", "mp-demo"),))] == 20
    assert (
        values[
            (
                "agentspy_http_requests_total",
                (("method", "POST"), ("route", "runs-batch"), ("status", "202")),
            )
        ]
        == 20
    )
    # Values live in per-process files there, not in one process's memory.
    assert len(list(tmp_path.glob("counter_*.db"))) >= 1
    assert any(name == "agentspy_database_size_bytes" for name, _ in values)
