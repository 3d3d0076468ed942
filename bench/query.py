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
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
TARGETS_MS = {
    "roots": 150,
    "search": 150,
    "hierarchy": 1000,
    "stats": 300,
    "cost": 150,
    "page": 300,
    "filter": 150,
    "threads": 150,
    "thread": 300,
}
THREADS = 50_000
# Cases that read the statistics rollups (``--hourly-baseline``).
ROLLUP_READERS = ("stats summary", "cost summary", "overview page", "projects list")
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


# The first overview of a new server process: its own interpreter, so nothing
# (URL modules, templates, connections, rollups) is warm but what a gunicorn
# worker loads before it accepts requests; the request goes through the WSGI
# handler that worker serves with (the test client would load its own).
COLD_OVERVIEW = """
import os, sys, time
sys.path.insert(0, sys.argv[1])
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "agentspy.settings")
import django
django.setup()
from agentspy.wsgi import application  # what a gunicorn worker loads first
from django.test.client import RequestFactory
environ = RequestFactory()._base_environ(PATH_INFO="/", REQUEST_METHOD="GET")
status = []
began = time.perf_counter()
body = b"".join(application(environ, lambda s, headers, *a: status.append(s)))
assert status[0].startswith("200"), status
print((time.perf_counter() - began) * 1000)
"""


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
    parser.add_argument(
        "--hourly-baseline",
        action="store_true",
        help="also time the rollup readers on hourly rows only (no daily "
        "rollups), alternating with the normal reads, and print the ratio",
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
    from runs.models import DailyRollup, RunRollup

    # What the statistics read: the README quotes these counts.
    print(
        f"rollups: {RunRollup.objects.count():,} hourly rows, "
        f"{DailyRollup.objects.count():,} daily rows",
        flush=True,
    )
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

    def post(path: str, body: dict, prefix: str | None = None) -> Callable[[], None]:
        def call() -> None:
            response = client.post(
                f"{api if prefix is None else prefix}/{path}",
                json.dumps(body),
                content_type="application/json",
            )
            if response.status_code != 200:
                raise RuntimeError(f"{path}: {response.status_code} {response.content}")

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
    _add_word_common_elsewhere()
    from django.contrib.auth.models import User

    admin_user, _ = User.objects.get_or_create(
        username="bench-admin", defaults={"is_staff": True, "is_superuser": True}
    )
    admin_client = Client()
    admin_client.force_login(admin_user)

    def page(path: str, who: Client = client) -> Callable[[], None]:
        def call() -> None:
            response = who.get(path)
            if response.status_code != 200:
                raise RuntimeError(f"{path}: {response.status_code}")

        return call

    def cold_overview() -> float:
        done = subprocess.run(
            [sys.executable, "-c", COLD_OVERVIEW, str(ROOT)],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ},
        )
        return float(done.stdout.strip().splitlines()[-1])

    # What langsmith 0.15's client.runs.query() pages look like (v2 API).
    v2_page = {"project_ids": [support_bot], "page_size": 100}
    v2_selects = [
        "ID", "NAME", "RUN_TYPE", "STATUS", "START_TIME", "END_TIME",
        "TRACE_ID", "PARENT_RUN_IDS", "TOTAL_TOKENS", "ERROR", "TAGS",
    ]  # fmt: skip
    month_ago = (datetime.now(UTC) - timedelta(days=31)).isoformat()
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
        (
            "search",
            "search, word common in another project",
            get("dashboard/runs/roots?project=support-bot&search=refund"),
        ),
        (
            "search",
            "list_runs, word common in another project",
            post(
                "runs/query",
                {"session": [support_bot], "query": "refund", "limit": 100},
            ),
        ),
        (
            "filter",
            "filter: llm slower than 5 s, one project",
            post(
                "runs/query",
                {
                    "session": [support_bot],
                    "filter": 'and(eq(run_type, "llm"), gt(latency, 5))',
                    "limit": 100,
                },
            ),
        ),
        (
            "filter",
            "tree_filter: traces with a tool",
            post(
                "runs/query",
                {
                    "session": [support_bot],
                    "is_root": True,
                    "tree_filter": 'eq(name, "send_email")',
                    "limit": 100,
                },
            ),
        ),
        (
            "filter",
            "filter: metadata key/value pair",
            post(
                "runs/query",
                {
                    "filter": 'and(eq(metadata_key, "user_id"), '
                    'eq(metadata_value, "user-4242"))',
                    "limit": 100,
                },
            ),
        ),
        (
            "filter",
            "roots API filter= (errors tagged prod)",
            get(
                "dashboard/runs/roots?project=support-bot&filter="
                + quote('and(eq(status, "error"), has(tags, "prod"))')
            ),
        ),
        (
            "roots",
            "v2 runs.query, one project, 1 day",
            post("runs/query", {**v2_page, "selects": v2_selects}, prefix="/api/v2"),
        ),
        (
            "roots",
            "v2 runs.query, one project, 30 days",
            post(
                "runs/query",
                {**v2_page, "selects": v2_selects, "min_start_time": month_ago},
                prefix="/api/v2",
            ),
        ),
        (
            "roots",
            "v2 traces.query, one project, 30 days",
            post(
                "traces/query",
                {
                    "project_id": support_bot,
                    "page_size": 100,
                    "selects": v2_selects,
                    "min_start_time": month_ago,
                },
                prefix="/api/v2",
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
        # Costs (run ``manage.py reprice_runs`` once on a store seeded unpriced).
        ("cost", "cost summary, all time", get("dashboard/stats/cost")),
        (
            "cost",
            "cost summary, one project 7d",
            get("dashboard/stats/cost?project=support-bot&since=7d"),
        ),
        ("cost", "roots by cost", get("dashboard/runs/roots?ordering=-trace_cost")),
        (
            "cost",
            "roots by cost, one project",
            get("dashboard/runs/roots?ordering=-trace_cost&project=support-bot"),
        ),
        (
            "cost",
            "roots by cost, cheapest first",
            get("dashboard/runs/roots?ordering=trace_cost"),
        ),
        (
            "cost",
            "roots costing at least $0.05",
            get("dashboard/runs/roots?min_cost=0.05"),
        ),
        (
            "stats",
            "stats summary, 30d",
            get("dashboard/stats/summary?since=30d"),
        ),
        ("page", "overview page, 24h", page("/?range=24h")),
        ("page", "overview page, 30d", page("/?range=30d")),
        (
            "roots",
            "list_runs, no project nor is_root",
            post("runs/query", {"limit": 100}),
        ),
        (
            "page",
            "admin run list, All runs",
            page("/admin/runs/run/?level=all", admin_client),
        ),
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
        (
            "threads",
            "threads.aggregate_stats, all time, yearly buckets (v2)",
            v2(
                "/api/v2/threads/stats",
                {
                    "project_id": support_bot,
                    "min_start_time": month["min_start_time"],
                    "select": [
                        "THREAD_COUNT",
                        "TRACE_COUNT",
                        "TOTAL_TOKENS",
                        "ERROR_RATE",
                        "LATENCY_P50",
                        "LATENCY_P99",
                    ],
                    "stride": {"unit": "DAY", "value": 365},
                },
            ),
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
            "read_thread: eq(thread_id), oldest first",
            post(
                "runs/query",
                {
                    "session": [support_bot],
                    "is_root": True,
                    "filter": 'eq(thread_id, "long-thread")',
                    "order": "asc",
                },
            ),
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
    if not args.only or any(text in "overview, cold" for text in args.only):
        # Each sample is a new process's first request (5 samples: each costs
        # an interpreter start).
        samples = [cold_overview() for _ in range(5)]
        p95 = max(samples)
        verdict = "ok" if p95 < TARGETS_MS["page"] else "SLOW"
        failed += verdict != "ok"
        print(
            f"{'overview, cold (first request)':<40} {statistics.median(samples):>9.1f}"
            f" {p95:>9.1f} {TARGETS_MS['page']:>6} {verdict}",
            flush=True,
        )
    from runs.query import rollups

    def hourly_only(call: Callable[[], None]) -> Callable[[], None]:
        def timed() -> None:
            whole_days = rollups.whole_days
            rollups.whole_days = lambda start, end, now: None
            try:
                call()
            finally:
                rollups.whole_days = whole_days

        return timed

    for kind, label, call in cases:
        if args.only and not any(text in label for text in args.only):
            continue
        began = time.perf_counter()
        call()  # warm caches and connections
        # A case far over its target is timed fewer times, to finish the run.
        slow = (time.perf_counter() - began) * 1000 > 10 * TARGETS_MS[kind]
        baseline = args.hourly_baseline and any(
            text in label for text in ROLLUP_READERS
        )
        calls = [call, hourly_only(call)] if baseline else [call]
        samples: list[list[float]] = [[] for _ in calls]
        for _ in range(3 if slow else args.iterations):
            # Alternating, so both see the same machine.
            for timed, into in zip(calls, samples, strict=True):
                began = time.perf_counter()
                timed()
                into.append((time.perf_counter() - began) * 1000)
        p50 = statistics.median(samples[0])
        p95 = statistics.quantiles(samples[0], n=20)[18]
        target = TARGETS_MS[kind]
        verdict = "ok" if p95 < target else "SLOW"
        failed += verdict != "ok"
        print(f"{label:<40} {p50:>9.1f} {p95:>9.1f} {target:>6} {verdict}", flush=True)
        if baseline:
            b50 = statistics.median(samples[1])
            b95 = statistics.quantiles(samples[1], n=20)[18]
            print(
                f"{'  (hourly rows only)':<40} {b50:>9.1f} {b95:>9.1f}"
                f"        daily/hourly p50 {p50 / b50:.2f}x",
                flush=True,
            )
    return 1 if failed else 0


def _add_word_common_elsewhere(count: int = 6_000) -> None:
    """Runs that say "refund" in a project of their own (once per store)."""
    import uuid
    from datetime import timedelta

    from django.utils import timezone

    from runs.ingest.normalize import segment
    from runs.ingest.store import upsert_runs
    from runs.models import Project, Run

    project, _ = Project.objects.get_or_create(name="billing-bot")
    if Run.objects.filter(project=project).exists():
        return
    now = timezone.now()
    rows = []
    for n in range(count):
        rid = uuid.uuid4()
        start = now - timedelta(minutes=n)
        rows.append(
            {
                "id": rid,
                "trace_id": rid,
                "dotted_order": segment(start, rid),
                "project_id": project.id,
                "name": "billing",
                "run_type": "chain",
                "status": "success",
                "start_time": start,
                "end_time": start + timedelta(seconds=1),
                "inputs": {"q": f"I want a refund for order {n}"},
                "outputs": {"a": "Your refund is on its way."},
                "created_at": start,
                "updated_at": start,
            }
        )
    for first in range(0, count, 500):
        upsert_runs(rows[first : first + 500])
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE runs_run")  # the planner's view of the word
    print(f"added {count:,} runs saying 'refund' to billing-bot", flush=True)


if __name__ == "__main__":
    sys.exit(main())
