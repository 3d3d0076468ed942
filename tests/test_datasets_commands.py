"""export_dataset and import_dataset: a dataset survives the round trip."""

import io

import orjson
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from datasets.models import Dataset
from datasets.selectors import examples_at
from tests.factories import DatasetFactory, ExampleFactory

pytestmark = pytest.mark.django_db


def test_jsonl_round_trip_keeps_inputs_outputs_metadata(tmp_path):
    source = DatasetFactory(name="src")
    ExampleFactory(
        dataset=source,
        inputs={"q": "é"},
        outputs={"a": 1},
        metadata={"k": "v", "dataset_split": ["test"]},
    )
    ExampleFactory(dataset=source, inputs={"q": "b"}, outputs=None)
    path = tmp_path / "src.jsonl"
    call_command("export_dataset", "src", "-o", str(path), stderr=io.StringIO())
    lines = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    assert [line["inputs"] for line in lines] == [{"q": "é"}, {"q": "b"}]
    out = io.StringIO()
    call_command("import_dataset", "copy", str(path), stdout=out)
    assert "Imported 2 examples into copy." in out.getvalue()
    copy = Dataset.objects.get(name="copy")
    rows = list(examples_at(dataset_id=copy.pk, when=None))
    assert [(r.inputs, r.outputs, r.metadata) for r in rows] == [
        ({"q": "é"}, {"a": 1}, {"k": "v", "dataset_split": ["test"]}),
        ({"q": "b"}, None, {"dataset_split": ["base"]}),
    ]
    call_command("import_dataset", "copy", str(path), stdout=io.StringIO())
    assert examples_at(dataset_id=copy.pk, when=None).count() == 4
    with pytest.raises(CommandError, match="already exist"):
        call_command(
            "import_dataset", "copy", str(path), "--keep-ids", stdout=io.StringIO()
        )


def test_csv_import_and_export(tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text("question,answer,extra\nwho,me,x\n")
    call_command(
        "import_dataset",
        "csv",
        str(path),
        "--input-keys",
        "question",
        "--output-keys",
        "answer",
        stdout=io.StringIO(),
    )
    out = tmp_path / "out.csv"
    call_command(
        "export_dataset", "csv", "--format", "csv", "-o", str(out), stderr=io.StringIO()
    )
    lines = out.read_text().splitlines()
    assert lines[0] == "id,inputs.question,outputs.answer"
    assert lines[1].endswith(",who,me")


def test_bad_input_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"inputs": {"q": 1}}\n{"inputs": [1]}\n')
    with pytest.raises(CommandError, match="line 2: inputs: expected a JSON object"):
        call_command("import_dataset", "x", str(bad), stdout=io.StringIO())
    assert not Dataset.objects.filter(name="x").exists()
    with pytest.raises(CommandError, match="No dataset"):
        call_command("export_dataset", "missing", stderr=io.StringIO())
    csv_file = tmp_path / "a.csv"
    csv_file.write_text("a\n1\n")
    with pytest.raises(CommandError, match="no such column"):
        call_command(
            "import_dataset",
            "y",
            str(csv_file),
            "--input-keys",
            "b",
            stdout=io.StringIO(),
        )
