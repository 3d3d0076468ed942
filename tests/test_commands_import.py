import gzip
import uuid
from io import StringIO
from pathlib import Path

import orjson
import pytest
import zstandard
from django.core.management import CommandError, call_command
from django.forms.models import model_to_dict

from runs.models import Project, Run
from tests.factories import ProjectFactory
from tests.test_commands_export import export, seed

pytestmark = pytest.mark.django_db

# updated_at records each write; created_at is when this server stored the run
# (not part of an export).
COMPARED = [f.name for f in Run._meta.fields if f.name != "updated_at"]
RESTORED = [f for f in COMPARED if f != "created_at"]


def import_file(*args):
    out, err = StringIO(), StringIO()
    call_command("import_runs", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def snapshot(fields=COMPARED):
    return sorted(
        (model_to_dict(run, fields=fields) for run in Run.objects.all()),
        key=lambda r: str(r["id"]),
    )


@pytest.fixture
def exported(tmp_path) -> Path:
    seed("alpha")
    seed("beta", n_traces=1)
    path = tmp_path / "runs.jsonl"
    export("-o", str(path))
    return path


def test_import_restores_exported_runs(exported):
    before = snapshot(RESTORED)
    Run.objects.all().delete()
    out, _ = import_file(str(exported))
    assert snapshot(RESTORED) == before
    assert "Imported 9 runs (9 new, 0 already present) from 9 lines" in out


def test_importing_twice_changes_nothing(exported):
    Run.objects.all().delete()
    import_file(str(exported))
    first = snapshot()
    projects = list(Project.objects.values_list("id", "name").order_by("name"))
    out, _ = import_file(str(exported))
    assert snapshot() == first
    assert list(Project.objects.values_list("id", "name").order_by("name")) == (
        projects
    )
    assert "Imported 9 runs (0 new, 9 already present)" in out


@pytest.mark.parametrize("suffix", [".gz", ".zst"])
def test_compressed_files_are_read(exported, suffix):
    data = exported.read_bytes()
    packed = exported.with_name("runs.jsonl" + suffix)
    packed.write_bytes(
        gzip.compress(data)
        if suffix == ".gz"
        else zstandard.ZstdCompressor().compress(data)
    )
    Run.objects.all().delete()
    out, _ = import_file(str(packed))
    assert Run.objects.count() == 9


def test_dry_run_stores_nothing(exported):
    Run.objects.all().delete()
    out, _ = import_file(str(exported), "--dry-run")
    assert "Would import 9 runs (9 new" in out
    assert Run.objects.count() == 0


def test_rejected_lines_are_reported_by_number_and_exit_non_zero(tmp_path):
    good = {"id": str(uuid.uuid4()), "name": "ok", "start_time": "2026-11-25T12:00:00Z"}
    lines = [
        orjson.dumps(good),
        b"{not json",
        b"",
        orjson.dumps({"name": "no id"}),
        orjson.dumps({"id": str(uuid.uuid4()), "start_time": "yesterday"}),
        orjson.dumps([1, 2]),
    ]
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    err = StringIO()
    with pytest.raises(CommandError, match="4 lines rejected"):
        call_command("import_runs", str(path), stdout=StringIO(), stderr=err)
    assert err.getvalue().splitlines() == [
        "line 2: not JSON: unexpected character, expected a string key: "
        "line 1 column 2 (char 1)",
        "line 4: id: is required",
        "line 5: start_time: 'yesterday' is not an ISO-8601 timestamp",
        "line 6: run: expected an object, got a list",
    ]
    assert list(Run.objects.values_list("name", flat=True)) == ["ok"]


def test_runs_join_an_existing_project_of_the_same_name(tmp_path):
    seed("alpha", n_traces=1, children=0)
    path = tmp_path / "a.jsonl"
    export("-o", str(path))
    Run.objects.all().delete()
    Project.objects.all().delete()
    here = ProjectFactory(name="alpha")
    import_file(str(path))
    assert Run.objects.get().project_id == here.id
    assert Project.objects.count() == 1


def test_missing_file_is_a_command_error(tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        import_file(str(tmp_path / "nope.jsonl"))


def test_bad_batch_size_is_a_command_error(exported):
    with pytest.raises(CommandError, match="--batch-size must be at least 1"):
        import_file(str(exported), "--batch-size", "0")


def test_small_batches_show_progress(exported):
    Run.objects.all().delete()
    out, _ = import_file(str(exported), "--batch-size", "4")
    assert "\r4 lines read, 4 runs imported\r8 lines read, 8 runs imported" in out
    assert Run.objects.count() == 9
