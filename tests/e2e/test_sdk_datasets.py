"""The real langsmith SDK manages datasets and examples on a live server."""

import logging
import uuid
from datetime import UTC, datetime

import pytest
from langsmith import Client
from langsmith.utils import LangSmithConflictError, LangSmithNotFoundError

from datasets.models import Example

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore:.*deprecated"),
    pytest.mark.filterwarnings("error::UserWarning"),
]


@pytest.fixture
def client(live_url, api_prefix) -> Client:
    return Client(
        api_url=f"{live_url}{api_prefix}", api_key="any-key", auto_batch_tracing=False
    )


@pytest.fixture
def sdk_log(caplog):
    """Every warning the SDK logs (a retry or a dropped request is one)."""
    caplog.set_level(logging.WARNING, logger="langsmith")
    yield caplog
    assert [
        r.getMessage() for r in caplog.records if r.name.startswith("langsmith")
    ] == []


def test_dataset_lifecycle_through_the_sdk(client, sdk_log):
    dataset = client.create_dataset(
        "qa", description="questions", metadata={"team": "search"}
    )
    assert (dataset.name, dataset.description) == ("qa", "questions")
    with pytest.raises(LangSmithConflictError):
        client.create_dataset("qa")
    assert client.read_dataset(dataset_name="qa").id == dataset.id
    assert client.has_dataset(dataset_name="nope") is False
    with pytest.raises(LangSmithNotFoundError):
        client.read_dataset(dataset_id=uuid.uuid4())

    created = client.create_examples(
        dataset_id=dataset.id,
        examples=[
            {"inputs": {"q": "2+2"}, "outputs": {"a": "4"}, "metadata": {"lvl": 1}},
            {"inputs": {"q": "3+3"}, "outputs": {"a": "6"}, "split": "test"},
            {
                "inputs": {"q": "image"},
                "outputs": {"a": "cat"},
                "attachments": {"photo": ("image/png", b"\x89PNG-bytes")},
            },
        ],
    )
    assert created["count"] == 3
    listed = list(client.list_examples(dataset_id=dataset.id, include_attachments=True))
    assert [e.inputs for e in listed] == [{"q": "2+2"}, {"q": "3+3"}, {"q": "image"}]
    assert [e.outputs for e in listed] == [{"a": "4"}, {"a": "6"}, {"a": "cat"}]
    assert listed[0].metadata == {"lvl": 1, "dataset_split": ["base"]}
    assert listed[2].attachments["photo"]["reader"].read() == b"\x89PNG-bytes"
    assert listed[2].attachments["photo"]["mime_type"] == "image/png"
    assert client.read_dataset(dataset_id=dataset.id).example_count == 3
    version_1 = max(e.modified_at for e in listed)

    test_split = list(client.list_examples(dataset_id=dataset.id, splits=["test"]))
    assert [e.inputs for e in test_split] == [{"q": "3+3"}]
    assert client.list_dataset_splits(dataset_id=dataset.id) == ["base", "test"]
    by_metadata = client.list_examples(dataset_id=dataset.id, metadata={"lvl": 1})
    assert [e.id for e in by_metadata] == [listed[0].id]

    client.update_example(listed[0].id, outputs={"a": "four"})
    client.delete_example(listed[1].id)
    assert client.read_example(listed[0].id).outputs == {"a": "four"}
    with pytest.raises(LangSmithNotFoundError):
        client.read_example(listed[1].id)
    now = {e.id: e.outputs for e in client.list_examples(dataset_id=dataset.id)}
    assert now == {listed[0].id: {"a": "four"}, listed[2].id: {"a": "cat"}}
    then = {
        e.id: e.outputs
        for e in client.list_examples(dataset_id=dataset.id, as_of=version_1)
    }
    assert then == {e.id: e.outputs for e in listed}

    diff = client.diff_dataset_versions(
        dataset_id=dataset.id, from_version=version_1, to_version="latest"
    )
    assert (diff.examples_modified, diff.examples_removed, diff.examples_added) == (
        [listed[0].id],
        [listed[1].id],
        [],
    )
    client.update_dataset_tag(dataset_id=dataset.id, as_of=version_1, tag="prod")
    tagged = client.read_dataset_version(dataset_id=dataset.id, tag="prod")
    assert (tagged.as_of, tagged.tags) == (version_1, ["prod"])
    assert len(list(client.list_examples(dataset_id=dataset.id, as_of="prod"))) == 3
    versions = list(client.list_dataset_versions(dataset_id=dataset.id))
    assert len(versions) == 3

    client.update_dataset_splits(
        dataset_id=dataset.id, split_name="hard", example_ids=[listed[2].id]
    )
    hard = list(client.list_examples(dataset_id=dataset.id, splits=["hard"]))
    assert [e.id for e in hard] == [listed[2].id]
    assert hard[0].metadata["dataset_split"] == ["base", "hard"]

    names = [d.name for d in client.list_datasets(dataset_name_contains="q")]
    assert names == ["qa"]
    client.delete_dataset(dataset_id=dataset.id)
    with pytest.raises(LangSmithNotFoundError):
        client.read_dataset(dataset_id=dataset.id)
    assert Example.objects.count() == 0


def test_csv_upload_and_many_examples_page(client, sdk_log, tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text("question,answer\nwho,me\nwhy,because\n")
    dataset = client.upload_csv(
        str(path), input_keys=["question"], output_keys=["answer"], name="csv-set"
    )
    examples = list(client.list_examples(dataset_id=dataset.id))
    assert [(e.inputs, e.outputs) for e in examples] == [
        ({"question": "who"}, {"answer": "me"}),
        ({"question": "why"}, {"answer": "because"}),
    ]
    client.create_examples(
        dataset_id=dataset.id,
        examples=[{"inputs": {"i": i}, "outputs": {"o": i}} for i in range(250)],
    )
    assert len(list(client.list_examples(dataset_id=dataset.id))) == 252
    assert [
        e.inputs["i"]
        for e in client.list_examples(dataset_id=dataset.id, offset=2, limit=3)
    ] == [0, 1, 2]
    started = datetime.now(UTC)
    assert client.read_dataset(dataset_id=dataset.id).modified_at <= started
