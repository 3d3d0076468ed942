"""Streaming export in three formats, and the JSONL round trip through ingest."""

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from django.forms.models import model_to_dict

from runs.export import stream_export
from runs.ingest import ingest
from runs.ingest.batch import Batch
from runs.models import Project, Run
from tests.factories import ProjectFactory, RunFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_jsonl_export_streams_filtered_runs_with_a_file_name(client, api_prefix):
    shop = ProjectFactory(name="shop")
    a = RunFactory(project=shop, name="a", start_time=T0)
    RunFactory(project=shop, name="b", start_time=T0 + timedelta(seconds=1))
    RunFactory(name="elsewhere")
    response = client.get(f"{api_prefix}/export/runs?format=jsonl&project=shop")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-ndjson"
    assert response["Content-Disposition"].startswith(
        'attachment; filename="agentspy-runs-'
    )
    assert response["Content-Disposition"].endswith('.jsonl"')
    rows = [orjson.loads(line) for line in body(response).splitlines()]
    assert [r["name"] for r in rows] == ["b", "a"]
    assert rows[1]["id"] == str(a.id)
    assert rows[1]["session_name"] == "shop"
    assert rows[1]["session_id"] == str(shop.id)
    assert rows[1]["inputs"] == {"question": "What is 2 + 2?"}


def test_json_and_csv_exports(client, api_prefix):
    RunFactory(name="one", start_time=T0, inputs={"q": 'héllo, "world"'})
    RunFactory(name="two", start_time=T0 + timedelta(seconds=1))
    as_json = orjson.loads(
        body(client.get(f"{api_prefix}/export/runs?format=json&ordering=name"))
    )
    assert [r["name"] for r in as_json] == ["one", "two"]
    response = client.get(f"{api_prefix}/export/runs?format=csv&ordering=name")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    table = list(csv.DictReader(io.StringIO(body(response).decode())))
    assert [r["name"] for r in table] == ["one", "two"]
    assert orjson.loads(table[0]["inputs"]) == {"q": 'héllo, "world"'}
    assert table[0]["duration_ms"] == "1000.0"
    assert table[0]["session_name"] == "default"


def test_export_of_nothing_and_bad_parameters(client, api_prefix):
    assert body(client.get(f"{api_prefix}/export/runs?format=json")) == b"[]\n"
    assert body(client.get(f"{api_prefix}/export/runs")) == b""
    bad = client.get(f"{api_prefix}/export/runs?format=xml")
    assert bad.status_code == 400
    assert list(bad.json()) == ["format"]
    bad = client.get(f"{api_prefix}/export/runs?status=nope")
    assert bad.status_code == 400
    assert list(bad.json()) == ["status"]


def test_stream_export_rejects_an_unknown_format():
    with pytest.raises(ValueError, match="xml"):
        stream_export(Run.objects.all(), "xml")


def test_export_streams_in_chunks_without_loading_everything(monkeypatch):
    monkeypatch.setattr("runs.export.CHUNK_SIZE", 2)
    for i in range(7):
        RunFactory(name=f"r{i}", inputs={"pad": "x" * 20000})
    chunks = list(stream_export(Run.objects.order_by("name"), "jsonl"))
    assert len(chunks) > 1
    names = [orjson.loads(line)["name"] for line in b"".join(chunks).splitlines()]
    assert names == [f"r{i}" for i in range(7)]


COMPARED = [
    "id",
    "trace_id",
    "parent",
    "dotted_order",
    "name",
    "run_type",
    "status",
    "start_time",
    "end_time",
    "inputs",
    "outputs",
    "error",
    "extra",
    "events",
    "serialized",
    "tags",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "model_name",
    "model_provider",
    "first_token_time",
]


def stored(run: Run) -> dict:
    row = model_to_dict(run, fields=COMPARED)
    row["project"] = run.project.name
    return row


def test_exported_jsonl_rows_load_back_through_ingest_unchanged():
    root_id, llm_id = uuid.uuid4(), uuid.uuid4()
    batch = Batch()
    batch.add_run(
        "post",
        {
            "id": str(root_id),
            "name": "agent",
            "run_type": "chain",
            "start_time": T0.isoformat(),
            "end_time": (T0 + timedelta(seconds=3)).isoformat(),
            "inputs": {"question": "Wie spät ist es? 几点了"},
            "outputs": {"answer": "Zwölf"},
            "tags": ["prod"],
            "extra": {"metadata": {"user": "u1"}},
            "session_name": "roundtrip",
        },
        item="post.0",
    )
    batch.add_run(
        "post",
        {
            "id": str(llm_id),
            "parent_run_id": str(root_id),
            "trace_id": str(root_id),
            "name": "ChatOpenAI",
            "run_type": "llm",
            "start_time": (T0 + timedelta(seconds=1)).isoformat(),
            "end_time": (T0 + timedelta(seconds=2)).isoformat(),
            "inputs": {"messages": [{"role": "user", "content": "hi"}]},
            "outputs": {
                "llm_output": {
                    "token_usage": {
                        "prompt_tokens": 11,
                        "completion_tokens": 7,
                        "total_tokens": 18,
                    }
                }
            },
            "error": "partial failure",
            "extra": {"invocation_params": {"model_name": "gpt-4o"}},
            "events": [
                {"name": "new_token", "time": (T0 + timedelta(seconds=1.5)).isoformat()}
            ],
            "session_name": "roundtrip",
        },
        item="post.1",
    )
    assert not ingest(batch).rejected
    before = {run.id: stored(run) for run in Run.objects.select_related("project")}
    lines = b"".join(stream_export(Run.objects.all(), "jsonl")).splitlines()
    assert len(lines) == 2
    Run.objects.all().delete()
    Project.objects.all().delete()
    again = Batch()
    for i, line in enumerate(lines):
        again.add_run("post", orjson.loads(line), item=f"post.{i}")
    result = ingest(again)
    assert result.rejected == []
    after = {run.id: stored(run) for run in Run.objects.select_related("project")}
    assert after == before
    assert before[llm_id]["total_tokens"] == 18
