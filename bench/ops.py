#!/usr/bin/env python3
"""Operations benchmark: export, import and purge of a large run store.

    .venv/bin/python bench/ops.py --runs 1000000 \
        --database-url sqlite:////tmp/agentspy-bench/ops.db --port 18400

Steps, each a real ``manage.py`` process (its wall time includes Django's
start-up, and its peak memory is the process's ru_maxrss):
  1. seed --runs runs over 30 days with ``seed_runs`` (into an empty store);
  2. ``export_runs`` every run to a .jsonl.zst file: runs/s and peak memory;
  3. start a gunicorn server on the same database and send small batches
     from --clients clients: ingest latency p50/p95 with nothing else going on,
     then while ``purge_runs --older-than 15d`` deletes about half the traces;
  4. empty the runs table and ``import_runs`` the export: runs/s, peak memory.
The database must be one the benchmark may wipe.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent


def run_command(args: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    """Run ``manage.py args``; return wall seconds, peak RSS in MB, output."""
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    output = process.stdout.read().decode(errors="replace")
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.monotonic() - started
    if process.returncode not in (0, 1):
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{output[-3000:]}")
    return elapsed, usage.ru_maxrss // 1024, output


def last_line(output: str) -> str:
    lines = [x for x in re.split(r"[\r\n]", output) if x.strip()]
    return lines[-1] if lines else ""


class Load:
    """Clients posting batches of small runs; records each request's latency."""

    def __init__(self, url: str, clients: int, batch: int) -> None:
        self.url = f"{url}/api/v1/runs/batch"
        self.clients = clients
        self.batch = batch
        self.latencies: list[tuple[float, float]] = []  # (sent at, seconds)
        self.errors = 0
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def _client(self) -> None:
        while not self._stop.is_set():
            now = datetime.now(UTC).isoformat()
            body = orjson.dumps(
                {
                    "post": [
                        {
                            "id": str(uuid.uuid4()),
                            "name": "live",
                            "start_time": now,
                            "end_time": now,
                            "inputs": {"q": "x" * 500},
                            "outputs": {"a": "y" * 500},
                            "session_name": "bench-live",
                        }
                        for _ in range(self.batch)
                    ]
                }
            )
            request = urllib.request.Request(
                self.url, data=body, headers={"Content-Type": "application/json"}
            )
            sent = time.monotonic()
            try:
                with urllib.request.urlopen(request, timeout=120) as response:
                    response.read()
                self.latencies.append((sent, time.monotonic() - sent))
            except OSError:
                self.errors += 1

    def start(self) -> None:
        self._threads = [
            threading.Thread(target=self._client, daemon=True)
            for _ in range(self.clients)
        ]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=150)

    def between(self, start: float, end: float) -> list[float]:
        return [lat for sent, lat in self.latencies if start <= sent < end]


def percentiles(values: list[float]) -> str:
    if len(values) < 2:
        return f"{len(values)} requests"
    q = statistics.quantiles(values, n=100)
    return (
        f"{len(values)} requests, p50 {q[49] * 1000:.0f} ms, "
        f"p95 {q[94] * 1000:.0f} ms, max {max(values) * 1000:.0f} ms"
    )


def wait_ready(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("server exited")
        try:
            with urllib.request.urlopen(f"{url}/health/ready", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--port", type=int, default=18400)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--baseline-seconds", type=float, default=15)
    parser.add_argument("--workdir", default="/tmp/agentspy-bench")
    parser.add_argument("--skip-seed", action="store_true")
    parser.add_argument(
        "--purge-batch-size", type=int, default=200, help="purge_runs --batch-size"
    )
    options = parser.parse_args()

    workdir = Path(options.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "DATABASE_URL": options.database_url,
        "DJANGO_SETTINGS_MODULE": "agentspy.settings",
        "API_PREFIX": "/api/v1",
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection

    from runs.models import Run

    print(f"database: {connection.vendor}, {options.runs:,} runs")
    run_command(["migrate", "--no-input", "-v", "0"], env)
    if not options.skip_seed:
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {Run._meta.db_table}")  # noqa: S608
        seconds, rss, out = run_command(["seed_runs", "--runs", str(options.runs)], env)
        print(f"seed: {seconds:.0f}s ({last_line(out)})")
    total = Run.objects.count()

    export_file = workdir / "export.jsonl.zst"
    seconds, rss, out = run_command(["export_runs", "-o", str(export_file)], env)
    print(
        f"export: {total:,} runs in {seconds:.1f}s wall = {total / seconds:,.0f} "
        f"runs/s, peak RSS {rss} MB, file {export_file.stat().st_size / 1e6:,.0f} "
        f"MB zstd ({last_line(out)})"
    )

    url = f"http://127.0.0.1:{options.port}"
    empty_config = workdir / "gunicorn-empty.conf.py"
    empty_config.write_text("")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "agentspy.wsgi:application",
            # Only the flags below: a local gunicorn.conf.py must not change them.
            "--config",
            str(empty_config),
            "--bind",
            f"127.0.0.1:{options.port}",
            "--workers",
            "2",
            "--threads",
            "4",
            "--timeout",
            "120",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_ready(url, server)
        load = Load(url, options.clients, options.batch)
        load.start()
        base_start = time.monotonic()
        time.sleep(options.baseline_seconds)
        purge_start = time.monotonic()
        seconds, rss, out = run_command(
            [
                "purge_runs",
                "--older-than",
                "15d",
                "--batch-size",
                str(options.purge_batch_size),
            ],
            env,
        )
        purge_end = time.monotonic()
        time.sleep(2)
        load.stop()
    finally:
        server.terminate()
        server.wait(timeout=30)
    summary = [x for x in out.splitlines() if x.startswith(("Deleted", "Space"))]
    print(f"purge: {seconds:.1f}s wall, peak RSS {rss} MB; " + " ".join(summary))
    print(f"ingest before purge: {percentiles(load.between(base_start, purge_start))}")
    print(f"ingest during purge: {percentiles(load.between(purge_start, purge_end))}")
    print(f"ingest errors: {load.errors}")

    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {Run._meta.db_table}")  # noqa: S608
    seconds, rss, out = run_command(["import_runs", str(export_file)], env)
    imported = Run.objects.count()
    print(
        f"import: {imported:,} runs in {seconds:.1f}s wall = "
        f"{imported / seconds:,.0f} runs/s, peak RSS {rss} MB "
        f"({last_line(out)})"
    )


if __name__ == "__main__":
    main()
