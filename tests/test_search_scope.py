"""Search plans by the matches within the filtered projects, not the whole store."""

import orjson
import pytest

from runs.apikeys import create_api_key
from runs.models import Run
from runs.query import trace_filters
from runs.query.filters import filter_runs
from runs.query.trace_filters import scans_traces
from tests.factories import ProjectFactory, RunFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def stores(monkeypatch):
    """A word common in "billing" (more than the set limit), rare in "support"."""
    monkeypatch.setattr(trace_filters, "SET_LIMIT", 3)
    support, billing = ProjectFactory(name="support"), ProjectFactory(name="billing")
    for n in range(8):
        RunFactory(project=billing, name=f"b{n}", inputs={"q": "refund please"})
    RunFactory(project=support, name="wanted", inputs={"q": "a refund"})
    RunFactory(project=support, name="other", inputs={"q": "hello"})
    return support, billing


def test_a_word_common_elsewhere_is_looked_up_not_scanned(stores):
    queryset = filter_runs({"project": "support", "search": "refund"})
    assert not scans_traces(queryset)
    assert [run.name for run in queryset] == ["wanted"]
    # Across every project the same word is common: scanned, same answers.
    everywhere = filter_runs({"search": "refund"})
    assert scans_traces(everywhere)
    assert everywhere.count() == 9


def test_runs_query_plans_within_its_sessions(stores, client, api_prefix):
    support, _ = stores
    body = {"session": [str(support.id)], "query": "refund"}
    response = client.post(
        f"{api_prefix}/runs/query", orjson.dumps(body), content_type="application/json"
    )
    assert [run["name"] for run in response.json()["runs"]] == ["wanted"]


def test_a_scoped_key_plans_within_its_project(stores, client, api_prefix):
    key = create_api_key(name="support", project="support").key
    response = client.get(
        f"{api_prefix}/dashboard/runs/roots?search=refund", HTTP_X_API_KEY=key
    )
    assert [run["name"] for run in response.json()["runs"]] == ["wanted"]
    assert response.json()["total"] == 1


def test_a_scoped_search_does_not_match_another_projects_runs(client, api_prefix):
    mine, theirs = ProjectFactory(name="mine"), ProjectFactory(name="theirs")
    root = RunFactory(project=mine, name="root", inputs={"q": "nothing"})
    RunFactory(project=theirs, parent=root, inputs={"q": "their secret"})
    key = create_api_key(name="mine", project="mine").key
    for limit in (5_000, 0):  # the index set and the trace scan
        trace_filters.SET_LIMIT, saved = limit, trace_filters.SET_LIMIT
        try:
            response = client.get(
                f"{api_prefix}/dashboard/runs/roots?search=secret", HTTP_X_API_KEY=key
            )
        finally:
            trace_filters.SET_LIMIT = saved
        assert response.json()["runs"] == []
    assert Run.objects.count() == 2
