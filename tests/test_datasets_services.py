"""The dataset services directly: source runs, splits and version reads."""

import uuid
from datetime import UTC, datetime

import pytest

from datasets import services, versions
from datasets.models import Example
from runs.ingest.normalize import InvalidField
from tests.factories import DatasetFactory, ExampleFactory, RunFactory

pytestmark = pytest.mark.django_db


def test_an_example_from_a_source_run_copies_its_io_and_a_missing_run_is_refused():
    dataset = DatasetFactory()
    run = RunFactory(inputs={"q": "x"}, outputs={"a": "y"})
    example = services.parse_example(
        {"source_run_id": str(run.id), "use_source_run_io": True}, creating=True
    )
    row = services.create_examples(dataset, [example])[0]
    assert (row.inputs, row.outputs, row.source_run_id) == (
        {"q": "x"},
        {"a": "y"},
        run.id,
    )
    missing = services.parse_example(
        {"source_run_id": str(uuid.uuid4()), "use_source_run_io": True}, creating=True
    )
    with pytest.raises(InvalidField, match="no run"):
        services.create_examples(dataset, [missing])


def test_split_changes_that_change_nothing_make_no_version():
    dataset = DatasetFactory()
    example = ExampleFactory(dataset=dataset)
    assert services.set_splits(dataset, [example.id], "base", remove=False) == 0
    assert services.set_splits(dataset, [example.id], "base", remove=True) == 1
    current = Example.objects.get(id=example.id, valid_to__isnull=True)
    assert current.metadata == {"dataset_split": []}
    assert Example.objects.filter(id=example.id).count() == 2


def test_a_naive_as_of_is_utc_and_a_bad_split_is_refused():
    when = versions.resolve_as_of(None, "2026-01-01T10:00:00")
    assert when == datetime(2026, 1, 1, 10, tzinfo=UTC)
    assert versions.resolve_as_of(None, "latest") is None
    with pytest.raises(InvalidField, match="split"):
        services.parse_example({"inputs": {}, "split": 3}, creating=True)
    with pytest.raises(InvalidField, match="example"):
        services.parse_example([], creating=False)
    with pytest.raises(InvalidField, match="attachments_operations"):
        services.parse_example(
            {"id": str(uuid.uuid4()), "attachments_operations": []}, creating=False
        )


def test_deleting_a_dataset_removes_its_attachment_files(
    django_capture_on_commit_callbacks,
):
    from django.core.files.storage import default_storage

    dataset = DatasetFactory()
    example = services.ExampleInput(
        id=uuid.uuid4(),
        inputs={},
        attachments=[services.AttachmentPart("f", "text/plain", b"data")],
    )
    services.create_examples(dataset, [example])
    name = Example.objects.get(id=example.id).attachments.get().file.name
    assert default_storage.exists(name)
    with django_capture_on_commit_callbacks(execute=True):
        services.delete_dataset(dataset)
    assert not default_storage.exists(name)
