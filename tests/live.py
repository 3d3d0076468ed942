"""A real Agent Spy server process for end-to-end tests.

The server is pointed at the same database pytest-django created for the test
session, so tests drive it over HTTP with real clients and then assert on the
stored rows through the ORM (tests using it need ``transactional_db``).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url_of_test_db() -> str:
    """The URL of the database the test session is using right now."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    user = settings.get("USER") or "postgres"
    password = f":{settings['PASSWORD']}" if settings.get("PASSWORD") else ""
    host = settings.get("HOST") or "127.0.0.1"
    port = settings.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{settings['NAME']}"


# The production command of README "Production" (a test keeps the two equal).
PRODUCTION_ARGS = [
    "-c",
    "gunicorn.conf.py",
    "agentspy.wsgi:application",
    "--workers",
    "2",
    "--threads",
    "4",
]


def gunicorn_command(port: int) -> list[str]:
    """The production command of the README, bound to a test port."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        *PRODUCTION_ARGS,
        "--bind",
        f"127.0.0.1:{port}",
    ]


class ServerProcess:
    def __init__(
        self,
        *,
        env: dict[str, str] | None = None,
        command: list[str] | None = None,
        port: int | None = None,
        log_path: Path | None = None,
        start_timeout: float = 60,
    ) -> None:
        self.start_timeout = start_timeout
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.command = command or gunicorn_command(self.port)
        env = env or {}
        self.env = {
            **os.environ,
            "DATABASE_URL": env.get("DATABASE_URL") or database_url_of_test_db(),
            "PYTHONUNBUFFERED": "1",
            **env,
        }
        self.log_path = (
            log_path
            or Path(os.environ.get("AGENTSPY_TEST_ARTIFACTS", ROOT / "test-artifacts"))
            / f"server-{self.port}.log"
        )
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float | None = None) -> ServerProcess:
        timeout = timeout or self.start_timeout
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "wb")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(
            self.command,
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"server exited with {self.process.returncode}:\n"
                    + self.log_path.read_text(errors="replace")[-3000:]
                )
            if self.ready():
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("server did not become ready in time")

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/health/ready", timeout=2):
                return True
        except OSError:
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
