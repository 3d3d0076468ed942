import urllib.request

import orjson
import pytest

from runs.models import Run

pytestmark = pytest.mark.e2e


def test_live_server_stores_a_batch_in_the_test_database(live_url, api_prefix):
    body = orjson.dumps(
        {
            "post": [
                {
                    "id": "5f1c2f0e-3b7e-4d0e-9a59-7d3f7d0c2a11",
                    "name": "hello",
                    "run_type": "chain",
                    "start_time": "2026-11-25T12:00:00Z",
                    "end_time": "2026-11-25T12:00:01Z",
                    "inputs": {"q": "hi"},
                    "outputs": {"a": "hello"},
                    "session_name": "demo",
                }
            ]
        }
    )
    request = urllib.request.Request(
        f"{live_url}{api_prefix}/runs/batch",
        data=body,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:
        assert response.status == 202
    run = Run.objects.get()
    assert (run.name, run.status, run.project.name) == ("hello", "success", "demo")
