#!/usr/bin/env python3
"""Ingestion benchmark: the real server against the raw insert ceiling.

    .venv/bin/python bench/ingest.py [--database-url URL] [--clients N] [--batches M]
    .venv/bin/python bench/ingest.py --sdk           # one langsmith client, flat out
    .venv/bin/python bench/ingest.py --otlp          # OTLP protobuf beside multipart
    .venv/bin/python bench/ingest.py --pricing-ab    # PRICE_RUNS off vs on
    .venv/bin/python bench/ingest.py --otlp-grpc     # OTLP/gRPC beside OTLP/HTTP

Creates a fresh database (a SQLite file in a temp dir, or a throwaway PostgreSQL
database next to the one URL names), migrates it, starts the production server
command on a free port and has N clients each send M SDK-shaped requests of 100
runs (10 per trace, post and patch parts as langsmith 0.15 sends them, zstd).
Every acknowledged run is checked in the database. Then the same rows go
straight into the same table with executemany (one commit per 100): the
ceiling. Payload builders are pluggable (``PAYLOADS``) so other wire formats
can be measured the same way.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import orjson
import zstandard

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import otlp  # noqa: E402
from bench.ingest_db import BenchDatabase  # noqa: E402
from tests.grpc_live import GrpcReceiver  # noqa: E402
from tests.live import ServerProcess, free_port, gunicorn_command  # noqa: E402

WORDS = (
    "agent tool call result model token stream answer question context retrieve "
    "document summary plan step observation thought action input output error "
    "latency prompt system user assistant message chain graph node edge state"
).split()
BOUNDARY = "3b1f0e9c2d8a4f6e9b7c5a3d1e0f2a4b"


def text(rng: random.Random, size: int) -> str:
    words: list[str] = []
    length = 0
    while length < size:
        word = rng.choice(WORDS)
        words.append(word)
        length += len(word) + 1
    return " ".join(words)


@dataclass
class Payload:
    body: bytes
    headers: dict[str, str]
    run_ids: list[uuid.UUID]
    rows: list[dict] = field(default_factory=list)  # final state, for the ceiling


def sdk_runs(rng: random.Random, runs: int, project: str) -> list[dict]:
    """Finished runs shaped like langsmith 0.15's: 10 per trace, ~6 KB each."""
    out = []
    base = datetime.now(UTC)
    for trace_start in range(0, runs, 10):
        root = uuid.uuid4()
        root_time = base + timedelta(milliseconds=trace_start)
        root_dotted = root_time.strftime("%Y%m%dT%H%M%S%fZ") + str(root)
        for index in range(min(10, runs - trace_start)):
            run_id = root if index == 0 else uuid.uuid4()
            start = root_time + timedelta(microseconds=index * 37)
            dotted = (
                root_dotted
                if index == 0
                else f"{root_dotted}.{start.strftime('%Y%m%dT%H%M%S%fZ')}{run_id}"
            )
            out.append(
                {
                    "id": run_id,
                    "trace_id": root,
                    "parent_run_id": None if index == 0 else root,
                    "dotted_order": dotted,
                    "name": f"step_{index}",
                    "run_type": "llm" if index % 3 == 1 else "chain",
                    "start_time": start,
                    "end_time": start + timedelta(milliseconds=120),
                    "session_name": project,
                    "inputs": {
                        "messages": [{"role": "user", "content": text(rng, 2600)}]
                    },
                    "outputs": {
                        "output": text(rng, 2500),
                        "usage_metadata": {
                            "input_tokens": 600,
                            "output_tokens": 420,
                            "total_tokens": 1020,
                            "input_token_details": {"cache_read": 200},
                            "output_token_details": {"reasoning": 100},
                        },
                    },
                    "extra": {
                        "metadata": {
                            # A listed model, so that pricing does its arithmetic.
                            "ls_model_name": "gpt-4o-mini",
                            "ls_provider": "openai",
                        },
                        "runtime": {
                            "sdk": "langsmith-py",
                            "sdk_version": "0.15.1",
                            "library": "langsmith",
                            "platform": "Linux-6.1-x86_64-with-glibc2.36",
                            "runtime": "python",
                            "py_implementation": "CPython",
                            "runtime_version": "3.13.1",
                            "langchain_version": None,
                            "langchain_core_version": "1.8.3",
                        },
                        "note": text(rng, 150),
                    },
                    "events": [
                        {"name": "start", "time": start.isoformat()},
                        {
                            "name": "end",
                            "time": (start + timedelta(0.0014)).isoformat(),
                        },
                    ],
                    "tags": ["bench", f"seq:step:{index}"],
                }
            )
    return out


def _part(name: str, value: object) -> bytes:
    data = orjson.dumps(value, option=orjson.OPT_SERIALIZE_UUID)
    return (
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n'
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
        ).encode()
        + data
        + b"\r\n"
    )


def multipart_payload(rng: random.Random, runs: int, project: str) -> Payload:
    """One zstd multipart request: every create's parts, then every patch's."""
    rows = sdk_runs(rng, runs, project)
    parts = []
    for row in rows:
        post = {k: row[k] for k in ("id", "trace_id", "dotted_order", "name")}
        post |= {
            "start_time": row["start_time"].isoformat(),
            "session_name": project,
            "run_type": row["run_type"],
            "tags": row["tags"],
        }
        if row["parent_run_id"]:
            post["parent_run_id"] = row["parent_run_id"]
        parts.append(_part(f"post.{row['id']}", post))
        parts.append(_part(f"post.{row['id']}.inputs", row["inputs"]))
        parts.append(_part(f"post.{row['id']}.extra", row["extra"]))
        parts.append(_part(f"post.{row['id']}.events", row["events"][:1]))
    for row in rows:
        patch = {k: row[k] for k in ("id", "trace_id", "dotted_order", "parent_run_id")}
        patch |= {"name": None, "run_type": None, "tags": None, "session_id": None}
        patch |= {"session_name": None, "end_time": row["end_time"].isoformat()}
        parts.append(_part(f"patch.{row['id']}", patch))
        parts.append(_part(f"patch.{row['id']}.outputs", row["outputs"]))
        parts.append(_part(f"patch.{row['id']}.events", row["events"]))
    raw = b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()
    compressor = zstandard.ZstdCompressor(level=1).compressobj()
    body = compressor.compress(raw) + compressor.flush()
    headers = {
        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
        "Content-Encoding": "zstd",
    }
    return Payload(body, headers, [row["id"] for row in rows], rows)


def otlp_payload(rng: random.Random, spans: int, project: str) -> Payload:
    """One OTLP/HTTP protobuf export of ``spans`` spans (see bench/otlp.py)."""
    return Payload(*otlp.build(rng, spans, project, text))


# name -> (path under the API prefix, builder(rng, runs, project) -> Payload)
PAYLOADS: dict[str, tuple[str, Callable[[random.Random, int, str], Payload]]] = {
    "multipart": ("/runs/multipart", multipart_payload),
    "otlp": (otlp.PATH, otlp_payload),
    # The same exports as "otlp", sent to manage.py serve_otlp_grpc.
    "otlp-grpc": ("", otlp_payload),
}


def _gunicorn(port: int, app: str, *flags: str) -> list[str]:
    return [sys.executable, "-m", "gunicorn", app, "--bind", f"127.0.0.1:{port}"] + [
        *flags
    ]


SERVERS: dict[str, Callable[[int], list[str]]] = {
    # The production command of the README (tests/live.py keeps it).
    "production": gunicorn_command,
    # Alternatives measured against it.
    "sync": lambda port: _gunicorn(
        port, "agentspy.wsgi:application", "--workers", "2", "--timeout", "60"
    ),
    "gthread8": lambda port: _gunicorn(
        port,
        "agentspy.wsgi:application",
        "--workers",
        "2",
        "--threads",
        "8",
        "--timeout",
        "60",
    ),
    "uvicorn": lambda port: _gunicorn(
        port,
        "agentspy.asgi:application",
        "-k",
        "uvicorn_worker.UvicornWorker",
        "--workers",
        "2",
        "--timeout",
        "60",
    ),
}


def send_all(url: str, payloads: list[list[Payload]]) -> tuple[list[float], set, float]:
    """Each client sends its payloads in turn; returns latencies, acked ids, wall."""
    latencies: list[float] = []
    acked: set[uuid.UUID] = set()
    errors: list[str] = []
    lock = threading.Lock()

    def client(mine: list[Payload]) -> None:
        with httpx.Client(timeout=120) as http:
            for payload in mine:
                began = time.perf_counter()
                response = http.post(url, content=payload.body, headers=payload.headers)
                took = time.perf_counter() - began
                with lock:
                    latencies.append(took)
                    # OTLP answers 200; a span it rejected fails check_stored.
                    if response.status_code in (200, 202):
                        acked.update(payload.run_ids)
                    else:
                        errors.append(f"{response.status_code} {response.text[:300]}")

    threads = [threading.Thread(target=client, args=(mine,)) for mine in payloads]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    if errors:
        raise SystemExit(f"{len(errors)} request(s) failed, first: {errors[0]}")
    return latencies, acked, wall


def describe(args: argparse.Namespace) -> str:
    if args.payload == "otlp-grpc":
        return f"serve_otlp_grpc --workers {args.grpc_workers}"
    return f"{args.server}, {args.payload}"


def percentile(values: list[float], pct: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(pct) - 1]


def ceiling(args: argparse.Namespace, rows: list[dict]) -> float:
    """Raw insert rate of these rows into a fresh database of the same kind."""
    with BenchDatabase.fresh(args.database_url, Path(tempfile.mkdtemp())) as db:
        db.prepare(bare=args.bare_table)
        return db.raw_insert_rate(rows, batch=args.runs)


def run_http(args: argparse.Namespace) -> float:
    rng = random.Random(args.seed)
    path, build = PAYLOADS[args.payload]
    print(f"building {args.clients}x{args.batches} {args.payload} payloads ...")
    payloads = [
        [build(rng, args.runs, "bench") for _ in range(args.batches)]
        for _ in range(args.clients)
    ]
    rows = [row for mine in payloads for p in mine for row in p.rows]
    # The ceiling is measured before and after the server, each time in a
    # fresh database, so that load from elsewhere weighs on both sides alike.
    before = ceiling(args, rows)
    with BenchDatabase.fresh(args.database_url, Path(tempfile.mkdtemp())) as db:
        print(f"database: {db.describe()}")
        db.prepare(bare=args.bare_table)
        if args.payload == "otlp-grpc":
            server = GrpcReceiver(
                env={"DATABASE_URL": db.url, "LOG_LEVEL": "WARNING"},
                workers=args.grpc_workers,
                log_path=Path(db.workdir) / "server.log",
                start_timeout=120,
            )
            url, send = server.target, otlp.grpc_send_all
        else:
            server = start_server(args, db)
            url, send = server.url + args.api_prefix + path, send_all
        with server:
            # Warm both workers (imports, connections) outside the measurement.
            send(url, [[build(random.Random(1), 10, "warmup")] for _ in range(4)])
            latencies, acked, wall = send(url, payloads)
        expected = {rid for mine in payloads for p in mine for rid in p.run_ids}
        assert acked == expected, "some runs were not acknowledged"
        missing = db.check_stored(acked)
        if missing:
            raise SystemExit(f"{missing} acknowledged runs are not stored complete")
    after = ceiling(args, rows)
    rate = len(acked) / wall
    raw = (before + after) / 2
    print(
        f"server ({describe(args)}, {args.clients} clients): {len(acked)} runs in "
        f"{wall:.2f}s = {rate:,.0f} runs/s; request latency p50 "
        f"{percentile(latencies, 50) * 1000:.0f} ms, p95 "
        f"{percentile(latencies, 95) * 1000:.0f} ms; every acknowledged run stored"
    )
    print(
        f"raw executemany ceiling (batch {args.runs}, fresh table): {raw:,.0f} rows/s "
        f"(before {before:,.0f}, after {after:,.0f})"
    )
    print(f"ratio: {rate / raw:.0%} of the raw ceiling")
    return rate


SDK_SCRIPT = """
import sys, time
from langsmith import Client, traceable
client = Client()
PAD = "x" * 2500

@traceable(client=client)
def step(i, text):
    return {"output": text[::-1]}

@traceable(client=client)
def root(i):
    for j in range(9):
        step(j, PAD)
    return {"done": i}

traces = int(sys.argv[1])
began = time.perf_counter()
for i in range(traces):
    root(i)
traced = time.perf_counter() - began
client.flush()
print(traced, time.perf_counter() - began)
"""


def start_server(args: argparse.Namespace, db: BenchDatabase) -> ServerProcess:
    """The chosen server command on a free port, serving the bench database."""
    port = free_port()
    return ServerProcess(
        command=SERVERS[args.server](port),
        port=port,
        env={
            "DATABASE_URL": db.url,
            "LOG_LEVEL": "WARNING",
            "PRICE_RUNS": "false" if getattr(args, "no_pricing", False) else "true",
        },
        log_path=Path(db.workdir) / "server.log",
        start_timeout=120,  # a loaded machine starts workers slowly
    )


def run_sdk(args: argparse.Namespace, db: BenchDatabase) -> float:
    server = start_server(args, db)
    traces = args.clients * args.batches * args.runs // 10
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANGSMITH_TRACING": "true",
        "LANGSMITH_PROJECT": "bench-sdk",
        "LANGSMITH_API_KEY": "bench",
    }
    with server:
        env["LANGSMITH_ENDPOINT"] = server.url + args.api_prefix
        done = subprocess.run(
            [sys.executable, "-c", SDK_SCRIPT, str(traces)],
            env=env,
            capture_output=True,
            check=True,
            timeout=1800,
        )
    traced, total = map(float, done.stdout.split())
    stored = db.count_runs()
    rate = stored / total
    print(
        f"one langsmith {_sdk_version()} process: {traces * 10} runs traced in "
        f"{traced:.2f}s, all sent in {total:.2f}s = {rate:,.0f} runs/s; "
        f"{stored} stored"
    )
    if stored != traces * 10:
        raise SystemExit("the SDK's runs were not all stored")
    return rate


def _sdk_version() -> str:
    from importlib.metadata import version

    return version("langsmith")


def _wire(run: dict) -> dict:
    """A run dict as it leaves the JSON decoder (ids and times as text)."""
    return {
        k: str(v)
        if isinstance(v, uuid.UUID)
        else v.isoformat()
        if isinstance(v, datetime)
        else v
        for k, v in run.items()
    }


def pricing_inprocess(args: argparse.Namespace, rounds: int = 12) -> None:
    """The ingest service itself, PRICE_RUNS off and on alternated in rounds.

    Immune to HTTP and to other processes' load as far as CPU time goes: the
    median per-run CPU time of this process (the service, and SQLite's work)
    and the median wall time per run (PostgreSQL's work too) of each side.
    """
    if not args.measure_inprocess:
        # Django is set up at import (bench.otlp): measure in a process whose
        # DATABASE_URL names the fresh database from the start.
        with BenchDatabase.fresh(args.database_url, Path(tempfile.mkdtemp())) as db:
            db.prepare(bare=False)
            subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--measure-inprocess",
                    "--runs",
                    str(args.runs),
                    "--seed",
                    str(args.seed),
                ],
                env={**os.environ, "DATABASE_URL": db.url, "LOG_LEVEL": "WARNING"},
                check=True,
            )
        return
    from django.conf import settings
    from django.db import connection

    from runs.ingest import ingest
    from runs.ingest.batch import Batch
    from runs.pricing import warm

    warm()
    rng = random.Random(args.seed)
    samples: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
    for index in range(2 * rounds + 2):
        priced = index % 2 == 1
        settings.PRICE_RUNS = priced
        batches = []
        for _ in range(10):
            batch = Batch(default_project="bench")
            for item, run in enumerate(sdk_runs(rng, args.runs, "bench")):
                batch.add_run("post", _wire(run), item=f"post[{item}]")
            batches.append(batch)
        cpu, wall = time.process_time(), time.perf_counter()
        for batch in batches:
            ingest(batch)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        if index >= 2:  # the first round of each side warms up
            per_run = 1e6 / (10 * args.runs)
            samples[priced].append((cpu * per_run, wall * per_run))
    med = {
        side: (
            statistics.median(c for c, _ in samples[side]),
            statistics.median(w for _, w in samples[side]),
        )
        for side in samples
    }
    (off_cpu, off_wall), (on_cpu, on_wall) = med[False], med[True]
    print(
        f"in-process ingest ({connection.vendor}, {rounds} rounds of "
        f"10x{args.runs} runs each side): per run {off_cpu:.0f} -> {on_cpu:.0f} us CPU "
        f"({on_cpu / off_cpu - 1:+.1%}), {off_wall:.0f} -> {on_wall:.0f} us wall "
        f"({on_wall / off_wall - 1:+.1%}) with pricing"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="sqlite://")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--batches", type=int, default=25, help="requests per client")
    parser.add_argument("--runs", type=int, default=100, help="runs per request")
    parser.add_argument("--payload", choices=sorted(PAYLOADS), default="multipart")
    parser.add_argument("--server", choices=sorted(SERVERS), default="production")
    parser.add_argument("--sdk", action="store_true", help="measure one SDK process")
    parser.add_argument(
        "--otlp",
        action="store_true",
        help="multipart, then OTLP protobuf exports of --spans spans; both rates",
    )
    parser.add_argument(
        "--otlp-grpc",
        action="store_true",
        help="OTLP/HTTP, then the same exports over OTLP/gRPC; both rates",
    )
    parser.add_argument("--spans", type=int, default=512, help="spans per export")
    parser.add_argument(
        "--grpc-workers", type=int, default=2, help="serve_otlp_grpc --workers"
    )
    parser.add_argument("--api-prefix", default="/api/v1")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--bare-table",
        action="store_true",
        help="drop runs_run's search triggers/GIN indexes first, to show their cost",
    )
    parser.add_argument(
        "--pricing-ab",
        action="store_true",
        help="the same load with PRICE_RUNS off and on, alternated (off, on, off, "
        "on): what pricing LLM runs at ingest costs",
    )
    parser.add_argument(
        "--measure-inprocess", action="store_true", help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.measure_inprocess:
        pricing_inprocess(args)
    elif args.pricing_ab:
        pricing_inprocess(args)
        rates: dict[bool, list[float]] = {False: [], True: []}
        for priced in (False, True, False, True):
            args.no_pricing = not priced
            print(f"--- PRICE_RUNS={'true' if priced else 'false'}")
            rates[priced].append(run_http(args))
        off, on = statistics.mean(rates[False]), statistics.mean(rates[True])
        print(
            f"pricing A/B: {off:,.0f} runs/s unpriced, {on:,.0f} runs/s priced: "
            f"pricing costs {1 - on / off:+.1%} of the ingest rate"
        )
    elif args.otlp:
        multipart = run_http(args)
        args.payload, args.runs = "otlp", args.spans
        spans = run_http(args)
        print(
            f"OTLP protobuf: {spans:,.0f} spans/s stored and committed, beside "
            f"multipart {multipart:,.0f} runs/s ({spans / multipart:.0%})"
        )
    elif args.otlp_grpc:
        args.payload, args.runs = "otlp", args.spans
        http = run_http(args)
        args.payload = "otlp-grpc"
        grpc = run_http(args)
        print(
            f"OTLP/gRPC: {grpc:,.0f} spans/s stored and committed, beside "
            f"OTLP/HTTP {http:,.0f} spans/s ({grpc / http:.0%})"
        )
    elif args.sdk:
        with BenchDatabase.fresh(args.database_url, Path(tempfile.mkdtemp())) as db:
            db.prepare(bare=args.bare_table)
            run_sdk(args, db)
    else:
        run_http(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
