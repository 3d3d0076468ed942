#!/usr/bin/env python3
"""evaluate() benchmark: an experiment recorded by the server against the same
evaluation with nothing uploaded.

    .venv/bin/python bench/evaluate.py [--database-url URL] [--examples 1000]

Creates a fresh database (SQLite in a temp dir, or a throwaway PostgreSQL
database beside the one URL names), starts the production server command, and
creates a dataset of N examples through the langsmith SDK. Then
``evaluate(target, data=..., evaluators=[2], max_concurrency=8)`` runs, after
an unmeasured warm-up, once with ``upload_results=False`` (no experiment, no
tracing, no feedback: the client-side ceiling) and once recording the
experiment (the target's runs, 2N scores, the project). The target sleeps a
few milliseconds, as a fast model call would. Every run and score of the
recorded experiment is checked in the database; the ratio of the two wall
times is what recording costs.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ingest_db import BenchDatabase  # noqa: E402
from tests.live import ServerProcess, free_port, gunicorn_command  # noqa: E402

TARGET_SLEEP_S = 0.005


def target(inputs: dict) -> dict:
    time.sleep(TARGET_SLEEP_S)
    return {"answer": str(inputs["n"] * 2)}


def exact(outputs: dict, reference_outputs: dict) -> dict:
    return {
        "key": "exact",
        "score": float(outputs["answer"] == reference_outputs["answer"]),
    }


def length(outputs: dict) -> dict:
    return {"key": "length", "score": len(outputs["answer"])}


def server_time(log: Path, start: int) -> tuple[int, float]:
    """Requests the server logged after byte ``start``, and their total time."""
    with log.open("rb") as handle:
        handle.seek(start)
        lines = handle.read().decode(errors="replace").splitlines()
    times = [
        float(found.group(1))
        for line in lines
        if "agentspy.requests" in line
        and (found := re.search(r" ([0-9.]+)ms", line)) is not None
    ]
    return len(times), sum(times) / 1000


def run(url: str, examples: int, log: Path) -> dict[str, Any]:
    from langsmith import Client, evaluate

    client = Client(api_url=url, api_key="bench")
    # The SDK asks GET /sessions?limit=1 for a tenant id for every example it
    # reads until some project exists; a server in use always has one.
    client.create_project(f"bench-{os.getpid()}-tracing")
    dataset = client.create_dataset(f"bench-{os.getpid()}")
    started = time.perf_counter()
    client.create_examples(
        dataset_id=dataset.id,
        examples=[
            {"inputs": {"n": i}, "outputs": {"answer": str(i * 2)}}
            for i in range(examples)
        ],
    )
    upload = time.perf_counter() - started
    timings = {"create_examples_s": upload}
    # The first evaluate() of a process pays for imports and thread pools.
    runs = (("warm-up", False), ("untraced", False), ("recorded", True))
    for label, upload_results in runs:
        logged = log.stat().st_size
        started = time.perf_counter()
        results = evaluate(
            target,
            data=dataset.name,
            evaluators=[exact, length],
            max_concurrency=8,
            client=client,
            upload_results=upload_results,
        )
        rows = list(results)
        client.flush()
        timings[f"{label}_s"] = time.perf_counter() - started
        assert len(rows) == examples, len(rows)
        if upload_results:
            timings["experiment"] = results.experiment_name
            timings["requests"], timings["server_s"] = server_time(log, logged)
    return timings


def check(db_url: str, experiment: str, examples: int) -> tuple[int, int]:
    """Every run and score acknowledged is stored; (runs, scores) stored."""
    os.environ["DATABASE_URL"] = db_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "agentspy.settings")
    import django

    django.setup()
    from runs.models import Feedback, Project, Run

    project = Project.objects.get(name=experiment)
    roots = Run.objects.filter(project=project, parent=None)
    assert roots.count() == examples, roots.count()
    assert roots.filter(reference_example_id__isnull=True).count() == 0
    scores = Feedback.objects.filter(run_id__in=roots.values("id")).count()
    assert scores == 2 * examples, scores
    # The evaluators' own runs are traced too (project "evaluators").
    return Run.objects.count(), Feedback.objects.count()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="sqlite://")
    parser.add_argument("--examples", type=int, default=1000)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    import warnings

    warnings.simplefilter("ignore")  # upload_results=False is flagged as beta
    with BenchDatabase.fresh(args.database_url, Path(tempfile.mkdtemp())) as db:
        port = free_port()
        log = Path(db.workdir) / "server.log"
        server = ServerProcess(
            # INFO: the request log gives the time the server spent.
            env={"DATABASE_URL": db.url, "LOG_LEVEL": "INFO"},
            command=gunicorn_command(port),
            port=port,
            log_path=log,
        )
        with server:
            timings = run(f"{server.url}/api/v1", args.examples, log)
        runs, scores = check(db.url, timings["experiment"], args.examples)
    untraced, recorded = timings["untraced_s"], timings["recorded_s"]
    print(
        f"database: {db.vendor}; examples: {args.examples}; evaluators: 2; "
        "max_concurrency: 8"
    )
    print(f"create_examples:               {timings['create_examples_s']:7.2f} s")
    print(f"evaluate, nothing uploaded:    {untraced:7.2f} s")
    print(
        f"evaluate, experiment recorded: {recorded:7.2f} s  "
        f"({recorded / untraced:.2f}x the unrecorded run)"
    )
    print(
        f"server, recorded run:          {timings['server_s']:7.2f} s in "
        f"{timings['requests']} requests (summed; 2 workers x 4 threads)"
    )
    print(
        f"stored: {runs} runs (targets and evaluators) and {scores} scores, "
        f"{(runs + scores) / recorded:.0f} items/s over the recorded run"
    )
    print("every run and score of the recorded experiment checked in the database")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
