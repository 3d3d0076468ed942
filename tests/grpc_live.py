"""A real ``manage.py serve_otlp_grpc`` process, for end-to-end tests and bench/."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

from tests.live import ROOT, ServerProcess, free_port

# What each receiver process prints once its port is bound.
LISTENING = "OTLP/gRPC receiver on"


def receiver_command(port: int, *extra: str) -> list[str]:
    return [
        sys.executable,
        str(ROOT / "manage.py"),
        "serve_otlp_grpc",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        *extra,
    ]


class GrpcReceiver(ServerProcess):
    """Ready when every receiver process has said it listens."""

    def __init__(
        self,
        *,
        env: dict[str, str] | None = None,
        args: tuple[str, ...] = (),
        workers: int = 1,
        log_path: Path | None = None,
        start_timeout: float = 60,
    ) -> None:
        port = free_port()
        super().__init__(
            env=env,
            command=receiver_command(port, "--workers", str(workers), *args),
            port=port,
            log_path=log_path,
            start_timeout=start_timeout,
        )
        self.target = f"127.0.0.1:{port}"
        self.workers = workers

    def ready(self) -> bool:
        try:
            log = self.log_path.read_text(errors="replace")
        except OSError:
            return False
        if log.count(LISTENING) < self.workers:
            return False
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
        except OSError:
            return False

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")
