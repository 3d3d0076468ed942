#!/usr/bin/env python3
"""Query benchmark: the exploration API over a realistic million-run store.

    .venv/bin/python bench/query.py [--database-url URL] [--runs 1000000]
                                    [--iterations 30] [--only TEXT ...]

Seeds the database with ``manage.py seed_runs`` (plus one 10,000-run trace)
unless it already holds ``--runs`` runs, then times the API routes in-process
(Django test client: URL routing, DRF, filters, queries and JSON rendering;
no network) and prints p50/p95 per route against the targets of the issue.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGETS_MS = {
    "roots": 150,
    "search": 150,
    "hierarchy": 1000,
    "stats": 300,
    "threads": 150,
    "thread": 300,
}
THREADS = 50_000
LONG_THREAD = 200


def ensure_feedback(count: int = 10_000) -> None:
    """Feedback on random traces (seed_runs writes none), for the filter case."""
    import random

    from runs.models import Feedback, Run

    if Feedback.objects.count() >= count // 2:
        return
    rng = random.Random(7)
    roots = list(
        Run.objects.filter(parent__isnull=True)
        .order_by("?")
        .values_list("id", "trace_id", "project_id")[:count]
    )
    Feedback.objects.bulk_create(
        Feedback(
            run_id=rid,
            trace_id=tid,
            session_id=pid,
            key=rng.choice(["thumbs", "correctness"]),
            score=rng.random(),
        )
        for rid, tid, pid in roots
    )


def ensure_threads(connection, call_command) -> None:
    """Give a store seeded without threads its 50,000 threads and a long one.

    A store from ``seed_runs --threads 50000 --long-thread 200`` has them; an
    older one gets a thread id on every root (spread over 50,000 threads,
    the rollup triggers keep the tables) and one 200-turn thread appended.
    """
    from runs.thread_models import ThreadRollup

    if ThreadRollup.objects.count() < THREADS // 2:
        print(f"spreading the traces over {THREADS:,} threads ...", flush=True)
        if connection.vendor == "postgresql":
            sql = (
                "UPDATE runs_run SET extra = jsonb_set(extra, '{metadata,thread_id}', "
                f"to_jsonb('thread-' || floor(random() * {THREADS})::int)) "
                "WHERE parent_run_id IS NULL AND jsonb_typeof(extra -> 'metadata') "
                "= 'object'"
            )
        else:
            sql = (
                "UPDATE runs_run SET extra = json_set(extra, '$.metadata.thread_id', "
                f"'thread-' || (abs(random()) % {THREADS})) "
                "WHERE parent_run_id IS NULL"
            )
        with connection.cursor() as cursor:
            cursor.execute(sql)
    if not ThreadRollup.objects.filter(thread_id="long-thread").exists():
        # Another seed: the default one would draw the store's run ids again.
        call_command("seed_runs", runs=0, long_thread=LONG_THREAD, seed=4242)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--iterations", type=int, default=30)
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        help="time only the cases whose label contains this text (repeatable)",
    )
    args = parser.parse_args()
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "agentspy.settings")
    sys.path.insert(0, str(ROOT))

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count
    from django.test import Client

    from runs.models import Project, Run

    call_command("migrate", verbosity=0)
    have = Run.objects.count()
    if have < args.runs * 0.95:
        print(f"seeding {args.runs:,} runs (have {have:,}) ...", flush=True)
        call_command("seed_runs", runs=args.runs - have, big_trace=10_000)
    ensure_threads(connection, call_command)
    ensure_feedback()
    total = Run.objects.count()
    # The largest trace (seed_runs --big-trace): one GROUP BY, outside the timings.
    big = Run.objects.values("trace_id").annotate(n=Count("id")).order_by("-n").first()
    print(
        f"{connection.vendor}: {total:,} runs, "
        f"{Run.objects.filter(parent__isnull=True).count():,} traces; "
        f"largest trace {big['n']:,} runs",
        flush=True,
    )
    client = Client()
    api = settings.API_PREFIX

    def get(path: str) -> Callable[[], None]:
        def call() -> None:
            response = client.get(f"{api}/{path}")
            if response.status_code != 200:
                raise RuntimeError(f"{path}: {response.status_code} {response.content}")
            if hasattr(response, "streaming_content"):
                b"".join(response.streaming_content)

        return call

    def post(path: str, body: dict) -> Callable[[], None]:
        def call() -> None:
            response = client.post(
                f"{api}/{path}", json.dumps(body), content_type="application/json"
            )
            if response.status_code != 200:
                raise RuntimeError(f"{path}: {response.status_code} {response.content}")

        return call

    def page(path: str) -> Callable[[], None]:
        def call() -> None:
            response = client.get(path)
            if response.status_code != 200:
                raise RuntimeError(f"{path}: {response.status_code}")

        return call

    def v2(path: str, body: dict | None = None) -> Callable[[], None]:
        def call() -> None:
            if body is None:
                response = client.get(path)
            else:
                response = client.post(
                    path, json.dumps(body), content_type="application/json"
                )
            if response.status_code != 200:
                raise RuntimeError(f"{path}: {response.status_code} {response.content}")

        return call

    support_bot = str(Project.objects.get(name="support-bot").id)
    month = {"min_start_time": "2000-01-01T00:00:00Z", "page_size": 100}
    cases = [
        ("roots", "roots, first page", get("dashboard/runs/roots?limit=50")),
        (
            "roots",
            "roots, deep page (offset 20,000)",
            get("dashboard/runs/roots?limit=50&offset=20000"),
        ),
        (
            "roots",
            "roots, filtered (project+status+7d)",
            get("dashboard/runs/roots?project=support-bot&status=success&since=7d"),
        ),
        (
            "roots",
            "roots, filtered (has_error)",
            get("dashboard/runs/roots?has_error=true"),
        ),
        (
            "roots",
            "roots, filtered (model)",
            get("dashboard/runs/roots?model=qwen2.5-72b&project=kundenservice"),
        ),
        ("search", "search, rare id", get("dashboard/runs/roots?search=cust-4821")),
        ("search", "search, common word", get("dashboard/runs/roots?search=Rotterdam")),
        (
            "roots",
            "list_runs, one project (runs/query)",
            post("runs/query", {"session": [support_bot], "limit": 100}),
        ),
        (
            "search",
            "list_runs, one project, query word",
            post(
                "runs/query",
                {"session": [support_bot], "query": "Rotterdam", "limit": 100},
            ),
        ),
        ("search", "search, Chinese", get("dashboard/runs/roots?search=主要条款")),
        ("search", "search, accented", get("dashboard/runs/roots?search=RÉPUBLIQUE")),
        (
            "hierarchy",
            f"hierarchy, {big['n']:,} runs, light",
            get(f"dashboard/runs/{big['trace_id']}/hierarchy?light=true"),
        ),
        (
            "hierarchy",
            f"hierarchy, {big['n']:,} runs, full",
            get(f"dashboard/runs/{big['trace_id']}/hierarchy"),
        ),
        ("stats", "stats summary, all time", get("dashboard/stats/summary")),
        ("stats", "stats summary, 24h", get("dashboard/stats/summary?since=24h")),
        (
            "stats",
            "stats summary, one project 7d",
            get("dashboard/stats/summary?project=support-bot&since=7d"),
        ),
        ("stats", "projects list", get("dashboard/projects")),
        ("threads", "threads page, one project", page("/threads?project=support-bot")),
        (
            "threads",
            "threads page, with errors, 7d",
            page("/threads?project=support-bot&errors=true&since=7d"),
        ),
        (
            "threads",
            "threads.query, one project (v2)",
            v2("/api/v2/threads/query", {"project_id": support_bot, **month}),
        ),
        ("threads", "users page, one project", page("/users?project=support-bot")),
        ("roots", "traces page, one project", page("/traces?project=support-bot")),
        (
            "roots",
            "traces page, feedback key + score",
            page(
                "/traces?project=support-bot&feedback_key=correctness"
                "&feedback_score_gte=0.5"
            ),
        ),
        (
            "thread",
            "user page, one user",
            page("/users/user-42?project=support-bot"),
        ),
        (
            "thread",
            f"thread page, {LONG_THREAD} turns (first 50)",
            page("/threads/long-thread?project=support-bot"),
        ),
        (
            "thread",
            "thread traces, 100 turns (v2)",
            v2(
                f"/api/v2/threads/long-thread/traces?project_id={support_bot}"
                "&page_size=100"
            ),
        ),
    ]
    print(f"{'case':<40} {'p50 ms':>9} {'p95 ms':>9} {'target':>8}", flush=True)
    failed = 0
    for kind, label, call in cases:
        if args.only and not any(text in label for text in args.only):
            continue
        began = time.perf_counter()
        call()  # warm caches and connections
        # A case far over its target is timed fewer times, to finish the run.
        slow = (time.perf_counter() - began) * 1000 > 10 * TARGETS_MS[kind]
        samples = []
        for _ in range(3 if slow else args.iterations):
            began = time.perf_counter()
            call()
            samples.append((time.perf_counter() - began) * 1000)
        p50 = statistics.median(samples)
        p95 = statistics.quantiles(samples, n=20)[18]
        target = TARGETS_MS[kind]
        verdict = "ok" if p95 < target else "SLOW"
        failed += verdict != "ok"
        print(f"{label:<40} {p50:>9.1f} {p95:>9.1f} {target:>6} {verdict}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
