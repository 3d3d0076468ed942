"""Several clients post creates and patches of the same runs at once.

The real server (gunicorn, 2 worker processes with threads) on the test
database: every run it acknowledges must be stored whole, with no 5xx and no
"database is locked" on either database.
"""

import random
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from runs.models import Run
from tests.e2e.wire import MULTIPART_TYPE, multipart, part, zstd_stream

pytestmark = [pytest.mark.e2e]

T0 = datetime(2026, 11, 25, 13, 0, tzinfo=UTC)


def _tree(trace_index: int, size: int) -> list[dict]:
    """A root and its children, each with its create and its patch."""
    root = uuid.uuid4()
    start = T0 + timedelta(seconds=trace_index)
    root_dotted = start.strftime("%Y%m%dT%H%M%S%fZ") + str(root)
    runs = []
    for index in range(size):
        run_id = root if index == 0 else uuid.uuid4()
        run_start = start + timedelta(milliseconds=index)
        dotted = (
            root_dotted
            if index == 0
            else f"{root_dotted}.{run_start.strftime('%Y%m%dT%H%M%S%fZ')}{run_id}"
        )
        create = {
            "id": str(run_id),
            "trace_id": str(root),
            "dotted_order": dotted,
            "parent_run_id": None if index == 0 else str(root),
            "name": f"step-{index}",
            "run_type": "llm" if index % 2 else "chain",
            "start_time": run_start.isoformat(),
            "session_name": "concurrency",
            "inputs": {"question": f"q{trace_index}-{index}", "pad": "x" * 500},
            "outputs": {},
            "events": [{"name": "start", "time": run_start.isoformat()}],
        }
        patch = {
            "id": str(run_id),
            "trace_id": str(root),
            "dotted_order": dotted,
            "parent_run_id": create["parent_run_id"],
            "name": None,
            "run_type": None,
            "session_name": None,
            "end_time": (run_start + timedelta(seconds=1)).isoformat(),
            "outputs": {"answer": f"a{trace_index}-{index}"},
            "events": [
                {"name": "start", "time": run_start.isoformat()},
                {"name": "end", "time": (run_start + timedelta(seconds=1)).isoformat()},
            ],
        }
        runs.append((run_id, create, patch))
    return runs


def _send(client: httpx.Client, url: str, ops: list[tuple[str, dict]], mode: str):
    if mode == "batch":
        body = {"post": [], "patch": []}
        for kind, raw in ops:
            body[kind].append(raw)
        return client.post(f"{url}/runs/batch", json=body)
    body = multipart(*(part(f"{kind}.{raw['id']}", raw) for kind, raw in ops))
    headers = {"Content-Type": MULTIPART_TYPE}
    if mode == "zstd":
        body = zstd_stream(body)
        headers["Content-Encoding"] = "zstd"
    return client.post(f"{url}/runs/multipart", content=body, headers=headers)


def test_concurrent_creates_and_patches_of_the_same_runs_are_all_stored(
    live_server_process, transactional_db, api_prefix
):
    url = live_server_process.url + api_prefix
    rng = random.Random(20261125)
    runs = [run for t in range(12) for run in _tree(t, 10)]
    # Every run's create and patch go out in different requests, in random
    # order, and a third of the creates are replayed; requests carry 1-15 ops.
    ops = [("post", create) for _, create, _ in runs]
    ops += [("patch", patch) for _, _, patch in runs]
    ops += [("post", create) for _, create, _ in rng.sample(runs, len(runs) // 3)]
    rng.shuffle(ops)
    requests = []
    while ops:
        take = rng.randint(1, 15)
        chunk, ops = ops[:take], ops[take:]
        requests.append((chunk, rng.choice(["batch", "multipart", "zstd"])))

    acknowledged: set[str] = set()
    failures: list[str] = []
    lock = threading.Lock()

    def worker(job):
        chunk, mode = job
        with httpx.Client(timeout=60) as client:
            response = _send(client, url, chunk, mode)
        with lock:
            if response.status_code == 202:
                acknowledged.update(f"{kind}:{raw['id']}" for kind, raw in chunk)
            else:
                failures.append(f"{response.status_code} {response.text[:200]}")

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(worker, requests))

    assert failures == []
    stored = {run.id: run for run in Run.objects.all()}
    assert len(stored) == len(runs)
    for run_id, create, patch in runs:
        assert f"post:{run_id}" in acknowledged and f"patch:{run_id}" in acknowledged
        run = stored[run_id]
        assert run.name == create["name"]
        assert run.run_type == create["run_type"]
        assert run.inputs == create["inputs"]
        assert run.outputs == patch["outputs"]
        assert run.events == patch["events"]
        assert run.status == "success"
        assert run.end_time.isoformat() == patch["end_time"]
        assert str(run.trace_id) == create["trace_id"]
        assert run.dotted_order == create["dotted_order"]
        assert run.project.name == "concurrency"
    log = live_server_process.log_path.read_text(errors="replace")
    assert "database is locked" not in log
    assert "Traceback" not in log
