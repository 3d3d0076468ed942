#!/usr/bin/env python3
"""Agent Spy's everyday commands, needing nothing but Python 3.12+.

    python3 dev.py serve [--reload]  # make .venv, install, migrate, serve on :8000
    python3 dev.py manage COMMAND    # a Django management command, in .venv
    python3 dev.py test              # make .venv, install, run the test suite
    python3 dev.py install           # only make .venv and install (used by CI)

``serve`` runs the production server (gunicorn with the README's settings) and
every other long-running process in ``PROCESSES``, and stops them all on
Ctrl-C or SIGTERM; ``--reload`` restarts the web server when code changes.
Extra arguments after ``test`` go to pytest, after ``manage`` to manage.py.
"""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PYTHON = VENV / "bin" / "python"
REQUIREMENTS = ROOT / "requirements" / "dev.txt"
STAMP = VENV / ".requirements.sha256"

# The production command of README "Production" (tests/live.py starts the same).
GUNICORN = ["-m", "gunicorn", "-c", "gunicorn.conf.py", "agentspy.wsgi:application"]
GUNICORN += ["--workers", "2", "--threads", "4"]
# The long-running processes of ``serve``: (name, arguments to .venv's python).
# One line per process; all start together and stop together.
PROCESSES: list[tuple[str, list[str]]] = [
    ("web", GUNICORN),
    ("rollups", ["manage.py", "compact_rollups", "--every", "30"]),
    # OTLP/gRPC receiver on OTLP_GRPC_PORT (default 4317).
    ("otlp-grpc", ["manage.py", "serve_otlp_grpc"]),
    # Alert rules evaluated once a minute.
    ("alerts", ["manage.py", "evaluate_alerts", "--loop", "--interval", "60"]),
]
STOP_SECONDS = 10


def ensure_venv() -> None:
    if sys.version_info < (3, 12):  # noqa: UP036 - run by any system python3
        sys.exit(
            f"Agent Spy needs Python 3.12 or newer, this is {sys.version.split()[0]}"
        )
    if not PYTHON.exists():
        print(f"Creating {VENV} ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == digest:
        return
    print("Installing requirements/dev.txt ...", flush=True)
    subprocess.run(
        [str(PYTHON), "-m", "pip", "install", "-q", "-r", str(REQUIREMENTS)],
        check=True,
    )
    STAMP.write_text(digest)


def run(*args: str) -> int:
    return subprocess.call([str(PYTHON), *args], cwd=ROOT)


def port_in_use(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def supervise(processes: list[tuple[str, list[str]]], *, reload: bool) -> int:
    """Run every process until one exits or a signal comes; then stop them all.

    Each runs in a process group of its own, so stopping a group also stops the
    workers it forked, and the port is free when this returns.
    """
    stopping: list[int] = []

    def on_signal(signum: int, _frame: object) -> None:
        stopping.append(signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    children: list[tuple[str, subprocess.Popen]] = []
    for name, args in processes:
        extra = ["--reload"] if reload and args[:2] == ["-m", "gunicorn"] else []
        children.append(
            (
                name,
                subprocess.Popen(
                    [str(PYTHON), *args, *extra], cwd=ROOT, start_new_session=True
                ),
            )
        )
    code = 0
    while not stopping:
        exited = [(n, p) for n, p in children if p.poll() is not None]
        if exited:
            name, process = exited[0]
            print(f"{name} exited with status {process.returncode}", flush=True)
            code = process.returncode or 1
            break
        time.sleep(0.2)
    for _, process in children:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_SECONDS
    for _, process in children:
        try:
            process.wait(max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    return code


def serve(args: list[str]) -> int:
    host = os.environ.get("HOST", "127.0.0.1")
    port = os.environ.get("PORT", "8000")
    if not port.isdigit():
        print(f"PORT={port} is not a port number", file=sys.stderr)
        return 2
    if port_in_use(host, int(port)):
        print(
            f"PORT={port} is already in use on {host} (another server is running?):"
            f" stop it, or choose another port, e.g. PORT={int(port) + 1}"
            " python3 dev.py serve",
            file=sys.stderr,
        )
        return 1
    ensure_venv()
    if run("manage.py", "migrate", "--no-input", "-v", "1"):
        return 1
    if run("manage.py", "collectstatic", "--no-input", "-v", "0"):
        return 1
    print(f"Agent Spy on http://localhost:{port}/  (API at /api/v1)", flush=True)
    return supervise(PROCESSES, reload="--reload" in args)


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "help"
    if command == "serve":
        return serve(argv[1:])
    if command == "manage":
        ensure_venv()
        return run("manage.py", *argv[1:])
    if command == "install":
        ensure_venv()
        return 0
    if command == "test":
        ensure_venv()
        return run("-m", "pytest", *argv[1:])
    print(__doc__)
    return 0 if command == "help" else 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
