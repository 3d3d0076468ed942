"""Numbers past 64 bits read back exactly, whatever the database returns.

PostgreSQL's jsonb keeps ``1e20`` as the integer 100000000000000000000, which
Python reads as an int that orjson cannot write: every read of such a run
must still answer, with the same number.
"""

import json
import uuid
from io import StringIO

import orjson
import pytest
from django.core.management import call_command

from runs.models import Project, Run

pytestmark = pytest.mark.django_db

# The request parsers keep numbers past 64 bits as doubles; 2**70 is one.
BIG = 2**70


@pytest.fixture
def run_id(client, api_prefix) -> uuid.UUID:
    run_id = uuid.uuid4()
    body = (
        b'{"post": [{"id": "%s", "name": "big", "start_time": '
        b'"2026-11-25T13:40:22+00:00", "end_time": "2026-11-25T13:40:23+00:00", '
        b'"session_name": "numbers", "inputs": {"q": 1e20}, '
        b'"outputs": {"x": 1e20, "nested": [{"y": -1e25}], "small": 3}}]}'
        % str(run_id).encode()
    )
    response = client.post(
        f"{api_prefix}/runs/batch", body, content_type="application/json"
    )
    assert response.status_code == 202
    return run_id


def _outputs_ok(outputs: dict) -> None:
    assert outputs == {"x": 1e20, "nested": [{"y": -1e25}], "small": 3}


def test_a_run_with_numbers_past_64_bits_reads_back(client, api_prefix, run_id):
    response = client.get(f"{api_prefix}/runs/{run_id}")
    assert response.status_code == 200
    _outputs_ok(orjson.loads(response.content)["outputs"])
    assert orjson.loads(response.content)["inputs"] == {"q": 1e20}


def test_roots_with_outputs_and_runs_query_read_it_back(client, api_prefix, run_id):
    roots = client.get(f"{api_prefix}/dashboard/runs/roots?fields=outputs,inputs")
    assert roots.status_code == 200
    _outputs_ok(orjson.loads(roots.content)["runs"][0]["outputs"])
    query = client.post(
        f"{api_prefix}/runs/query", b"{}", content_type="application/json"
    )
    assert query.status_code == 200
    _outputs_ok(orjson.loads(query.content)["runs"][0]["outputs"])
    io = client.get(f"{api_prefix}/dashboard/runs/{run_id}/io")
    _outputs_ok(orjson.loads(io.content)["outputs"])


def test_the_run_panel_and_its_json_download_show_it(client, run_id):
    run = Run.objects.get(id=run_id)
    panel = client.get(f"/traces/{run.trace_id}/runs/{run_id}")
    assert panel.status_code == 200
    assert b"100000000000000000000" in panel.content or b"1e+20" in panel.content
    download = client.get(f"/traces/{run.trace_id}/runs/{run_id}.json")
    assert download.status_code == 200
    _outputs_ok(orjson.loads(download.content)["outputs"])
    assert client.get(f"/traces/{run.trace_id}").status_code == 200


@pytest.mark.parametrize("fmt", ["jsonl", "json", "csv"])
def test_export_api_writes_it(client, api_prefix, run_id, fmt):
    response = client.get(f"{api_prefix}/export/runs?format={fmt}")
    assert response.status_code == 200
    text = b"".join(response.streaming_content)
    if fmt == "jsonl":
        _outputs_ok(orjson.loads(text)["outputs"])
    elif fmt == "json":
        _outputs_ok(orjson.loads(text)[0]["outputs"])
    else:
        assert b"1e+20" in text or b"100000000000000000000" in text


def test_export_command_writes_it(run_id):
    out = StringIO()
    call_command("export_runs", stdout=out)
    _outputs_ok(orjson.loads(out.getvalue())["outputs"])


def test_a_big_number_written_through_the_orm_reads_back(client, api_prefix):
    body = json.dumps({"name": "meta", "extra": {"metadata": {"n": BIG}}})
    response = client.post(
        f"{api_prefix}/sessions", body, content_type="application/json"
    )
    assert response.status_code == 201
    project = Project.objects.get(name="meta")
    read = client.get(f"{api_prefix}/sessions/{project.id}")
    assert read.status_code == 200
    assert orjson.loads(read.content)["extra"] == {"metadata": {"n": float(BIG)}}


def test_exact_writes_integers_of_any_size_as_their_digits():
    from runs.jsonnumbers import dumps

    value = {"a": [10**30, -(2**63) - 1, 2**64 - 1, True], "b": (1, 2**64)}
    assert dumps(value) == (
        b'{"a":[1000000000000000000000000000000,-9223372036854775809,'
        b'18446744073709551615,true],"b":[1,18446744073709551616]}'
    )
    with pytest.raises(TypeError):
        dumps({"a": object()})
