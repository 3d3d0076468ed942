"""Counts that give up rather than hold a page hostage.

``bounded_count`` counts at most ``cap + 1`` rows and at most for
``COUNT_BUDGET_MS``; past the budget the database abandons the statement
(SQLite through a progress handler, PostgreSQL through a transaction-local
``statement_timeout``) and the caller shows what it knows ("50+"). A list
whose trace filter scans trace by trace (``trace_filters.scans_traces``) is
not counted at all: it matches too many traces for a count to finish, and
PostgreSQL cancels such a statement only tens of milliseconds late.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import OperationalError, connection, transaction
from django.db.models import QuerySet

from runs.query.trace_filters import scans_traces

COUNT_BUDGET_MS = 20
# SQLite calls the progress handler every this many virtual machine steps.
_SQLITE_STEPS = 5_000


def bounded_count(
    queryset: QuerySet, cap: int, budget_ms: int | None = None
) -> int | None:
    """``min(count, cap + 1)``, or None when it takes longer than the budget."""
    if scans_traces(queryset):
        return None
    budget_ms = COUNT_BUDGET_MS if budget_ms is None else budget_ms
    capped = queryset.order_by()[: cap + 1]
    try:
        with within_budget(budget_ms):
            return capped.count()
    except OperationalError:
        return None


@contextmanager
def within_budget(budget_ms: int) -> Iterator[None]:
    """Statements run inside are abandoned past ``budget_ms`` (OperationalError)."""
    if connection.vendor == "postgresql":
        with _pg_budget(budget_ms):
            yield
    elif connection.vendor == "sqlite":
        with _sqlite_budget(budget_ms):
            yield
    else:  # pragma: no cover (other databases)
        yield


@contextmanager
def _sqlite_budget(budget_ms: int) -> Iterator[None]:
    connection.ensure_connection()
    raw = connection.connection
    deadline = time.monotonic() + budget_ms / 1000
    raw.set_progress_handler(lambda: time.monotonic() > deadline, _SQLITE_STEPS)
    try:
        yield
    finally:
        raw.set_progress_handler(None, 0)


@contextmanager
def _pg_budget(budget_ms: int) -> Iterator[None]:
    # A savepoint when a transaction is open (tests, ATOMIC_REQUESTS): a
    # cancelled statement then rolls back only this, and the old timeout is
    # put back before it is released.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('statement_timeout')")
        (previous,) = cursor.fetchone()
        cursor.execute(
            "SELECT set_config('statement_timeout', %s, true)", [str(budget_ms)]
        )
        yield
        cursor.execute("SELECT set_config('statement_timeout', %s, true)", [previous])
