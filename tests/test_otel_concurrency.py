"""Spans of one trace exported by several processes at once (a distributed
trace) still give every run its full dotted order.

A parent's arrival rewrites its stored descendants' dotted orders from the
stored tree; two requests of one trace must not both read it before either
writes. The real server (2 worker processes with threads) on the test database.
"""

import random
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from runs.ingest.normalize import segment
from runs.models import Run
from tests.test_otel_api import PROTOBUF, T0, export, pb_span

pytestmark = [pytest.mark.e2e]

TRACES = 12
DEPTH = 6


def _chain(rng: random.Random) -> tuple[str, list[bytes]]:
    """One export request per span of a root -> child -> ... chain."""
    trace = rng.randbytes(16).hex()
    spans = [rng.randbytes(8).hex() for _ in range(DEPTH)]
    bodies = [
        export(
            pb_span(
                span,
                spans[level - 1] if level else "",
                name=f"level-{level}",
                start=T0 + level * 1_000,
                trace=trace,
            )
        )
        for level, span in enumerate(spans)
    ]
    return trace, bodies


def test_concurrent_exports_of_one_trace_leave_complete_dotted_orders(
    live_url, transactional_db
):
    rng = random.Random(11)
    traces = [_chain(rng) for _ in range(TRACES)]
    # Children mostly first, as exporters send a span when it ends.
    bodies = [body for _, chain in traces for body in reversed(chain)]
    rng.shuffle(bodies)
    with httpx.Client(timeout=30) as client:

        def send(body: bytes) -> int:
            response = client.post(
                f"{live_url}/v1/traces",
                content=body,
                headers={"Content-Type": PROTOBUF},
            )
            return response.status_code

        with ThreadPoolExecutor(max_workers=8) as pool:
            assert set(pool.map(send, bodies)) == {200}
    runs = {run.id: run for run in Run.objects.all()}
    assert len(runs) == TRACES * DEPTH
    for run in runs.values():
        own = segment(run.start_time, run.id)
        parent = runs.get(run.parent_id) if run.parent_id else None
        expected = f"{parent.dotted_order}.{own}" if parent else own
        assert run.dotted_order == expected, run.name
    assert {uuid.UUID(trace) for trace, _ in traces} == {
        run.trace_id for run in runs.values()
    }
