"""The raw upsert of the ingest hot path, on whichever database the tests use."""

import uuid
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from runs.ingest import ingest, store
from runs.ingest.batch import Batch
from runs.models import Run

pytestmark = pytest.mark.django_db

T0 = "2026-11-25T13:40:22.427839+00:00"


def _create(run_id: uuid.UUID, index: int) -> dict:
    return {
        "id": str(run_id),
        "name": f"step\x00{index}",
        "run_type": "llm",
        "start_time": T0,
        "inputs": {"q": f"x\x00{index}", "\x00key": [index]},
        "outputs": {"usage_metadata": {"input_tokens": 70000 * index}},
        "session_name": "store",
        # Every other run names a reference example: a column mixes NULL and UUIDs.
        **({"reference_example_id": str(uuid.uuid4())} if index % 2 else {}),
    }


def test_rows_beyond_one_statement_are_all_stored_with_nul_replaced(monkeypatch):
    monkeypatch.setattr(store, "ROWS_PER_STATEMENT", 3)
    ids = [uuid.uuid4() for _ in range(7)]
    batch = Batch()
    for index, run_id in enumerate(ids):
        batch.add_run("post", _create(run_id, index), item=f"post[{index}]")

    with CaptureQueriesContext(connection) as queries:
        result = ingest(batch)

    assert result.accepted == ids
    inserts = [q for q in queries.captured_queries if "INSERT INTO" in q["sql"]]
    assert len([q for q in inserts if "runs_run" in q["sql"]]) == 3
    stored = {run.id: run for run in Run.objects.filter(id__in=ids)}
    for index, run_id in enumerate(ids):
        run = stored[run_id]
        assert run.name == f"step\ufffd{index}"
        assert run.inputs == {"q": f"x\ufffd{index}", "\ufffdkey": [index]}
        assert run.prompt_tokens == 70000 * index
        assert (run.reference_example_id is None) == (index % 2 == 0)
        assert run.start_time == datetime(2026, 11, 25, 13, 40, 22, 427839, UTC)


def test_a_resent_run_is_replaced_in_place():
    run_id = uuid.uuid4()
    for name in ("first", "second"):
        batch = Batch()
        batch.add_run("patch", {"id": str(run_id), "name": name}, item="patch")
        ingest(batch)

    assert list(Run.objects.filter(id=run_id).values_list("name", flat=True)) == [
        "second"
    ]
