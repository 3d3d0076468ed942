"""Merge rules of the one ingest service, whatever the wire format."""

import uuid
from datetime import UTC, datetime

import pytest

from runs.ingest import ingest
from runs.ingest.batch import Batch
from runs.models import Project, Run

pytestmark = pytest.mark.django_db

T0 = "2026-11-25T13:40:22.427839+00:00"
T1 = "2026-11-25T13:40:23.000000+00:00"


def _batch(*ops: tuple[str, dict]) -> Batch:
    batch = Batch()
    for index, (kind, raw) in enumerate(ops):
        batch.add_run(kind, raw, item=f"{kind}[{index}]")
    return batch


def _create(run_id: uuid.UUID, **extra) -> dict:
    return {
        "id": str(run_id),
        "name": "root",
        "run_type": "chain",
        "start_time": T0,
        "inputs": {"q": "x"},
        "outputs": {},
        "events": [{"name": "start", "time": T0}],
        "session_name": "demo",
        **extra,
    }


def _patch(run_id: uuid.UUID, **extra) -> dict:
    return {
        "id": str(run_id),
        "name": None,
        "run_type": None,
        "tags": None,
        "extra": None,
        "session_name": None,
        "end_time": T1,
        "outputs": {"a": "y"},
        "events": [{"name": "start", "time": T0}, {"name": "end", "time": T1}],
        **extra,
    }


def test_patch_before_post_gives_the_same_row_as_in_order():
    first, second = uuid.uuid4(), uuid.uuid4()
    ingest(_batch(("post", _create(first))))
    ingest(_batch(("patch", _patch(first))))
    ingest(_batch(("patch", _patch(second))))
    ingest(_batch(("post", _create(second))))

    a = Run.objects.get(id=first)
    b = Run.objects.get(id=second)
    for run in (a, b):
        assert run.name == "root"
        assert run.status == "success"
        assert run.outputs == {"a": "y"}
        assert run.inputs == {"q": "x"}
        assert run.end_time == datetime(2026, 11, 25, 13, 40, 23, tzinfo=UTC)
        assert [e["name"] for e in run.events] == ["start", "end"]
        assert run.project.name == "demo"
        assert run.trace_id == run.id


def test_replayed_post_is_harmless():
    run_id = uuid.uuid4()
    ingest(_batch(("post", _create(run_id)), ("patch", _patch(run_id))))
    ingest(_batch(("post", _create(run_id))))
    run = Run.objects.get(id=run_id)
    assert run.outputs == {"a": "y"}
    assert run.status == "success"
    assert Run.objects.count() == 1


def test_null_in_patch_means_not_provided():
    run_id = uuid.uuid4()
    ingest(_batch(("post", _create(run_id, tags=["t1"], extra={"metadata": {"k": 1}}))))
    ingest(_batch(("patch", _patch(run_id))))
    run = Run.objects.get(id=run_id)
    assert run.tags == ["t1"]
    assert run.extra == {"metadata": {"k": 1}}
    assert run.name == "root"


def test_create_with_error_is_stored_complete():
    run_id = uuid.uuid4()
    result = ingest(
        _batch(("post", _create(run_id, end_time=T1, error="ValueError('x')")))
    )
    assert result.accepted == [run_id]
    run = Run.objects.get(id=run_id)
    assert run.status == "error"
    assert run.error == "ValueError('x')"


def test_trace_and_dotted_order_are_derived_for_a_child_posted_alone():
    root, child = uuid.uuid4(), uuid.uuid4()
    ingest(_batch(("post", _create(root))))
    ingest(_batch(("post", _create(child, parent_run_id=str(root), name="child"))))
    stored_root = Run.objects.get(id=root)
    stored_child = Run.objects.get(id=child)
    assert stored_root.dotted_order == f"20261125T134022427839Z{root}"
    assert stored_child.trace_id == root
    assert stored_child.parent_id == root
    assert stored_child.dotted_order == (
        f"20261125T134022427839Z{root}.20261125T134022427839Z{child}"
    )


def test_runs_without_a_project_go_to_default():
    run_id = uuid.uuid4()
    raw = _create(run_id)
    del raw["session_name"]
    ingest(_batch(("post", raw)))
    assert Run.objects.get(id=run_id).project.name == "default"
    assert Project.objects.filter(name="default").count() == 1


def test_tokens_and_model_are_read_from_usage_metadata_and_ls_metadata():
    run_id = uuid.uuid4()
    ingest(
        _batch(
            (
                "post",
                _create(
                    run_id,
                    run_type="llm",
                    extra={
                        "metadata": {"ls_model_name": "gpt-x", "ls_provider": "openai"}
                    },
                    outputs={
                        "generations": [
                            [
                                {
                                    "text": "hi",
                                    "message": {
                                        "lc": 1,
                                        "kwargs": {
                                            "usage_metadata": {
                                                "input_tokens": 7,
                                                "output_tokens": 3,
                                                "total_tokens": 10,
                                            }
                                        },
                                    },
                                }
                            ]
                        ]
                    },
                ),
            )
        )
    )
    run = Run.objects.get(id=run_id)
    assert (run.prompt_tokens, run.completion_tokens, run.total_tokens) == (7, 3, 10)
    assert (run.model_name, run.model_provider) == ("gpt-x", "openai")


def test_bad_run_is_rejected_and_the_valid_one_kept():
    good = uuid.uuid4()
    batch = _batch(("post", _create(good)), ("post", {"id": "nope", "name": "x"}))
    result = ingest(batch)
    assert result.accepted == [good]
    assert [(r.item, r.field) for r in result.rejected] == [("post[1]", "id")]
    assert Run.objects.count() == 1
