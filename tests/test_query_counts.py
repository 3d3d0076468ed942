"""bounded_count: exact under its cap and budget, None past the budget."""

import pytest
from django.db import connection
from django.db.models import BooleanField
from django.db.models.expressions import RawSQL

from runs.models import Run
from runs.query import trace_filters
from runs.query.counts import bounded_count
from runs.query.filters import filter_runs
from tests.factories import RunFactory

pytestmark = pytest.mark.django_db

# Seconds of work on either database, whatever the table holds.
SLOW = RawSQL(
    "(WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
    "WHERE x < 50000000) SELECT count(*) FROM c) > 0",
    [],
    output_field=BooleanField(),
)


def test_counts_exactly_up_to_one_past_the_cap():
    RunFactory.create_batch(4)
    assert bounded_count(Run.objects.all(), cap=10) == 4
    assert bounded_count(Run.objects.all(), cap=2) == 3


def test_gives_up_past_the_budget_and_leaves_the_connection_usable():
    RunFactory()
    assert bounded_count(Run.objects.filter(SLOW), cap=10, budget_ms=20) is None
    assert bounded_count(Run.objects.all(), cap=10, budget_ms=20) == 1
    assert Run.objects.count() == 1


def test_a_list_that_a_trace_filter_scans_is_not_counted(monkeypatch):
    monkeypatch.setattr(trace_filters, "SET_LIMIT", 0)
    RunFactory(name="zebra")
    scanned = filter_runs({"search": "zebra"})
    assert bounded_count(scanned, cap=10) is None
    assert list(scanned.values_list("name", flat=True)) == ["zebra"]
    monkeypatch.setattr(trace_filters, "SET_LIMIT", 5)
    if connection.vendor == "postgresql":
        # The plan follows the planner's row estimate: statistics left by
        # earlier tests (a table once large) would make it scan anyway.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE runs_run")
    assert bounded_count(filter_runs({"search": "zebra"}), cap=10) == 1
