"""Every run newest first, read through recent windows: same answer, less work."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from runs.models import Run
from runs.query import newest
from runs.query.newest import newest_first
from tests.factories import ProjectFactory, RunFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def windows_only(monkeypatch):
    """The windows at work: no first try of the plain query."""
    monkeypatch.setattr(newest, "PLAIN_BUDGET_MS", None)


@pytest.fixture
def runs_over_a_month():
    now = timezone.now()
    made = []
    for i, minutes in enumerate([1, 2, 3, 30, 200, 3000, 30000, 50000]):
        project = ProjectFactory(name=f"p{i % 3}")
        made.append(
            RunFactory(project=project, start_time=now - timedelta(minutes=minutes))
        )
    made.append(RunFactory(project=None, start_time=now - timedelta(minutes=4)))
    return made


def plain(queryset, count, offset=0):
    return list(queryset[offset : offset + count])


def test_windows_give_the_plain_answer_for_every_page(runs_over_a_month, windows_only):
    ordered = Run.objects.order_by("-start_time", "-id")
    for count in (1, 2, 4, 9, 20):
        for offset in (0, 1, 5):
            assert newest_first(ordered, count, offset=offset) == plain(
                ordered, count, offset
            ), (count, offset)


def test_a_full_first_window_is_one_query(runs_over_a_month, windows_only):
    ordered = Run.objects.order_by("-start_time", "-id")
    with CaptureQueriesContext(connection) as queries:
        rows = newest_first(ordered, 3)
    assert [r.id for r in rows] == [r.id for r in runs_over_a_month[:3]]
    # One for the project ids, one for the window.
    assert len(queries) == 2
    assert "start_time" in queries[1]["sql"].split("WHERE")[1]


def test_a_filter_matching_little_widens_then_falls_back(
    runs_over_a_month, monkeypatch, windows_only
):
    monkeypatch.setattr(newest, "WINDOWS", 2)
    errors = Run.objects.filter(status="error").order_by("-start_time", "-id")
    assert newest_first(errors, 5) == []
    old = runs_over_a_month[-2]
    Run.objects.filter(id=old.id).update(status="error")
    assert [r.id for r in newest_first(errors, 5)] == [old.id]


def test_runs_query_without_a_project_pages_every_run_newest_first(
    client, api_prefix, runs_over_a_month
):
    seen = []
    body = {"limit": 4}
    while True:
        page = client.post(
            f"{api_prefix}/runs/query", body, content_type="application/json"
        ).json()
        seen += [r["id"] for r in page["runs"]]
        if not page["cursors"]["next"]:
            break
        body = {"limit": 4, "cursor": page["cursors"]["next"]}
    expected = Run.objects.order_by("-start_time", "-id").values_list("id", flat=True)
    assert seen == [str(i) for i in expected]


def test_a_plain_query_answered_within_its_budget_needs_no_window(runs_over_a_month):
    ordered = Run.objects.filter(status="success").order_by("-start_time", "-id")
    with CaptureQueriesContext(connection) as queries:
        rows = newest_first(ordered, 4)
    assert rows == plain(ordered, 4)
    windowed = [q for q in queries if '"start_time" >=' in q["sql"]]
    assert windowed == []


def test_a_plain_query_over_its_budget_gives_way_to_the_windows(
    runs_over_a_month, monkeypatch
):
    from contextlib import contextmanager

    from django.db import OperationalError

    @contextmanager
    def exhausted(budget_ms):
        raise OperationalError("interrupted")
        yield  # pragma: no cover

    monkeypatch.setattr(newest, "within_budget", exhausted)
    ordered = Run.objects.order_by("-start_time", "-id")
    with CaptureQueriesContext(connection) as queries:
        rows = newest_first(ordered, 3)
    assert rows == plain(ordered, 3)
    assert any('"start_time" >=' in q["sql"] for q in queries)
