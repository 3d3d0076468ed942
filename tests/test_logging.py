import json
import logging
import os
import subprocess
import sys
import uuid
from pathlib import Path

import orjson
import pytest

from agentspy.logs import JsonFormatter
from runs.apikeys import create_api_key

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent


def batch(session_name="demo", n=1):
    return orjson.dumps(
        {
            "post": [
                {
                    "id": str(uuid.uuid4()),
                    "name": "r",
                    "start_time": "2026-11-25T12:00:00Z",
                    "session_name": session_name,
                }
                for _ in range(n)
            ]
        }
    )


def request_records(caplog):
    return [r for r in caplog.records if r.name == "agentspy.requests"]


def test_one_line_per_ingest_request_with_runs_and_project(client, caplog, api_prefix):
    caplog.set_level(logging.INFO, logger="agentspy.requests")
    response = client.post(
        f"{api_prefix}/runs/batch", data=batch(n=3), content_type="application/json"
    )
    assert response.status_code == 202
    [record] = request_records(caplog)
    assert record.getMessage().startswith(f"POST {api_prefix}/runs/batch 202 ")
    assert record.getMessage().endswith("ms accepted=3 rejected=0 projects=demo")
    assert (record.method, record.path, record.status, record.route) == (
        "POST",
        f"{api_prefix}/runs/batch",
        202,
        "runs-batch",
    )
    assert (record.runs_accepted, record.runs_rejected, record.projects) == (
        3,
        0,
        ["demo"],
    )
    assert record.duration_ms > 0


def test_rejected_runs_are_counted_in_the_line(client, caplog, api_prefix):
    caplog.set_level(logging.INFO, logger="agentspy.requests")
    body = orjson.dumps({"post": [{"id": "not-a-uuid", "name": "x"}]})
    response = client.post(
        f"{api_prefix}/runs/batch", data=body, content_type="application/json"
    )
    assert response.status_code == 422
    [record] = request_records(caplog)
    assert (record.status, record.runs_accepted, record.runs_rejected) == (422, 0, 1)


def test_json_line_has_the_fields(client, caplog, api_prefix):
    caplog.set_level(logging.INFO, logger="agentspy.requests")
    client.post(
        f"{api_prefix}/runs/batch", data=batch(), content_type="application/json"
    )
    [record] = request_records(caplog)
    line = json.loads(JsonFormatter().format(record))
    assert {k: line[k] for k in ("method", "status", "route", "runs_accepted")} == {
        "method": "POST",
        "status": 202,
        "route": "runs-batch",
        "runs_accepted": 1,
    }
    assert line["logger"] == "agentspy.requests"
    assert line["level"] == "INFO"


def test_unmatched_path_is_logged_with_route_unmatched(client, caplog):
    caplog.set_level(logging.INFO, logger="agentspy.requests")
    client.get("/no/such/page/here")
    [record] = request_records(caplog)
    assert (record.status, record.route) == (404, "unmatched")


def test_health_probes_are_logged_only_at_debug(client, caplog):
    caplog.set_level(logging.INFO, logger="agentspy.requests")
    client.get("/health/live")
    assert request_records(caplog) == []
    caplog.set_level(logging.DEBUG, logger="agentspy.requests")
    client.get("/health/live")
    assert [r.levelname for r in request_records(caplog)] == ["DEBUG"]


def test_key_name_is_logged_but_never_the_key(client, caplog, settings, api_prefix):
    settings.REQUIRE_AUTH = True
    caplog.set_level(logging.DEBUG)
    new = create_api_key(name="ci-bot")
    client.post(
        f"{api_prefix}/runs/batch?api_key={new.key}",
        data=batch(),
        content_type="application/json",
        headers={"x-api-key": new.key},
    )
    [record] = request_records(caplog)
    assert record.key_name == "ci-bot"
    assert record.path == f"{api_prefix}/runs/batch"
    assert new.key not in caplog.text
    assert new.key not in JsonFormatter().format(record)


def test_log_file_gets_json_lines_without_secrets(tmp_path):
    """LOG_FILE and LOG_FORMAT=json, read back from a real process."""
    log_file = tmp_path / "agentspy.log"
    script = """
import django, os
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from django.test import Client
r = Client().get("/api/v1/info?token=query-secret",
                 headers={"Authorization": "Bearer header-secret"})
assert r.status_code == 200, r.status_code
"""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "agentspy.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "LOG_FILE": str(log_file),
        "LOG_FORMAT": "json",
        "API_KEYS": "header-secret",
        "SECRET_KEY": "a-secret-that-must-not-be-logged-0123456789",
        "API_PREFIX": "/api/v1",
    }
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, check=True)
    text = log_file.read_text()
    lines = [json.loads(line) for line in text.splitlines()]
    [line] = [x for x in lines if x["logger"] == "agentspy.requests"]
    assert (line["method"], line["path"], line["status"], line["route"]) == (
        "GET",
        "/api/v1/info",
        200,
        "info",
    )
    for secret in ("query-secret", "header-secret", "a-secret-that-must-not"):
        assert secret not in text
