"""``manage.py serve_otlp_grpc``: the OTLP/gRPC trace receiver, a second process.

Binds ``OTLP_GRPC_HOST``:``OTLP_GRPC_PORT`` (4317, the OTLP/gRPC default).
SIGTERM or SIGINT stops accepting calls, lets the exports in flight finish
(for up to ``REQUEST_TIMEOUT`` seconds) and exits: an ``Export`` that was
answered OK was committed before its answer.

``--workers N`` (``OTLP_GRPC_WORKERS``) runs N receiver processes on the one
port (``SO_REUSEPORT``): a Python process decodes on one core, as a gunicorn
worker does; this parent only starts them and passes signals on.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from argparse import SUPPRESS
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from runs.otel.grpc_server import build_server

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Command(BaseCommand):
    help = "Receive OpenTelemetry traces over OTLP/gRPC (TraceService/Export)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default=None, help="default: OTLP_GRPC_HOST")
        parser.add_argument(
            "--port", type=int, default=None, help="default: OTLP_GRPC_PORT (4317)"
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=None,
            help="receiver processes sharing the port (default: OTLP_GRPC_WORKERS)",
        )
        parser.add_argument(
            "--threads",
            type=int,
            default=None,
            help="concurrent exports per process (default: OTLP_GRPC_THREADS)",
        )
        # Set by the supervising parent of --workers N: share the port.
        parser.add_argument("--reuse-port", action="store_true", help=SUPPRESS)

    def handle(
        self,
        *,
        host: str | None,
        port: int | None,
        workers: int | None,
        threads: int | None,
        reuse_port: bool,
        **options: Any,
    ) -> None:
        host = host or settings.OTLP_GRPC_HOST
        port = settings.OTLP_GRPC_PORT if port is None else port
        workers = workers or settings.OTLP_GRPC_WORKERS
        threads = threads or settings.OTLP_GRPC_THREADS
        if not 0 < port < 65536:
            raise CommandError(f"--port {port} is not a TCP port (1-65535).")
        if workers < 1 or threads < 1:
            raise CommandError("--workers and --threads must be at least 1.")
        if workers > 1:
            sys.exit(self._supervise(host, port, workers, threads))
        self._serve(host, port, threads, reuse_port=reuse_port)

    def _serve(self, host: str, port: int, threads: int, *, reuse_port: bool) -> None:
        try:
            server, bound = build_server(
                host, port, threads=threads, reuse_port=reuse_port
            )
        except RuntimeError as exc:  # grpcio's bind failure (port in use, ...)
            raise CommandError(f"Could not bind {host}:{port}: {exc}") from None
        if not bound:
            raise CommandError(f"Could not bind {host}:{port} for OTLP/gRPC.")
        stop = threading.Event()
        for signum in STOP_SIGNALS:
            signal.signal(signum, lambda *_: stop.set())
        server.start()
        self.stdout.write(
            f"Agent Spy OTLP/gRPC receiver on {host}:{bound} "
            f"({threads} threads, TraceService/Export)"
        )
        self.stdout.flush()
        stop.wait()
        grace = settings.REQUEST_TIMEOUT
        self.stdout.write(f"Stopping: finishing exports in flight (up to {grace}s)")
        self.stdout.flush()
        server.stop(grace).wait()
        self.stdout.write(self.style.SUCCESS("OTLP/gRPC receiver stopped."))

    def _supervise(self, host: str, port: int, workers: int, threads: int) -> int:
        """Start ``workers`` single-process receivers; stop them on a signal."""
        manage = Path(settings.BASE_DIR) / "manage.py"
        command = [
            sys.executable,
            str(manage),
            "serve_otlp_grpc",
            "--host",
            host,
            "--port",
            str(port),
            "--workers",
            "1",
            "--threads",
            str(threads),
        ]
        children = [
            subprocess.Popen([*command, "--reuse-port"]) for _ in range(workers)
        ]
        stopping = threading.Event()

        def forward(signum: int, frame: Any) -> None:
            stopping.set()
            for child in children:
                if child.poll() is None:
                    child.send_signal(signum)

        for signum in STOP_SIGNALS:
            signal.signal(signum, forward)
        # One receiver that dies on its own (a bind error, a crash) stops all.
        while all(child.poll() is None for child in children):
            stopping.wait(0.5)
        if not stopping.is_set():
            forward(signal.SIGTERM, None)
        codes = [child.wait() for child in children]
        return max(codes, key=abs)
