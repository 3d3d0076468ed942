"""The overview, traces and projects pages through Django's test client."""

import importlib
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from runs.query import roots
from runs.viewers import make_viewer
from tests.factories import ProjectFactory, RunFactory

pytestmark = pytest.mark.django_db

# The package re-exports the view function under the module's name.
traces_view = importlib.import_module("dashboard.views.traces")

XSS = '<script>window.__xss=1</script><img src=x onerror="window.__xss=1"> {{ 7*7 }}'
XSS_ESCAPED = (
    "&lt;script&gt;window.__xss=1&lt;/script&gt;&lt;img src=x "
    "onerror=&quot;window.__xss=1&quot;&gt; {{ 7*7 }}"
)


def make_trace(name="agent", *, project="default", status="success", ago=60, **kw):
    start = timezone.now() - timedelta(seconds=ago)
    root = RunFactory(
        name=name,
        project=ProjectFactory(name=project),
        status=status,
        start_time=start,
        end_time=start + timedelta(seconds=2),
        **kw,
    )
    RunFactory(
        parent=root,
        project=root.project,
        name="ChatOpenAI",
        run_type="llm",
        model_name="gpt-4o-mini",
        total_tokens=120,
        prompt_tokens=100,
        completion_tokens=20,
        start_time=start,
        end_time=start + timedelta(seconds=1),
        status="error" if status == "error" else "success",
    )
    return root


def test_every_empty_page_says_which_variables_to_set(client):
    for url in ("/", "/traces", "/projects"):
        html = client.get(url).content.decode()
        assert "export LANGCHAIN_TRACING_V2=true" in html
        assert "export LANGCHAIN_ENDPOINT=http://testserver/api/v1" in html
        assert "export LANGCHAIN_API_KEY=anything" in html
        assert "export LANGCHAIN_PROJECT=my-project" in html
        assert "export OTEL_EXPORTER_OTLP_ENDPOINT=http://testserver\n" in html
        assert "export OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf" in html
        assert (
            'export OTEL_EXPORTER_OTLP_HEADERS="Langsmith-Project=my-project"' in html
        )


def test_empty_state_under_require_auth_names_the_key_command(admin_client, settings):
    settings.REQUIRE_AUTH = True
    html = admin_client.get("/traces").content.decode()
    assert (
        "export LANGCHAIN_API_KEY=&lt;a key from: python3 dev.py manage "
        "create_api_key NAME&gt;" in html
    )
    assert (
        'export OTEL_EXPORTER_OTLP_HEADERS="Langsmith-Project=my-project,'
        'x-api-key=KEY"' in html
    )


def test_overview_cards_count_traces_runs_and_tokens(client):
    make_trace("ok-1")
    make_trace("bad", status="error")
    response = client.get("/?range=24h")
    assert response.status_code == 200
    cards = response.context
    assert cards["stats"]["total_traces"] == 2
    assert cards["stats"]["total_runs"] == 4
    assert cards["stats"]["tokens"]["total"] == 240
    assert cards["stats"]["success_rate"] == 0.5
    html = response.content.decode()
    assert '<div class="label">Traces</div><div class="value">2</div>' in html
    assert '<div class="label">Success rate</div><div class="value">50.0%</div>' in html
    assert '<div class="sub">of 4 finished runs</div>' in html
    assert '<div class="label">p95 latency</div><div class="value">2.00 s</div>' in html
    assert [r["label"] for r in cards["by_model"]] == ["gpt-4o-mini"]
    assert [(r["label"], r["count"]) for r in cards["by_type"]] == [
        ("chain", 2),
        ("llm", 2),
    ]
    assert html.count('<rect class="bar-runs"') == 25  # 24 h of hourly buckets


def test_overview_is_scoped_to_a_project_and_range(client):
    make_trace("a", project="alpha")
    make_trace("b", project="beta")
    make_trace("old", project="alpha", ago=3 * 86400)
    response = client.get("/?project=alpha&range=1h")
    assert response.context["stats"]["total_traces"] == 1
    assert response.context["project"].name == "alpha"
    week = client.get("/?project=alpha&range=7d")
    assert week.context["stats"]["total_traces"] == 2
    assert week.context["stats"]["time_series"]["bucket"] == "day"


def test_overview_custom_range_and_bad_ranges(client):
    make_trace("a", ago=7200)
    now = timezone.now()
    start = (now - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")
    end = (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    custom = client.get(f"/?range=custom&from={start}&to={end}")
    assert custom.context["range"] == "custom"
    assert custom.context["stats"]["total_traces"] == 1
    backwards = client.get(f"/?range=custom&from={end}&to={start}")
    assert backwards.context["errors"] == [
        "Custom range: the end must be after the start."
    ]
    assert backwards.context["range"] == "24h"
    missing = client.get("/?range=custom&from=garbage")
    assert missing.context["errors"] == ["Custom range: give a valid start time."]
    unknown = client.get("/?range=99y")
    assert unknown.context["errors"] == [
        "Unknown range '99y'; showing the last 24 hours."
    ]


def test_overview_of_an_unknown_project_is_404(client):
    make_trace()
    response = client.get("/?project=nope")
    assert response.status_code == 404
    assert "No project named &#x27;nope&#x27;." in response.content.decode()


def test_traces_table_lists_one_row_per_trace_newest_first(client):
    make_trace("older", ago=120)
    make_trace("newer", ago=10, tags=["prod"])
    response = client.get("/traces")
    names = [row["name"] for row in response.context["rows"]]
    assert names == ["newer", "older"]
    row = response.context["rows"][0]
    assert (row["run_count"], row["trace_total_tokens"], row["models"]) == (
        2,
        120,
        ["gpt-4o-mini"],
    )
    html = response.content.decode()
    assert '<span class="badge tag" title="prod">prod</span>' in html
    assert 'hx-trigger="every 5s"' in html
    assert "2 traces" in html


def test_traces_filters_come_from_the_url(client):
    make_trace("good", project="alpha")
    make_trace("broken", project="alpha", status="error")
    make_trace("elsewhere", project="beta")

    def names(query):
        return [r["name"] for r in client.get(f"/traces?{query}").context["rows"]]

    assert names("project=alpha") == ["broken", "good"]
    assert names("status=error") == ["broken"]
    assert names("has_error=false&project=alpha") == ["good"]
    assert names("model=gpt-4o-mini&project=beta") == ["elsewhere"]
    assert names("run_type=llm") == []
    assert names("since=1h&ordering=name") == ["broken", "elsewhere", "good"]


def test_traces_search_and_tags(client):
    make_trace("weather", inputs={"q": "Wetter in München"}, tags=["a", "b"])
    make_trace("other", tags=["a"])
    rows = client.get("/traces?search=münchen").context["rows"]
    assert [r["name"] for r in rows] == ["weather"]
    rows = client.get("/traces?tags=a,b").context["rows"]
    assert [r["name"] for r in rows] == ["weather"]


def test_an_invalid_filter_names_the_parameter(client):
    make_trace()
    response = client.get("/traces?status=exploded&start_time_gte=yesterday")
    assert response.status_code == 400
    html = response.content.decode()
    assert "<li><code>status</code>: Select a valid choice." in html
    assert "<li><code>start_time_gte</code>: Enter a valid date/time.</li>" in html


def test_a_broken_cursor_is_a_clear_error(client):
    make_trace()
    response = client.get("/traces?after=not-a-cursor")
    assert response.status_code == 400
    assert "Not a valid page cursor." in response.content.decode()


def test_keyset_pages_walk_back_in_time_without_overlap(client, monkeypatch):
    monkeypatch.setattr(traces_view, "PAGE_SIZE", 2)
    for i in range(5):
        make_trace(f"t{i}", ago=100 - i)
    seen = []
    url = "/traces"
    while url:
        response = client.get(url)
        seen += [r["name"] for r in response.context["rows"]]
        link = response.context["next_link"]
        url = f"/traces{link}" if link else ""
        assert response.context["live"] is (len(seen) == 2)
    assert seen == ["t4", "t3", "t2", "t1", "t0"]


def test_sorted_pages_use_capped_offsets(client, monkeypatch):
    monkeypatch.setattr(traces_view, "PAGE_SIZE", 2)
    monkeypatch.setattr(traces_view, "MAX_OFFSET", 2)
    for name in "cabde":
        make_trace(name)
    first = client.get("/traces?ordering=name")
    assert [r["name"] for r in first.context["rows"]] == ["a", "b"]
    assert first.context["next_link"] == "?ordering=name&offset=2"
    second = client.get("/traces?ordering=name&offset=2")
    assert [r["name"] for r in second.context["rows"]] == ["c", "d"]
    assert second.context["prev_link"] == "?ordering=name&offset=0"
    assert second.context["next_link"] == ""
    assert second.context["capped"] is True
    assert "Sorted lists stop at 10,000 rows" in second.content.decode()


def test_column_headers_toggle_the_sort(client):
    make_trace()
    columns = {c["key"]: c for c in client.get("/traces").context["columns"]}
    assert columns["start"] == {
        "key": "start",
        "label": "Started",
        "sort": "start_time",
        "dir": "descending",
        "optional": True,
    }
    assert columns["duration"]["sort"] == "-latency"
    assert columns["name"]["sort"] == "name"
    flipped = {
        c["key"]: c
        for c in client.get("/traces?ordering=start_time").context["columns"]
    }
    assert flipped["start"]["dir"] == "ascending"
    assert flipped["start"]["sort"] == "-start_time"
    assert columns["cost"]["sort"] == "-trace_cost"


def test_htmx_poll_gets_only_the_results_block(client):
    make_trace("live-one")
    response = client.get("/traces", headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="traces-results" hx-get="/traces"')
    assert "live-one" in html
    assert "<html" not in html


def test_running_traces_tick_in_the_browser(client):
    start = timezone.now() - timedelta(seconds=30)
    RunFactory(name="busy", status="running", start_time=start, end_time=None)
    html = client.get("/traces").content.decode()
    assert f'<span data-running-since="{start.isoformat()}">' in html


def test_stored_xss_is_shown_as_text_in_the_traces_table(client):
    make_trace(XSS, tags=[XSS])
    html = client.get("/traces").content.decode()
    assert XSS_ESCAPED in html
    assert "<script>window.__xss" not in html
    assert 'onerror="window' not in html


def test_projects_page_counts_errors_and_activity(client):
    make_trace("a", project="alpha")
    make_trace("b", project="alpha", status="error")
    ProjectFactory(name="quiet")
    response = client.get("/projects")
    by_name = {p["name"]: p for p in response.context["projects"]}
    assert by_name["alpha"]["trace_count"] == 2
    assert by_name["alpha"]["error_count"] == 2
    assert by_name["quiet"]["run_count"] == 0
    html = response.content.decode()
    assert (
        '<td class="name"><a href="/?project=alpha" title="Overview of alpha">'
        "alpha</a>" in html
    )
    assert '<a href="/traces?project=alpha">Traces</a>' in html
    assert '<a href="/?project=alpha">Overview</a>' in html
    assert '<span class="muted">never</span>' in html


def test_pages_send_a_strict_content_security_policy(client):
    make_trace()
    for url in ("/", "/traces", "/projects", "/admin/login/"):
        policy = client.get(url)["Content-Security-Policy"]
        assert "script-src 'self'" in policy
        assert "unsafe-inline" not in policy
        assert "object-src 'none'" in policy


def test_require_auth_sends_visitors_to_the_login(client, settings):
    settings.REQUIRE_AUTH = True
    response = client.get("/traces?status=error")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/traces%3Fstatus%3Derror"
    user = User.objects.create_user("someone", password="pw-123456")
    client.force_login(user)
    refused = client.get("/traces")
    assert refused.status_code == 403
    assert "neither staff nor a viewer" in refused.content.decode()
    make_viewer(user)
    assert client.get("/traces").status_code == 200


def test_without_require_auth_the_dashboard_is_open(client, settings):
    settings.REQUIRE_AUTH = False
    assert client.get("/").status_code == 200


def test_runs_running_past_the_stale_time_are_shown_as_stale(client, settings):
    settings.STALE_AFTER_MINUTES = 60
    start = timezone.now() - timedelta(hours=2)
    run = RunFactory(name="dead", status="running", start_time=start, end_time=None)
    html = client.get("/traces").content.decode()
    assert '">stale</span>' in html
    assert "data-running-since" not in html
    panel = client.get(f"/traces/{run.trace_id}").content.decode()
    assert '<dd><span class="muted">never ended</span>' in panel


def test_the_trace_count_stops_at_the_cap(client, monkeypatch):
    monkeypatch.setattr(traces_view, "PAGE_SIZE", 2)
    monkeypatch.setattr(roots, "COUNT_CAP", 3)
    for i in range(5):
        make_trace(f"t{i}")
    html = client.get("/traces").content.decode()
    assert "3+ traces" in html
    few = client.get("/traces?search=t4").content.decode()
    assert "<span>1 trace</span>" in few


def test_only_api_docs_pages_may_run_inline_script(client):
    docs = client.get("/docs")["Content-Security-Policy"]
    assert "script-src 'self' 'unsafe-inline';" in docs
    assert (
        "script-src 'self' 'unsafe-inline';"
        in (client.get("/redoc")["Content-Security-Policy"])
    )
    assert "unsafe-inline" not in client.get("/traces")["Content-Security-Policy"]


def test_success_rate_leaves_running_runs_out_and_says_so(client):
    for i in range(16):
        make_trace(f"ok-{i}", status="success")
    for i in range(4):
        make_trace(f"bad-{i}", status="error")
    RunFactory(status="running", end_time=None)
    stats = client.get("/api/v1/dashboard/stats/summary").json()
    # 36 successes (16 roots, 16 children, 4 children of failed roots).
    assert stats["status_distribution"] == {"error": 4 + 4, "running": 1, "success": 32}
    assert stats["success_rate"] == round(32 / 40, 4)
    html = client.get("/?range=24h").content.decode()
    assert '<div class="label">Success rate</div><div class="value">80.0%</div>' in html
    assert '<div class="sub">of 40 finished runs · 1 running</div>' in html


def test_every_overview_card_explains_itself_and_no_card_repeats_another(client):
    make_trace("a")
    day = client.get("/?range=24h").content.decode()
    week = client.get("/?range=7d").content.decode()
    cards = day.split('<div class="cards">')[1].split('<div class="grid-2">')[0]
    # Traces, runs, success rate, p95 latency, cost, tokens: each with a title.
    assert cards.count('<div class="panel card"') == 6
    assert cards.count('<div class="panel card" title="') == 6
    assert "Runs, last 24 h" not in day
    assert "Runs, last 24 h" in week
    assert (
        'title="Successful runs over finished runs (success + error). Runs still '
        'running have no outcome yet and are left out."' in day
    )
    assert (
        'title="US dollars of the LLM runs of this range, priced at ingest (or as '
        "the client sent them). Runs of a model with no price are counted as "
        'unpriced, never as $0."' in day
    )


def test_the_traces_page_says_what_status_and_errors_mean(client):
    root = make_trace("recovered", status="success")
    RunFactory(parent=root, project=root.project, status="error", name="flaky tool")
    html = client.get("/traces").content.decode()
    assert '<label for="f-status">Trace status</label>' in html
    assert '<label for="f-err">Has errors</label>' in html
    assert "Status is the trace's own outcome (its root run)" in html
    # A trace that recovered from a failed step is not drawn as failed.
    assert 'class="row-error"' not in html
    assert (
        '<span class="t-err" title="Failed runs in this trace (its status is the '
        "root run's)\">1 error</span>" in html
    )
