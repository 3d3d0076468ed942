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


def test_patch_before_post_in_the_same_request_gives_the_same_row():
    in_order, reversed_ = uuid.uuid4(), uuid.uuid4()
    ingest(_batch(("post", _create(in_order)), ("patch", _patch(in_order))))
    ingest(_batch(("patch", _patch(reversed_)), ("post", _create(reversed_))))

    fields = ("name", "run_type", "status", "inputs", "outputs", "events", "end_time")
    a = Run.objects.values(*fields).get(id=in_order)
    b = Run.objects.values(*fields).get(id=reversed_)
    assert a == b
    assert a["status"] == "success"


def test_a_patch_alone_leaves_type_and_tree_to_the_later_create():
    """0.1.x patches carry no run_type; the create's type and tree must win."""
    root, child = uuid.uuid4(), uuid.uuid4()
    root_dotted = f"20261125T134022427839Z{root}"
    child_dotted = f"{root_dotted}.20261125T134022500000Z{child}"
    patch = _patch(child)
    del patch["run_type"]
    ingest(_batch(("patch", patch)))
    orphan = Run.objects.get(id=child)
    assert (orphan.run_type, orphan.dotted_order, orphan.trace_id) == ("", "", child)

    create = _create(
        child,
        name="llm",
        run_type="llm",
        start_time="2026-11-25T13:40:22.500000+00:00",
        trace_id=str(root),
        parent_run_id=str(root),
        dotted_order=child_dotted,
    )
    ingest(_batch(("post", create)))
    run = Run.objects.get(id=child)
    assert (run.name, run.run_type, run.status) == ("llm", "llm", "success")
    assert (run.trace_id, run.parent_id, run.dotted_order) == (root, root, child_dotted)
    assert run.start_time == datetime(2026, 11, 25, 13, 40, 22, 500000, tzinfo=UTC)
    assert run.outputs == {"a": "y"}


def test_a_patch_alone_without_tree_fields_is_placed_when_its_create_arrives():
    run_id = uuid.uuid4()
    ingest(_batch(("patch", {"id": str(run_id), "end_time": T1, "outputs": {"a": 1}})))
    assert Run.objects.get(id=run_id).start_time == datetime(
        2026, 11, 25, 13, 40, 23, tzinfo=UTC
    )
    ingest(_batch(("post", _create(run_id))))
    run = Run.objects.get(id=run_id)
    assert run.start_time == datetime(2026, 11, 25, 13, 40, 22, 427839, tzinfo=UTC)
    assert run.dotted_order == f"20261125T134022427839Z{run_id}"
    assert (run.outputs, run.run_type, run.status) == ({"a": 1}, "chain", "success")


def test_patch_events_replace_the_create_events():
    run_id = uuid.uuid4()
    ingest(_batch(("post", _create(run_id))))
    events = [{"name": "new_token", "time": T0}, {"name": "end", "time": T1}]
    ingest(_batch(("patch", _patch(run_id, events=events))))
    assert Run.objects.get(id=run_id).events == events


def test_a_create_with_end_time_only_is_a_finished_success():
    run_id = uuid.uuid4()
    ingest(_batch(("post", _create(run_id, end_time=T1, outputs={"a": 1}))))
    run = Run.objects.get(id=run_id)
    assert (run.status, run.outputs, run.error) == ("success", {"a": 1}, None)
    assert run.duration_ms == pytest.approx(572.161)


def test_a_create_without_end_time_is_running():
    run_id = uuid.uuid4()
    ingest(_batch(("post", _create(run_id))))
    run = Run.objects.get(id=run_id)
    assert (run.status, run.end_time, run.duration) == ("running", None, None)


def test_a_patch_with_an_error_turns_the_run_into_an_error():
    run_id = uuid.uuid4()
    ingest(_batch(("post", _create(run_id))))
    ingest(_batch(("patch", _patch(run_id, error={"message": "boom"}))))
    run = Run.objects.get(id=run_id)
    assert (run.status, run.error) == ("error", "boom")


def test_root_posted_without_trace_or_dotted_order_gets_both_derived():
    run_id = uuid.uuid4()
    ingest(_batch(("post", _create(run_id))))
    run = Run.objects.get(id=run_id)
    assert run.trace_id == run_id
    assert run.parent_id is None
    assert run.dotted_order == f"20261125T134022427839Z{run_id}"


def test_child_and_parent_in_one_request_without_tree_fields_are_linked():
    root, child, grandchild = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    t_child = "2026-11-25T13:40:22.5+00:00"
    ingest(
        _batch(
            ("post", _create(grandchild, parent_run_id=str(child), start_time=T1)),
            ("post", _create(child, parent_run_id=str(root), start_time=t_child)),
            ("post", _create(root)),
        )
    )
    runs = {r.id: r for r in Run.objects.all()}
    assert {r.trace_id for r in runs.values()} == {root}
    assert runs[grandchild].dotted_order == (
        f"20261125T134022427839Z{root}.20261125T134022500000Z{child}"
        f".20261125T134023000000Z{grandchild}"
    )
    assert runs[grandchild].parent_run_ids == [str(root), str(child)]


def test_trace_and_parent_are_read_from_a_dotted_order():
    root, child = uuid.uuid4(), uuid.uuid4()
    dotted = f"20261125T134022427839Z{root}.20261125T134022427839Z{child}"
    ingest(_batch(("post", _create(child, dotted_order=dotted))))
    run = Run.objects.get(id=child)
    assert (run.trace_id, run.parent_id, run.dotted_order) == (root, root, dotted)


def test_start_time_is_read_from_the_dotted_order_when_missing():
    run_id = uuid.uuid4()
    raw = _create(run_id, dotted_order=f"20261125T134022000001Z{run_id}")
    del raw["start_time"]
    ingest(_batch(("post", raw)))
    assert Run.objects.get(id=run_id).start_time == datetime(
        2026, 11, 25, 13, 40, 22, 1, tzinfo=UTC
    )


def test_unknown_keys_are_ignored():
    run_id = uuid.uuid4()
    result = ingest(
        _batch(
            (
                "post",
                _create(
                    run_id,
                    replicas=[],
                    attachments={},
                    extend_trace_retention=True,
                    something_new={"x": 1},
                ),
            )
        )
    )
    assert result.rejected == []
    assert Run.objects.get(id=run_id).inputs == {"q": "x"}


def test_uuid_v4_and_v7_ids_are_both_stored():
    from tests.e2e.wire import uuid7

    v4, v7 = uuid.uuid4(), uuid7()
    child = uuid7()
    result = ingest(
        _batch(
            ("post", _create(v4)),
            ("post", _create(v7)),
            ("post", _create(child, parent_run_id=str(v7), trace_id=str(v7))),
        )
    )
    assert result.rejected == []
    assert Run.objects.get(id=v7).id.version == 7
    assert Run.objects.get(id=child).parent_id == v7
    assert Run.objects.count() == 3


def test_session_id_targets_a_project_by_id():
    project = Project.objects.create(name="by-id")
    run_id = uuid.uuid4()
    ingest(_batch(("post", _create(run_id, session_id=str(project.id)))))
    assert Run.objects.get(id=run_id).project_id == project.id


def test_an_unknown_session_id_creates_that_project():
    session = uuid.uuid4()
    run_id = uuid.uuid4()
    ingest(_batch(("post", _create(run_id, session_id=str(session)))))
    project = Project.objects.get(id=session)
    assert project.name == "demo"
    assert Run.objects.get(id=run_id).project_id == session


def test_a_bare_output_is_wrapped_like_the_sdk_does():
    run_id = uuid.uuid4()
    ingest(_batch(("post", _create(run_id, outputs="plain", inputs=[1, 2]))))
    run = Run.objects.get(id=run_id)
    assert (run.inputs, run.outputs) == ({"input": [1, 2]}, {"output": "plain"})


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("id", "not-a-uuid", "'not-a-uuid' is not a valid UUID"),
        ("trace_id", 12, "expected a UUID string, got a number"),
        ("start_time", "yesterday", "'yesterday' is not an ISO-8601 timestamp"),
        ("end_time", [], "expected a timestamp, got a list"),
        ("name", {"a": 1}, "expected a string, got an object"),
        ("extra", "x", "expected an object, got a string"),
        ("events", {}, "expected a list, got an object"),
        ("tags", ["a", 1], "expected a list of strings"),
        ("dotted_order", "nonsense", "segment 'nonsense' does not end in a run id"),
    ],
)
def test_a_wrong_type_rejects_that_run_naming_the_field(key, value, message):
    good, bad = uuid.uuid4(), uuid.uuid4()
    raw = _create(bad, **{key: value})
    result = ingest(_batch(("post", _create(good)), ("post", raw)))
    assert result.accepted == [good]
    assert [r.as_dict() for r in result.rejected] == [
        {
            "item": "post[1]",
            "run_id": value if key == "id" else str(bad),
            "field": key,
            "error": message,
        }
    ]
    assert list(Run.objects.values_list("id", flat=True)) == [good]


def test_a_dotted_order_naming_another_run_is_rejected():
    run_id, other = uuid.uuid4(), uuid.uuid4()
    result = ingest(
        _batch(("post", _create(run_id, dotted_order=f"20261125T134022427839Z{other}")))
    )
    assert [(r.field, r.message) for r in result.rejected] == [
        ("dotted_order", f"last segment does not name run {run_id}")
    ]
    assert not Run.objects.exists()


def test_a_run_that_is_not_an_object_is_rejected():
    result = ingest(_batch(("post", ["a"]), ("patch", {"name": "no id"})))
    assert [(r.item, r.field, r.message) for r in result.rejected] == [
        ("post[0]", "run", "expected an object, got a list"),
        ("patch[1]", "id", "is required"),
    ]


def test_nul_characters_are_stored_as_replacement_characters():
    run_id = uuid.uuid4()
    raw = _create(
        run_id,
        name="a\x00b",
        session_name="p\x00",
        inputs={"k\x00": "v\x00", "escaped": "\\u0000 stays text"},
        error="E\x00",
        end_time=T1,
    )
    result = ingest(_batch(("post", raw)))
    assert result.rejected == []
    run = Run.objects.get(id=run_id)
    assert run.name == "a\ufffdb"
    assert run.project.name == "p\ufffd"
    assert run.inputs == {"k\ufffd": "v\ufffd", "escaped": "\\u0000 stays text"}
    assert run.error == "E\ufffd"


def test_integers_beyond_64_bits_and_deep_values_are_stored():
    run_id = uuid.uuid4()
    deep: dict = {"leaf": 2**64 - 1}
    for _ in range(100):
        deep = {"d": deep}
    ingest(_batch(("post", _create(run_id, inputs={"big": 2**63, "deep": deep}))))
    stored = Run.objects.get(id=run_id).inputs
    assert stored["big"] == 2**63
    node = stored["deep"]
    for _ in range(100):
        node = node["d"]
    assert node == {"leaf": 2**64 - 1}


def test_token_counts_from_llm_output_token_usage():
    run_id = uuid.uuid4()
    outputs = {
        "generations": [[{"text": "hi"}]],
        "llm_output": {
            "token_usage": {
                "prompt_tokens": 11,
                "completion_tokens": 4,
                "total_tokens": 15,
            },
            "model_name": "gpt-4o",
        },
    }
    extra = {"invocation_params": {"model": "gpt-4o", "_type": "openai-chat"}}
    raw = _create(run_id, run_type="llm", outputs=outputs, extra=extra)
    ingest(_batch(("post", raw)))
    run = Run.objects.get(id=run_id)
    assert (run.prompt_tokens, run.completion_tokens, run.total_tokens) == (11, 4, 15)
    assert (run.model_name, run.model_provider) == ("gpt-4o", "openai-chat")


def test_token_counts_from_a_traceable_usage_metadata_and_first_token_time():
    run_id = uuid.uuid4()
    outputs = {"output": "x", "usage_metadata": {"input_tokens": 5, "output_tokens": 2}}
    events = [
        {"name": "start", "time": T0},
        {"name": "new_token", "time": "2026-11-25T13:40:22.9+00:00"},
        {"name": "new_token", "time": T1},
    ]
    raw = _create(run_id, run_type="llm", outputs=outputs, events=events)
    ingest(_batch(("post", raw)))
    run = Run.objects.get(id=run_id)
    assert (run.prompt_tokens, run.completion_tokens, run.total_tokens) == (5, 2, 7)
    assert run.first_token_time == datetime(
        2026, 11, 25, 13, 40, 22, 900000, tzinfo=UTC
    )


def test_timestamps_without_fraction_with_z_and_as_epoch_milliseconds():
    a, b, c = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    ingest(
        _batch(
            ("post", _create(a, start_time="2026-11-25T13:40:22+00:00")),
            ("post", _create(b, start_time="2026-11-25T13:40:22Z")),
            ("post", _create(c, start_time=1795614022000)),
        )
    )
    expected = datetime(2026, 11, 25, 13, 40, 22, tzinfo=UTC)
    assert {r.start_time for r in Run.objects.all()} == {expected}


def test_a_patch_of_a_stored_run_without_a_project_creates_no_default_project():
    run_id = uuid.uuid4()
    ingest(_batch(("post", _create(run_id))))
    ingest(_batch(("patch", _patch(run_id))))
    assert list(Project.objects.values_list("name", flat=True)) == ["demo"]
    assert Run.objects.get(id=run_id).project.name == "demo"


def test_a_patch_alone_of_an_unknown_run_goes_to_the_default_project():
    run_id = uuid.uuid4()
    result = ingest(_batch(("patch", _patch(run_id))))
    assert result.accepted == [run_id]
    assert Run.objects.get(id=run_id).project.name == "default"


def test_a_child_derived_under_a_stored_parent_follows_the_stored_dotted_order():
    root, child = uuid.uuid4(), uuid.uuid4()
    stored_dotted = f"20261125T134000000000Z{root}"
    ingest(_batch(("post", _create(root, dotted_order=stored_dotted))))
    # The parent's create is replayed without tree fields next to a new child.
    ingest(
        _batch(
            ("post", _create(root)),
            ("post", _create(child, parent_run_id=str(root), start_time=T1)),
        )
    )
    run = Run.objects.get(id=child)
    assert run.trace_id == root
    assert run.dotted_order == f"{stored_dotted}.20261125T134023000000Z{child}"
    assert Run.objects.get(id=root).dotted_order == stored_dotted


def test_stored_and_new_runs_in_one_request_are_each_merged_right():
    old, new = uuid.uuid4(), uuid.uuid4()
    ingest(_batch(("post", _create(old, name="old"))))
    result = ingest(
        _batch(("patch", _patch(old)), ("post", _create(new, name="new", end_time=T1)))
    )
    assert result.accepted == [old, new]
    runs = {r.id: r for r in Run.objects.all()}
    assert (runs[old].name, runs[old].status, runs[old].outputs) == (
        "old",
        "success",
        {"a": "y"},
    )
    assert (runs[new].name, runs[new].status) == ("new", "success")
    assert runs[old].created_at < runs[old].updated_at
