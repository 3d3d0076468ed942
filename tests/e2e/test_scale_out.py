"""Scale-out: stateless app processes sharing one PostgreSQL database.

Two gunicorn servers on different ports point at the same test database;
several clients ingest into both at once, creating a run on one server and
finishing it on the other. Every acknowledged run must be stored exactly once,
with its end.
"""

from __future__ import annotations

import contextlib
import threading
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from django.db import connection

from runs.models import Run
from tests.live import ServerProcess

pytestmark = pytest.mark.e2e

CLIENTS = 6
BATCHES_PER_CLIENT = 15
RUNS_PER_BATCH = 20


def send(url: str, body: dict) -> int:
    request = urllib.request.Request(
        f"{url}/api/v1/runs/batch",
        data=orjson.dumps(body),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.status


def client(index: int, urls: list[str], acked: list[str], finished: list[str]) -> None:
    start = datetime(2026, 11, 25, 12, tzinfo=UTC)
    for batch in range(BATCHES_PER_CLIENT):
        ids = [str(uuid.uuid4()) for _ in range(RUNS_PER_BATCH)]
        posts = [
            {
                "id": run_id,
                "name": f"client-{index}",
                "start_time": start.isoformat(),
                "inputs": {"batch": batch},
                "session_name": f"scale-{index % 2}",
            }
            for run_id in ids
        ]
        # The create goes to one server, the end to the other.
        first, second = urls[batch % 2], urls[(batch + 1) % 2]
        if send(first, {"post": posts}) == 202:
            acked.extend(ids)
        end = (start + timedelta(seconds=1)).isoformat()
        patches = [{"id": run_id, "end_time": end} for run_id in ids]
        if send(second, {"patch": patches}) == 202:
            finished.extend(ids)


def test_two_servers_on_one_database_store_every_acknowledged_run_once(
    transactional_db,
):
    if connection.vendor != "postgresql":
        pytest.skip("scale-out shares one PostgreSQL database; SQLite is one file")
    env = {"API_PREFIX": "/api/v1", "DATABASE_POOL_SIZE": "4"}
    with contextlib.ExitStack() as stack:
        # Generous start-up timeouts: CI machines are busy.
        one = ServerProcess(env=env)
        stack.callback(one.stop)
        one.start(timeout=120)
        two = ServerProcess(env=env)
        stack.callback(two.stop)
        two.start(timeout=120)
        acked: list[str] = []
        finished: list[str] = []
        threads = [
            threading.Thread(
                target=client, args=(i, [one.url, two.url], acked, finished)
            )
            for i in range(CLIENTS)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
    expected = CLIENTS * BATCHES_PER_CLIENT * RUNS_PER_BATCH
    assert len(acked) == len(set(acked)) == expected
    assert len(finished) == expected
    assert Run.objects.count() == expected
    stored = set(map(str, Run.objects.values_list("id", flat=True)))
    assert stored == set(acked)
    assert Run.objects.filter(status="success", end_time__isnull=False).count() == (
        expected
    )
    assert sorted(Run.objects.values_list("project__name", flat=True).distinct()) == [
        "scale-0",
        "scale-1",
    ]
