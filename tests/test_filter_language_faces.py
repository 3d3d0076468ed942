"""The same expressions in every face: roots API, export API and command, page."""

import json
from datetime import timedelta
from io import StringIO
from urllib.parse import quote

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from tests.factories import ProjectFactory, RunFactory

pytestmark = pytest.mark.django_db

SLOW_TOOL = 'and(eq(run_type, "tool"), gt(latency, 5))'


@pytest.fixture
def traces():
    """Two traces: "slow" has a 6 s tool call, "fast" a 1 s one."""
    project = ProjectFactory(name="faces")
    start = timezone.now() - timedelta(minutes=5)
    made = {}
    for offset, name, seconds in ((0, "slow", 6), (1, "fast", 1)):
        at = start + timedelta(minutes=offset)
        root = RunFactory(
            project=project,
            name=name,
            start_time=at,
            end_time=at + timedelta(seconds=9),
        )
        RunFactory(
            project=project,
            parent=root,
            name=f"{name}-tool",
            run_type="tool",
            start_time=at,
            end_time=at + timedelta(seconds=seconds),
        )
        made[name] = root
    return made


def test_roots_api_takes_filter_and_tree_filter(client, api_prefix, traces):
    url = f"{api_prefix}/dashboard/runs/roots"
    by_tree = client.get(f"{url}?tree_filter={quote(SLOW_TOOL)}").json()
    assert [r["name"] for r in by_tree["runs"]] == ["slow"]
    by_root = client.get(f"{url}?filter={quote('eq(name, "fast")')}").json()
    assert [r["name"] for r in by_root["runs"]] == ["fast"]
    both = client.get(f"{url}?filter={quote('gt(latency, 1)')}").json()
    assert [r["name"] for r in both["runs"]] == ["fast", "slow"]


def test_roots_api_refuses_a_bad_expression_with_a_400(client, api_prefix, traces):
    response = client.get(f"{api_prefix}/dashboard/runs/roots?filter=eq(name")
    assert response.status_code == 400
    assert response.json() == {
        "filter": [
            "At position 8: the expression ends early; expected '(' or ')' or ','"
        ]
    }


def test_export_api_streams_the_runs_an_expression_selects(client, api_prefix, traces):
    response = client.get(f"{api_prefix}/export/runs?filter={quote(SLOW_TOOL)}")
    assert response.status_code == 200
    rows = [
        json.loads(line) for line in b"".join(response.streaming_content).splitlines()
    ]
    assert [r["name"] for r in rows] == ["slow-tool"]
    bad = client.get(f'{api_prefix}/export/runs?trace_filter=gt(latency, "x")')
    assert bad.status_code == 400
    assert bad.json() == {
        "trace_filter": ["At position 13: expected a number, got 'x'"]
    }


def test_export_command_takes_the_three_filters(traces):
    out = StringIO()
    call_command(
        "export_runs", "--tree-filter", SLOW_TOOL, stdout=out, stderr=StringIO()
    )
    assert sorted(json.loads(line)["name"] for line in out.getvalue().splitlines()) == [
        "slow",
        "slow-tool",
    ]
    out = StringIO()
    call_command(
        "export_runs",
        "--filter",
        'eq(run_type, "tool")',
        "--trace-filter",
        'eq(name, "fast")',
        stdout=out,
        stderr=StringIO(),
    )
    assert [json.loads(line)["name"] for line in out.getvalue().splitlines()] == [
        "fast-tool"
    ]


def test_export_command_names_the_option_of_a_bad_expression(traces):
    with pytest.raises(CommandError) as raised:
        call_command("export_runs", "--filter", "eq(nme, 1)", stdout=StringIO())
    assert str(raised.value).startswith(
        "--filter: At position 4: unknown attribute 'nme'"
    )


def test_traces_page_filters_by_expression_and_keeps_it_in_the_box(client, traces):
    response = client.get(f"/traces?tree_filter={quote(SLOW_TOOL)}")
    assert response.status_code == 200
    page = response.content.decode()
    assert ">slow</a>" in page
    assert ">fast</a>" not in page
    assert (
        'name="tree_filter" value="and(eq(run_type, &quot;tool&quot;), gt(latency, 5))"'
        in page
    )


def test_traces_page_shows_a_bad_expression_as_an_error(client, traces):
    response = client.get("/traces?filter=" + quote('eq(name, "x"'))
    assert response.status_code == 400
    page = response.content.decode()
    assert "<code>filter</code>: At position 13: the expression ends early" in page
