"""Lock order for the thread rollups' shared rows (PostgreSQL only).

The triggers of migration 0015 update one row per trace and one per thread in
place. Inside a request they are reached in the order runs are upserted, so
two requests touching the same threads in opposite orders could deadlock.
Before upserting, the ingest service therefore takes an advisory lock per
thread it may touch, in sorted order (after the run locks, like every writer),
and upserts its runs in trace order. SQLite's write lock already serialises
writers.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from typing import Any

from django.db import connection

from runs.ingest.store import TRACE_LOCK_SPACE
from runs.thread_models import TraceRollup, thread_key

THREAD_LOCK_SPACE = TRACE_LOCK_SPACE + 1


def _lock_key(thread: str) -> int:
    digest = hashlib.blake2b(thread.encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big", signed=True)


def lock_threads(rows: Iterable[dict[str, Any]]) -> None:
    """Lock the threads these runs' traces belong to, before they are written."""
    if connection.vendor != "postgresql":
        return
    rows = list(rows)
    threads = {thread_key(r.get("extra")) for r in rows if not r.get("parent_run_id")}
    traces = {r["trace_id"] for r in rows if isinstance(r.get("trace_id"), uuid.UUID)}
    if traces:
        threads.update(
            TraceRollup.objects.filter(trace_id__in=list(traces))
            .exclude(thread_id="")
            .values_list("thread_id", flat=True)
        )
    keys = sorted({_lock_key(t) for t in threads if t})
    if not keys:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_advisory_xact_lock(%s, k)) FROM "
            "(SELECT unnest(%s::int[]) AS k ORDER BY 1) AS keys",
            [THREAD_LOCK_SPACE, keys],
        )
