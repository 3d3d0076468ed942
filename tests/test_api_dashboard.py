"""The dashboard JSON API: exact payloads, paging edges, validation errors."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from runs.query import roots, trace_filters
from tests.factories import ProjectFactory, RunFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 20, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def url(api_prefix):
    return lambda path: f"{api_prefix}/{path}"


def make_trace(name, *, start, project=None, children=2, error_child=False):
    kwargs = {"project": project} if project else {}
    root = RunFactory(
        name=name,
        start_time=start,
        end_time=start + timedelta(seconds=2),
        **kwargs,
    )
    for i in range(children):
        RunFactory(
            name=f"{name}-llm-{i}",
            parent=root,
            run_type="llm",
            start_time=start + timedelta(milliseconds=100 * (i + 1)),
            end_time=start + timedelta(milliseconds=100 * (i + 1) + 50),
            prompt_tokens=10,
            completion_tokens=5,
            total_tokens=15,
            model_name="gpt-4o",
            status="error" if error_child and i == 0 else "success",
            error="rate limited" if error_child and i == 0 else None,
            **kwargs,
        )
    return root


def test_roots_page_returns_one_row_per_trace_with_trace_aggregates(client, url):
    project = ProjectFactory(name="shop")
    root = make_trace("checkout", start=T0, project=project, error_child=True)
    body = client.get(url("dashboard/runs/roots")).json()
    assert body == {
        "runs": [
            {
                "id": str(root.id),
                "trace_id": str(root.id),
                "name": "checkout",
                "run_type": "chain",
                "status": "success",
                "start_time": "2026-11-20T12:00:00+00:00",
                "end_time": "2026-11-20T12:00:02+00:00",
                "duration_ms": 2000.0,
                "error": None,
                "tags": [],
                "model_name": None,
                "project_id": str(project.id),
                "project_name": "shop",
                "prompt_tokens": 0,
                "completion_tokens": 0,
                "total_tokens": 0,
                "run_count": 3,
                "error_count": 1,
                "trace_prompt_tokens": 20,
                "trace_completion_tokens": 10,
                "trace_total_tokens": 30,
                # The factory's runs carry no cost: the trace has no price.
                "total_cost": None,
                "trace_prompt_cost": None,
                "trace_completion_cost": None,
                # Two LLM runs with tokens and no price: unpriced, not $0.
                "trace_unpriced_runs": 2,
            }
        ],
        "total": 1,
        "total_capped": False,
        "limit": 50,
        "offset": 0,
        "has_more": False,
    }


def test_roots_fields_parameter_adds_the_large_bodies(client, url):
    make_trace("a", start=T0, children=0)
    row = client.get(url("dashboard/runs/roots?fields=inputs,outputs")).json()["runs"][
        0
    ]
    assert row["inputs"] == {"question": "What is 2 + 2?"}
    assert row["outputs"] == {"answer": "4"}
    assert "extra" not in row
    bad = client.get(url("dashboard/runs/roots?fields=password"))
    assert bad.status_code == 400
    assert list(bad.json()) == ["fields"]


def test_roots_paging_last_page_and_offset_past_the_end(client, url):
    for i in range(5):
        make_trace(f"t{i}", start=T0 + timedelta(minutes=i), children=0)
    first = client.get(url("dashboard/runs/roots?limit=2")).json()
    assert [r["name"] for r in first["runs"]] == ["t4", "t3"]
    assert (first["total"], first["has_more"]) == (5, True)
    last = client.get(url("dashboard/runs/roots?limit=2&offset=4")).json()
    assert [r["name"] for r in last["runs"]] == ["t0"]
    assert (last["total"], last["offset"], last["has_more"]) == (5, 4, False)
    past = client.get(url("dashboard/runs/roots?limit=2&offset=50")).json()
    assert (past["runs"], past["total"], past["has_more"]) == ([], 5, False)
    exact = client.get(url("dashboard/runs/roots?limit=5")).json()
    assert (len(exact["runs"]), exact["has_more"]) == (5, False)


def test_roots_total_stops_at_the_count_cap(client, url, monkeypatch):
    monkeypatch.setattr(roots, "COUNT_CAP", 3)
    for i in range(5):
        make_trace(f"t{i}", start=T0 + timedelta(minutes=i), children=0)
    body = client.get(url("dashboard/runs/roots?limit=2")).json()
    assert (body["total"], body["total_capped"], body["has_more"]) == (3, True, True)
    under = client.get(url("dashboard/runs/roots?limit=2&search=t4")).json()
    assert (under["total"], under["total_capped"]) == (1, False)


def test_roots_total_is_a_lower_bound_when_counting_runs_out_of_time(
    client, url, monkeypatch
):
    monkeypatch.setattr(roots, "bounded_count", lambda queryset, cap: None)
    for i in range(5):
        make_trace(f"t{i}", start=T0 + timedelta(minutes=i), children=0)
    body = client.get(url("dashboard/runs/roots?limit=2&offset=2")).json()
    assert [r["name"] for r in body["runs"]] == ["t2", "t1"]
    assert (body["total"], body["total_capped"], body["has_more"]) == (4, True, True)


def test_roots_ordering_and_filters_apply_to_the_page(client, url):
    shop = ProjectFactory(name="shop")
    make_trace("b", start=T0, project=shop, children=0)
    make_trace("a", start=T0 + timedelta(minutes=1), children=0)
    make_trace("c", start=T0 + timedelta(minutes=2), project=shop, error_child=True)
    get = lambda q: [r["name"] for r in client.get(url(q)).json()["runs"]]  # noqa: E731
    assert get("dashboard/runs/roots?ordering=name") == ["a", "b", "c"]
    assert get("dashboard/runs/roots?ordering=start_time") == ["b", "a", "c"]
    assert get("dashboard/runs/roots?project_name=shop") == ["c", "b"]
    assert get("dashboard/runs/roots?has_error=true") == ["c"]
    assert get("dashboard/runs/roots?model=gpt-4o&project=shop") == ["c"]


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("limit=10000", "limit"),
        ("limit=0", "limit"),
        ("offset=-1", "offset"),
        ("status=exploded", "status"),
        ("start_time_gte=last-tuesday", "start_time_gte"),
        ("since=2y", "since"),
        ("ordering=password", "ordering"),
    ],
)
def test_bad_parameters_get_a_400_naming_the_parameter(client, url, query, param):
    response = client.get(url(f"dashboard/runs/roots?{query}"))
    assert response.status_code == 400
    assert param in response.json()


def test_search_returns_the_roots_of_traces_with_a_matching_run(client, url):
    root = make_trace("chat", start=T0, children=1)
    child = root.children.get()
    child.outputs = {"text": "Le CAFÉ est fermé. 今天天气很好"}
    child.save()
    make_trace("other", start=T0 + timedelta(minutes=1), children=1)
    for q in ["café", "FERMÉ", "天气很", "天气", "chat-llm"]:
        rows = client.get(url("dashboard/runs/roots"), {"search": q}).json()["runs"]
        assert [r["name"] for r in rows] == ["chat"], q
    assert client.get(url("dashboard/runs/roots?search=zzzz")).json()["total"] == 0


def test_hierarchy_of_any_run_returns_the_whole_trace(client, url):
    root = make_trace("root", start=T0, children=2)
    child = root.children.order_by("start_time").first()
    grandchild = RunFactory(
        name="tool",
        parent=child,
        run_type="tool",
        start_time=T0 + timedelta(milliseconds=120),
        end_time=T0 + timedelta(milliseconds=130),
    )
    body = client.get(url(f"dashboard/runs/{grandchild.id}/hierarchy")).json()
    assert body["root_run_id"] == str(root.id)
    assert (body["total_runs"], body["max_depth"]) == (4, 2)
    tree = body["hierarchy"]
    assert [c["name"] for c in tree["children"]] == ["root-llm-0", "root-llm-1"]
    assert tree["children"][0]["children"][0]["name"] == "tool"
    assert tree["children"][0]["children"][0]["depth"] == 2
    assert tree["children"][0]["children"][0]["duration_ms"] == 10.0
    assert tree["inputs"] == {"question": "What is 2 + 2?"}
    light = client.get(url(f"dashboard/runs/{root.id}/hierarchy?light=true")).json()
    assert "inputs" not in light["hierarchy"]
    io = client.get(url(f"dashboard/runs/{grandchild.id}/io")).json()
    assert io["inputs"] == {"question": "What is 2 + 2?"}
    assert io["id"] == str(grandchild.id)


def test_hierarchy_and_io_of_an_unknown_run_are_404(client, url):
    missing = "00000000-0000-4000-8000-000000000000"
    assert client.get(url(f"dashboard/runs/{missing}/hierarchy")).status_code == 404
    assert client.get(url(f"dashboard/runs/{missing}/io")).status_code == 404


def test_stats_summary_counts_and_filters_by_project(client, url):
    shop = ProjectFactory(name="shop")
    now = timezone.now().replace(microsecond=0)
    make_trace("a", start=now - timedelta(hours=2), project=shop, error_child=True)
    make_trace("b", start=now - timedelta(days=3), children=1)
    body = client.get(url("dashboard/stats/summary")).json()
    assert body["total_runs"] == 5
    assert body["total_traces"] == 2
    assert body["runs_last_24h"] == 3
    assert body["error_runs"] == 1
    assert body["error_rate"] == 0.2
    assert body["status_distribution"] == {"error": 1, "success": 4}
    assert body["run_type_distribution"] == {"chain": 2, "llm": 3}
    assert body["latency_ms"] == {"p50": 2000.0, "p95": 2000.0, "p99": 2000.0}
    assert body["tokens"] == {"prompt": 30, "completion": 15, "total": 45}
    assert body["time_series"]["bucket"] == "day"
    assert sum(p["runs"] for p in body["time_series"]["points"]) == 5
    shop_only = client.get(url("dashboard/stats/summary?project=shop")).json()
    assert shop_only["total_runs"] == 3
    assert shop_only["recent_projects"][0]["name"] == "shop"
    recent = client.get(url("dashboard/stats/summary?since=24h")).json()
    assert recent["total_runs"] == 3
    assert recent["time_series"]["bucket"] == "hour"
    assert client.get(url("dashboard/stats/summary?since=1y")).status_code == 400


def test_projects_route_lists_counts_and_error_rate(client, url):
    shop = ProjectFactory(name="shop")
    ProjectFactory(name="empty")
    make_trace("a", start=T0, project=shop, error_child=True)
    body = client.get(url("dashboard/projects")).json()
    assert body["projects"][0] == {
        "id": str(shop.id),
        "name": "shop",
        "description": None,
        "created_at": shop.created_at.isoformat(),
        "run_count": 3,
        "trace_count": 1,
        "error_count": 1,
        "error_rate": 0.3333,
        "total_tokens": 30,
        "total_cost": 0.0,
        "unpriced_runs": 2,
        "last_run_start_time": "2026-11-20T12:00:00+00:00",
    }
    assert body["projects"][1]["name"] == "empty"
    assert body["projects"][1]["run_count"] == 0


def test_deep_pages_read_ids_first_and_keep_the_order(client, url, monkeypatch):
    monkeypatch.setattr(roots, "LATE_LOOKUP_OFFSET", 1)
    for i, name in enumerate(["b", "d", "a", "e", "c"]):
        make_trace(name, start=T0 + timedelta(minutes=i), children=1)
    newest = client.get(url("dashboard/runs/roots?limit=2&offset=1")).json()
    assert [r["name"] for r in newest["runs"]] == ["e", "a"]
    assert [r["run_count"] for r in newest["runs"]] == [2, 2]
    by_name = client.get(url("dashboard/runs/roots?limit=3&offset=2&ordering=name"))
    assert [r["name"] for r in by_name.json()["runs"]] == ["c", "d", "e"]
    assert by_name.json()["has_more"] is False


def test_a_scanning_trace_filter_reports_what_its_page_found(client, url, monkeypatch):
    monkeypatch.setattr(trace_filters, "SET_LIMIT", 0)
    for i in range(5):
        make_trace(f"t{i}", start=T0 + timedelta(minutes=i), children=1)
    body = client.get(url("dashboard/runs/roots?limit=2&search=t")).json()
    assert [r["name"] for r in body["runs"]] == ["t4", "t3"]
    assert (body["total"], body["total_capped"], body["has_more"]) == (2, True, True)
    last = client.get(url("dashboard/runs/roots?limit=2&offset=4&search=t")).json()
    assert (last["total"], last["total_capped"], last["has_more"]) == (5, False, False)
