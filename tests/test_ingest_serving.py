"""The production command: the README's and the tests' cannot drift apart."""

import re
import shlex
import urllib.request
import uuid

import orjson
import pytest

from runs.models import Run
from tests.live import PRODUCTION_ARGS, ROOT, gunicorn_command


def _readme_production_command() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Production\n", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"^\.venv/bin/gunicorn .*$", section, re.MULTILINE)
    assert len(commands) == 1, commands
    return shlex.split(commands[0])


def test_readme_production_command_is_the_one_the_tests_start():
    command = _readme_production_command()
    assert command[0] == ".venv/bin/gunicorn"
    assert command[1:] == PRODUCTION_ARGS
    assert gunicorn_command(8123)[3:] == [*PRODUCTION_ARGS, "--bind", "127.0.0.1:8123"]


def test_gunicorn_config_reads_host_port_and_request_timeout(monkeypatch):
    monkeypatch.setenv("HOST", "0.0.0.0")
    monkeypatch.setenv("PORT", "9001")
    monkeypatch.setenv("REQUEST_TIMEOUT", "45")
    namespace: dict = {"__file__": str(ROOT / "gunicorn.conf.py")}
    exec(
        compile((ROOT / "gunicorn.conf.py").read_text(), "gunicorn.conf.py", "exec"),
        namespace,
    )
    assert (namespace["bind"], namespace["timeout"]) == ("0.0.0.0:9001", 45)


@pytest.mark.e2e
def test_the_production_command_serves_and_ingests(
    live_server_process, live_url, api_prefix
):
    assert live_server_process.command == gunicorn_command(live_server_process.port)
    run_id = uuid.uuid4()
    body = orjson.dumps(
        {
            "post": [
                {
                    "id": str(run_id),
                    "name": "through production",
                    "start_time": "2026-11-25T12:00:00Z",
                    "end_time": "2026-11-25T12:00:02Z",
                    "session_name": "serving",
                }
            ]
        }
    )
    request = urllib.request.Request(
        f"{live_url}{api_prefix}/runs/batch",
        data=body,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:
        assert response.status == 202
    run = Run.objects.get(id=run_id)
    assert (run.name, run.status, run.project.name) == (
        "through production",
        "success",
        "serving",
    )
