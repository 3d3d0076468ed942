"""Costs add up per trace, project, model and hour, and unpriced runs show."""

import json
import uuid
from io import StringIO

import pytest
from django.core.management import call_command

from runs.models import Project, Run
from runs.query.scope import StatsScope
from runs.query.stats import summary
from tests.cost_payloads import chain_run, llm_run, post

pytestmark = pytest.mark.django_db

# gpt-4o-mini: $0.15 input, $0.60 output per 1M tokens
# (https://openai.com/api/pricing/): 1,000 x 0.15 = 150 and 500 x 0.60 = 300
# -> $0.00015 prompt + $0.0003 completion = $0.00045 per call.
MINI = {"input_tokens": 1000, "output_tokens": 500, "total_tokens": 1500}
PER_CALL = (0.00015, 0.0003, 0.00045)


def approx(value: float):
    return pytest.approx(value, rel=0.005)


def make_trace(*, priced: int = 2, unpriced: int = 1) -> uuid.UUID:
    root = uuid.uuid4()
    runs = [chain_run(root)]
    for _ in range(priced):
        runs.append(
            llm_run(
                provider="openai",
                model="gpt-4o-mini",
                usage=MINI,
                trace_id=root,
                parent_id=root,
            )
        )
    for _ in range(unpriced):
        runs.append(
            llm_run(
                provider="vllm",
                model="acme-70b",
                usage=MINI,
                trace_id=root,
                parent_id=root,
            )
        )
    post(*runs)
    return root


@pytest.fixture
def api(client, api_prefix):
    def call(method: str, path: str, body: dict | None = None):
        if method == "get":
            return client.get(f"{api_prefix}/{path}")
        return client.post(
            f"{api_prefix}/{path}", json.dumps(body), content_type="application/json"
        )

    return call


def test_stats_summary_sums_priced_runs_and_counts_unpriced_ones():
    make_trace(priced=2, unpriced=1)
    make_trace(priced=1, unpriced=0)
    stats = summary(StatsScope())
    assert stats["cost"] == {
        "prompt": approx(3 * PER_CALL[0]),
        "completion": approx(3 * PER_CALL[1]),
        "total": approx(3 * PER_CALL[2]),
    }
    assert stats["unpriced_runs"] == 1
    assert stats["tokens"]["total"] == 4 * 1500
    assert sum(p["cost"] for p in stats["time_series"]["points"]) == approx(
        3 * PER_CALL[2]
    )


def test_roots_carry_the_trace_cost_and_sort_and_filter_by_it(client, api_prefix):
    cheap = make_trace(priced=1, unpriced=0)
    dear = make_trace(priced=3, unpriced=1)
    unpriced = make_trace(priced=0, unpriced=2)
    url = f"{api_prefix}/dashboard/runs/roots"
    rows = {r["id"]: r for r in client.get(url).json()["runs"]}
    assert rows[str(dear)]["total_cost"] == approx(3 * PER_CALL[2])
    assert rows[str(dear)]["trace_prompt_cost"] == approx(3 * PER_CALL[0])
    assert rows[str(dear)]["trace_unpriced_runs"] == 1
    assert rows[str(unpriced)]["total_cost"] is None
    assert rows[str(unpriced)]["trace_unpriced_runs"] == 2
    by_cost = client.get(url, {"ordering": "-trace_cost"}).json()["runs"]
    assert [r["id"] for r in by_cost] == [str(dear), str(cheap)]
    cheapest = client.get(url, {"ordering": "trace_cost"}).json()["runs"]
    assert [r["id"] for r in cheapest] == [str(cheap), str(dear)]
    filtered = client.get(url, {"min_cost": "0.001"}).json()["runs"]
    assert [r["id"] for r in filtered] == [str(dear)]
    filtered = client.get(url, {"max_cost": "0.001"}).json()["runs"]
    assert [r["id"] for r in filtered] == [str(cheap)]
    assert client.get(url, {"min_cost": "-1"}).status_code == 400


def test_langsmith_runs_and_sessions_report_costs(api):
    root = make_trace(priced=2, unpriced=1)
    project = Project.objects.get(name="costs")
    body = api("post", "runs/query", {"session": [str(project.id)]}).json()
    runs = {r["id"]: r for r in body["runs"]}
    assert runs[str(root)]["total_cost"] == approx(2 * PER_CALL[2])
    assert runs[str(root)]["prompt_cost"] == approx(2 * PER_CALL[0])
    assert runs[str(root)]["total_tokens"] == 3 * 1500
    priced = Run.objects.filter(model_name="gpt-4o-mini").first()
    assert runs[str(priced.id)]["completion_cost"] == approx(PER_CALL[1])
    unpriced = Run.objects.filter(model_name="acme-70b").first()
    assert runs[str(unpriced.id)]["total_cost"] is None
    single = api("get", f"runs/{root}").json()
    assert single["total_cost"] == approx(2 * PER_CALL[2])
    session = api("get", f"sessions/{project.id}").json()
    assert session["total_cost"] == approx(2 * PER_CALL[2])
    assert session["completion_cost"] == approx(2 * PER_CALL[1])
    assert session["unpriced_runs"] == 1


def test_export_runs_includes_each_runs_own_cost():
    make_trace(priced=1, unpriced=1)
    out = StringIO()
    call_command("export_runs", stdout=out)
    rows = {r["model_name"]: r for r in map(json.loads, out.getvalue().splitlines())}
    assert rows["gpt-4o-mini"]["total_cost"] == approx(PER_CALL[2])
    assert rows["gpt-4o-mini"]["prompt_cost"] == approx(PER_CALL[0])
    assert rows["acme-70b"]["total_cost"] is None
    assert rows[None]["total_cost"] is None  # the chain root: no cost of its own


def test_pages_show_costs_and_unpriced_runs(client):
    root = make_trace(priced=2, unpriced=1)
    overview = client.get("/?range=30d").content.decode()
    assert "$0.00090" not in overview  # two significant digits
    assert "$0.0009" in overview
    assert "1 run unpriced" in overview
    traces = client.get("/traces").content.decode()
    assert "$0.0009" in traces and "+1 unpriced" in traces
    trace = client.get(f"/traces/{root}").content.decode()
    assert "+ 1 run unpriced" in trace
    llm = Run.objects.filter(model_name="gpt-4o-mini").first()
    panel = client.get(f"/traces/{root}?run={llm.id}").content.decode()
    assert "$0.00045" in panel
    assert "openai/gpt-4o-mini: $0.15 in, $0.075 cache read, $0.6 out per MTok" in panel
    projects = client.get("/projects").content.decode()
    assert "1 unpriced" in projects


def test_cost_route_gives_totals_unpriced_runs_and_models(client, api_prefix):
    make_trace(priced=2, unpriced=1)
    body = client.get(f"{api_prefix}/dashboard/stats/cost").json()
    assert body["cost"] == {
        "prompt": approx(2 * PER_CALL[0]),
        "completion": approx(2 * PER_CALL[1]),
        "total": approx(2 * PER_CALL[2]),
    }
    assert body["unpriced_runs"] == 1
    assert body["by_model"] == [
        {
            "model_name": "gpt-4o-mini",
            "total_cost": approx(2 * PER_CALL[2]),
            "unpriced_runs": 0,
        },
        {"model_name": "acme-70b", "total_cost": 0.0, "unpriced_runs": 1},
    ]
    other = client.get(f"{api_prefix}/dashboard/stats/cost?project=nope").json()
    assert other["cost"]["total"] == 0.0
