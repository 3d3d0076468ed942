"""dev.py and the README's commands, as a new user runs them from a fresh clone."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import warnings
from pathlib import Path

import pytest

from tests.live import PRODUCTION_ARGS, ROOT, free_port

sys.path.insert(0, str(ROOT))
import dev  # noqa: E402


def readme_commands(prefix: str) -> list[str]:
    """Lines of the README's shell blocks that start with ``prefix``."""
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"^```sh\n(.*?)^```", readme, re.MULTILINE | re.DOTALL)
    lines = [line for block in blocks for line in block.splitlines()]
    return [line for line in lines if line.startswith(prefix)]


@pytest.fixture(scope="module")
def fresh_copy(tmp_path_factory) -> Path:
    """The repository's files as a clone has them, with this checkout's .venv
    linked in (installing it again would cost a minute and test nothing new)."""
    copy = tmp_path_factory.mktemp("clone") / "agent-spy"
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, (n.decode() for n in listed)):
        source = ROOT / name
        if source.is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy / name)
    (copy / ".venv").symlink_to(ROOT / ".venv")
    return copy


def clean_env(**extra: str) -> dict[str, str]:
    """A user's shell: no test database, no virtualenv on PATH."""
    dropped = ("DATABASE_URL", "MEDIA_ROOT", "VIRTUAL_ENV", "DJANGO_SETTINGS_MODULE")
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env["PATH"] = os.pathsep.join(
        p for p in env.get("PATH", "").split(os.pathsep) if ".venv" not in p
    )
    return {**env, **extra}


def test_the_readme_writes_every_management_command_through_dev_py():
    readme = (ROOT / "README.md").read_text()
    assert re.findall(r"(?<!/)python3? manage\.py", readme) == []
    assert len(readme_commands("python3 dev.py manage ")) >= 15


@pytest.mark.e2e
def test_the_readme_management_commands_work_as_written_in_a_fresh_clone(fresh_copy):
    commands = readme_commands("python3 dev.py manage ")
    assert commands[0].startswith("python3 dev.py manage migrate")
    for command in commands:
        done = subprocess.run(
            ["bash", "-c", command],
            cwd=fresh_copy,
            env=clean_env(),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, (command, done.stdout[-2000:], done.stderr[-2000:])
    assert (fresh_copy / "agentspy.db").exists()


def test_serve_runs_the_production_command_and_adding_a_process_is_one_line():
    assert dev.GUNICORN == ["-m", "gunicorn", *PRODUCTION_ARGS]
    assert dev.PROCESSES == [
        ("web", dev.GUNICORN),
        ("rollups", ["manage.py", "compact_rollups", "--every", "30"]),
        ("otlp-grpc", ["manage.py", "serve_otlp_grpc"]),
        ("alerts", ["manage.py", "evaluate_alerts", "--loop", "--interval", "60"]),
    ]


def test_a_busy_port_is_named_with_its_variable():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "dev.py", "serve"],
            cwd=ROOT,
            env=clean_env(PORT=str(port), HOST="127.0.0.1"),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1
    assert done.stderr.startswith(
        f"PORT={port} is already in use on 127.0.0.1 (another server is running?): "
        f"stop it, or choose another port, e.g. PORT={port + 1} python3 dev.py serve"
    )


def _children(pid: int) -> list[int]:
    out = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True
    ).stdout
    return [int(p) for p in out.split()]


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@pytest.mark.e2e
def test_serve_answers_with_gunicorn_and_sigterm_stops_everything(fresh_copy):
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "dev.py", "serve"],
        cwd=fresh_copy,
        env=clean_env(PORT=str(port), OTLP_GRPC_PORT=str(free_port())),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, server.stdout.read()
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/health/ready", timeout=2
                ) as response:
                    assert response.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline, "serve did not answer"
                time.sleep(0.2)
        supervised = _children(server.pid)
        assert len(supervised) == len(dev.PROCESSES)
        commands = [
            Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") for pid in supervised
        ]
        assert sorted(c[1:3] for c in commands) == [
            [b"-m", b"gunicorn"],
            [b"manage.py", b"compact_rollups"],
            [b"manage.py", b"evaluate_alerts"],
            [b"manage.py", b"serve_otlp_grpc"],
        ]
        [gunicorn] = [
            pid for pid, c in zip(supervised, commands, strict=True) if b"gunicorn" in c
        ]
        assert len(_children(gunicorn)) == 2
        workers = [w for pid in supervised for w in _children(pid)]
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
    finally:
        if server.poll() is None:
            server.kill()
    for pid in supervised + workers:
        assert not Path(f"/proc/{pid}").exists() or (
            b"zombie" in Path(f"/proc/{pid}/status").read_bytes().lower()
        )
    assert _port_free(port)


SLEEPER = ["-c", "import time; time.sleep(120)"]


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_the_supervisor_stops_every_process_of_its_list(stop):
    script = (
        "import sys; sys.path.insert(0, '.'); import dev;"
        "dev.PYTHON = sys.executable;"
        f"sys.exit(dev.supervise([('a', {SLEEPER!r}), ('b', {SLEEPER!r})],"
        " reload=False))"
    )
    supervisor = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT)
    deadline = time.monotonic() + 30
    while len(_children(supervisor.pid)) < 2:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    children = _children(supervisor.pid)
    supervisor.send_signal(stop)
    assert supervisor.wait(timeout=30) == 0
    assert [pid for pid in children if Path(f"/proc/{pid}").exists()] == []


def test_the_supervisor_stops_the_others_when_one_process_exits():
    script = (
        "import sys; sys.path.insert(0, '.'); import dev;"
        "dev.PYTHON = sys.executable;"
        f"sys.exit(dev.supervise([('a', {SLEEPER!r}),"
        " ('b', ['-c', 'raise SystemExit(3)'])], reload=False))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (done.returncode, done.stdout) == (3, "b exited with status 3\n")


def test_no_static_root_warning_before_collectstatic(settings, tmp_path, client):
    from agentspy.static import StaticFilesMiddleware

    settings.STATIC_ROOT = tmp_path / "not-collected"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        middleware = StaticFilesMiddleware(lambda request: None)
    assert "/static/agentspy/app.css" in middleware.files
    (tmp_path / "collected").mkdir()
    (tmp_path / "collected" / "only-collected.txt").write_text("x")
    settings.STATIC_ROOT = tmp_path / "collected"
    middleware = StaticFilesMiddleware(lambda request: None)
    assert "/static/only-collected.txt" in middleware.files


@pytest.mark.django_db(transaction=True)
def test_compact_rollups_folds_once_and_stops_on_sigterm_in_loop_mode():
    from io import StringIO

    from django.core.management import call_command

    from runs.models import RunRollup
    from tests.factories import RunFactory
    from tests.live import database_url_of_test_db

    RunFactory()
    assert RunRollup.objects.filter(id__gt=0).exists()  # a delta waits

    out = StringIO()
    call_command("compact_rollups", stdout=out)
    assert out.getvalue() == "Rollups folded.\n"
    assert not RunRollup.objects.filter(id__gt=0).exists()
    loop = subprocess.Popen(
        [sys.executable, "manage.py", "compact_rollups", "--every", "0.2"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url_of_test_db()},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert loop.stdout.readline() == "Folding rollups every 0.2s (SIGTERM stops).\n"
    time.sleep(0.5)
    assert loop.poll() is None
    loop.send_signal(signal.SIGTERM)
    assert loop.wait(timeout=20) == 0


def in_a_new_worker(code: str) -> str:
    """What ``code`` prints in a new interpreter that loaded what a worker loads."""
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "DATABASE_URL": "sqlite:///:memory:"},
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_worker_loads_every_url_module_before_its_first_request():
    code = (
        "import sys; import agentspy.wsgi;"
        "print(all(m in sys.modules for m in ('runs.api.session_views',"
        " 'drf_spectacular.views', 'dashboard.views.traces')))"
    )
    assert in_a_new_worker(code) == "True"


def test_a_worker_builds_url_lookups_and_compiles_templates_before_its_first_request():
    code = (
        "import agentspy.wsgi;"
        "from django.urls import get_resolver;"
        "from django.template import engines;"
        "r = get_resolver();"
        "loader = engines['django'].engine.template_loaders[0];"
        "print(bool(r._reverse_dict), all(s._reverse_dict for _, s in"
        " r.namespace_dict.values()),"
        " any('_chart_bars' in str(k) for k in loader.get_template_cache))"
    )
    assert in_a_new_worker(code) == "True True True"
