import csv
import gzip
import io
import json
import uuid
from datetime import timedelta
from io import StringIO

import orjson
import pytest
import zstandard
from django.core.management import CommandError, call_command
from django.utils import timezone

from runs.ingest import ingest
from runs.ingest.batch import Batch
from runs.models import Run

pytestmark = pytest.mark.django_db


def seed(project="alpha", n_traces=2, children=2, when=None, **root_extra):
    """Traces through the ingest service, as a client would send them."""
    when = when or timezone.now() - timedelta(hours=1)
    batch = Batch()
    roots = []
    for _ in range(n_traces):
        root = str(uuid.uuid4())
        roots.append(root)
        batch.add_run(
            "post",
            {
                "id": root,
                "name": "agent",
                "start_time": when.isoformat(),
                "end_time": (when + timedelta(seconds=2)).isoformat(),
                "inputs": {"question": "what is é?"},
                "outputs": {"answer": "a letter"},
                "session_name": project,
                "tags": ["prod"],
                **root_extra,
            },
            item="run",
        )
        for i in range(children):
            batch.add_run(
                "post",
                {
                    "id": str(uuid.uuid4()),
                    "parent_run_id": root,
                    "trace_id": root,
                    "name": f"llm-{i}",
                    "run_type": "llm",
                    "start_time": (when + timedelta(seconds=1)).isoformat(),
                    "end_time": (when + timedelta(seconds=2)).isoformat(),
                    "inputs": {"prompt": "p"},
                    "outputs": {"text": "t"},
                    "session_name": project,
                },
                item="run",
            )
    result = ingest(batch)
    assert not result.rejected
    return roots


def export(*args):
    out, err = StringIO(), StringIO()
    call_command("export_runs", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def jsonl(text):
    return [json.loads(line) for line in text.splitlines()]


def test_jsonl_to_stdout_has_one_complete_run_per_line():
    seed()
    out, err = export()
    rows = jsonl(out)
    assert len(rows) == 6
    assert {r["session_name"] for r in rows} == {"alpha"}
    assert {"id", "trace_id", "dotted_order", "inputs", "outputs"} <= set(rows[0])
    assert "Exported 6 runs" in err


def test_project_filter_and_unknown_project():
    seed("alpha")
    seed("beta", n_traces=1, children=0)
    out, _ = export("--project", "beta")
    assert [r["session_name"] for r in jsonl(out)] == ["beta"]
    with pytest.raises(CommandError, match="--project: unknown project 'gamma'"):
        export("--project", "gamma")


def test_trace_ids_status_and_time_filters():
    roots = seed(n_traces=3, children=1)
    old = seed(n_traces=1, children=0, when=timezone.now() - timedelta(days=10))
    out, _ = export("--trace-ids", f"{roots[0]},{roots[2]}")
    assert {r["trace_id"] for r in jsonl(out)} == {roots[0], roots[2]}
    since = (timezone.now() - timedelta(days=1)).isoformat()
    out, _ = export("--start-time-lte", since)
    assert [r["id"] for r in jsonl(out)] == old
    Run.objects.filter(id=old[0]).update(status="error", error="boom")
    out, _ = export("--status", "error")
    assert [r["id"] for r in jsonl(out)] == old


def test_search_selects_whole_traces():
    seed(n_traces=1, children=1, inputs={"question": "needle-xyz"})
    seed(n_traces=1, children=1)
    out, _ = export("--search", "needle-xyz")
    rows = jsonl(out)
    assert len(rows) == 2
    assert len({r["trace_id"] for r in rows}) == 1


def test_stale_status_exports_runs_still_running_too_long(settings):
    settings.STALE_AFTER_MINUTES = 30
    seed(n_traces=1, children=0)
    [stale] = seed(n_traces=1, children=0, end_time=None)
    out, _ = export("--status", "stale")
    assert [r["id"] for r in jsonl(out)] == [stale]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--start-time-gte", "last tuesday"], "--start-time-gte: "),
        (["--trace-ids", "nope"], "--trace-ids: 'nope' is not a UUID."),
        (["--status", "weird"], "--status: "),
    ],
)
def test_bad_filter_values_name_the_option(args, message):
    with pytest.raises(CommandError, match=message):
        export(*args)


def test_gzip_and_zstd_files_by_name(tmp_path):
    seed()
    export("--output", str(tmp_path / "runs.jsonl.gz"))
    export("-o", str(tmp_path / "runs.jsonl.zst"))
    export("-o", str(tmp_path / "runs.jsonl"))
    plain = (tmp_path / "runs.jsonl").read_bytes()
    assert gzip.decompress((tmp_path / "runs.jsonl.gz").read_bytes()) == plain
    reader = zstandard.ZstdDecompressor().stream_reader(
        io.BytesIO((tmp_path / "runs.jsonl.zst").read_bytes())
    )
    assert reader.read() == plain
    assert len(plain.splitlines()) == 6


def test_json_and_csv_formats(tmp_path):
    seed(n_traces=1, children=1)
    out, _ = export("--format", "json")
    assert len(orjson.loads(out)) == 2
    out, _ = export("--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["session_name"] for r in rows] == ["alpha", "alpha"]
    assert json.loads(rows[0]["inputs"]) in (
        {"question": "what is é?"},
        {"prompt": "p"},
    )


def test_unwritable_output_is_a_command_error(tmp_path):
    with pytest.raises(CommandError, match="--output: cannot write"):
        export("-o", str(tmp_path / "missing-dir" / "x.jsonl"))


def test_progress_goes_to_stderr_for_large_files(tmp_path, monkeypatch):
    from runs.management.commands import export_runs

    monkeypatch.setattr(export_runs, "PROGRESS_EVERY", 100)
    seed()
    out, err = export("-o", str(tmp_path / "x.jsonl"))
    assert out == ""
    assert "\r" in err and " MB written in " in err
