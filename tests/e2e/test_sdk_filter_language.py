"""``client.list_runs(filter=, trace_filter=, tree_filter=)`` through a live server.

Three traces whose runs differ in one thing each, so every expression below
selects an exact set; the SDK must log no warning while doing it.
"""

import gc
import logging
import warnings
from datetime import UTC, datetime, timedelta

import pytest
from langsmith import Client
from langsmith.utils import LangSmithError

from runs.models import Project
from tests.factories import FeedbackFactory, RunFactory

pytestmark = [pytest.mark.e2e]

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def _run(project, label, *, parent=None, start, seconds, **fields):
    metadata = fields.pop("metadata", None)
    if metadata is None and parent is not None:
        # What the SDK does: a child carries its root's metadata.
        metadata = parent.extra.get("metadata", {})
    return RunFactory(
        project=project,
        parent=parent,
        name=fields.pop("name", label),
        start_time=start,
        end_time=start + timedelta(seconds=seconds),
        extra={"metadata": metadata or {}},
        **fields,
    )


@pytest.fixture
def traces(live_url):
    """Labels -> runs of three traces (a, b, c) in one project."""
    project = Project.objects.create(name="filter-language")
    runs = {}
    a = runs["a"] = _run(
        project,
        "agent-a",
        start=T0,
        seconds=2,
        tags=["beta"],
        metadata={"user_id": "u-7", "env": "prod"},
    )
    runs["a_llm"] = _run(
        project,
        "a_llm",
        parent=a,
        start=T0 + timedelta(seconds=0.1),
        seconds=6,
        name="ChatOpenAI",
        run_type="llm",
        prompt_tokens=100,
        completion_tokens=50,
        total_tokens=150,
    )
    runs["a_tool"] = _run(
        project,
        "a_tool",
        parent=a,
        start=T0 + timedelta(seconds=0.2),
        seconds=1,
        name="web_search",
        run_type="tool",
        status="error",
        error="TimeoutError: the search was slow",
    )
    start = T0 + timedelta(minutes=1)
    b = runs["b"] = _run(
        project,
        "agent-b",
        start=start,
        seconds=8,
        tags=["alpha"],
        metadata={"user_id": "u-8", "env": "prod"},
    )
    runs["b_llm"] = _run(
        project,
        "b_llm",
        parent=b,
        start=start + timedelta(seconds=0.1),
        seconds=3,
        name="ChatOpenAI",
        run_type="llm",
        metadata={"user_id": "u-8"},
        prompt_tokens=400,
        completion_tokens=100,
        total_tokens=500,
    )
    runs["b_calc"] = _run(
        project,
        "b_calc",
        parent=b,
        start=start + timedelta(seconds=0.2),
        seconds=0.5,
        name="calculator",
        run_type="tool",
    )
    start = T0 + timedelta(minutes=2)
    c = runs["c"] = _run(
        project,
        "agent-c",
        start=start,
        seconds=1,
        tags=["beta", "gamma"],
        metadata={"user_id": "u-9", "ref": "u-7"},
        status="error",
        error="ValueError: bad answer",
    )
    runs["c_ret"] = _run(
        project,
        "c_ret",
        parent=c,
        start=start + timedelta(seconds=0.1),
        seconds=0.2,
        name="retriever",
        run_type="retriever",
        inputs={"query": "timeout policy"},
    )
    runs["c_llm"] = _run(
        project,
        "c_llm",
        parent=c,
        start=start + timedelta(seconds=0.2),
        seconds=7,
        name="ChatOpenAI",
        run_type="llm",
        prompt_tokens=1000,
        completion_tokens=200,
        total_tokens=1200,
    )
    FeedbackFactory(run_id=b.id, trace_id=b.trace_id, key="correctness", score=0.9)
    FeedbackFactory(run_id=c.id, trace_id=c.trace_id, key="correctness", score=0.2)
    FeedbackFactory(run_id=c.id, trace_id=c.trace_id, key="helpfulness", score=0.9)
    return project, runs


@pytest.fixture
def client(live_url, api_prefix) -> Client:
    return Client(
        api_url=f"{live_url}{api_prefix}", api_key="any-key", auto_batch_tracing=False
    )


ALL = {"a", "a_llm", "a_tool", "b", "b_llm", "b_calc", "c", "c_ret", "c_llm"}
CASES = [
    ({"filter": 'eq(run_type, "llm")'}, {"a_llm", "b_llm", "c_llm"}),
    ({"filter": 'and(eq(run_type, "llm"), gt(latency, 5))'}, {"a_llm", "c_llm"}),
    ({"filter": 'has(tags, "beta")'}, {"a", "c"}),
    ({"filter": 'search("timeout")'}, {"a_tool", "c_ret"}),
    (
        {"filter": 'and(eq(feedback_key, "correctness"), gte(feedback_score, 0.5))'},
        {"b"},
    ),
    (
        {"filter": 'and(eq(metadata_key, "user_id"), eq(metadata_value, "u-7"))'},
        {"a", "a_llm", "a_tool"},
    ),
    ({"filter": "neq(error, null)"}, {"a_tool", "c"}),
    ({"filter": "eq(error, null)"}, ALL - {"a_tool", "c"}),
    ({"filter": 'eq(status, "error")'}, {"a_tool", "c"}),
    ({"filter": 'eq(status, "success")'}, ALL - {"a_tool", "c"}),
    ({"filter": "eq(is_root, true)"}, {"a", "b", "c"}),
    ({"filter": 'and(eq(is_root, false), eq(run_type, "tool"))'}, {"a_tool", "b_calc"}),
    ({"filter": "gt(total_tokens, 400)"}, {"b_llm", "c_llm"}),
    (
        {"filter": "and(gte(prompt_tokens, 100), lt(completion_tokens, 150))"},
        {"a_llm", "b_llm"},
    ),
    (
        {"filter": 'or(eq(name, "calculator"), eq(name, "retriever"))'},
        {"b_calc", "c_ret"},
    ),
    ({"filter": 'not(eq(run_type, "chain"))'}, ALL - {"a", "b", "c"}),
    ({"filter": 'in(name, ["agent-a", "agent-c"])'}, {"a", "c"}),
    ({"filter": "lte(latency, 1)"}, {"a_tool", "b_calc", "c", "c_ret"}),
    ({"filter": 'eq(metadata_key, "ref")'}, {"c", "c_ret", "c_llm"}),
    (
        {"filter": 'and(eq(metadata_key, "env"), eq(metadata_value, "prod"))'},
        {"a", "a_llm", "a_tool", "b", "b_calc"},
    ),
    (
        {
            "filter": 'and(in(metadata_key, ["session_id", "user_id"]), '
            'eq(metadata_value, "u-8"))'
        },
        {"b", "b_llm", "b_calc"},
    ),
    ({"filter": 'search(name, "chat")'}, {"a_llm", "b_llm", "c_llm"}),
    (
        {"filter": 'and(eq(input_key, "query"), eq(input_value, "timeout policy"))'},
        {"c_ret"},
    ),
    (
        {"filter": 'and(eq(feedback_key, "helpfulness"), gt(feedback_score, 0.5))'},
        {"c"},
    ),
    (
        {
            "filter": 'or(and(eq(run_type, "llm"), gt(total_tokens, 1000)), '
            'has(tags, "alpha"))'
        },
        {"c_llm", "b"},
    ),
    (
        {
            "filter": 'and(or(has(tags, "beta"), has(tags, "alpha")), '
            'not(eq(status, "error")), gt(latency, 1.5))'
        },
        {"a", "b"},
    ),
    ({"filter": 'gt(start_time, "2026-11-20T09:01:30Z")'}, {"c", "c_ret", "c_llm"}),
    (
        {
            "filter": 'eq(run_type, "llm")',
            "trace_filter": 'and(eq(feedback_key, "correctness"), '
            "gte(feedback_score, 0.5))",
        },
        {"b_llm"},
    ),
    (
        {"filter": 'eq(run_type, "llm")', "trace_filter": 'has(tags, "beta")'},
        {"a_llm", "c_llm"},
    ),
    (
        {"filter": "eq(is_root, true)", "tree_filter": 'eq(name, "web_search")'},
        {"a"},
    ),
    (
        {
            "filter": "eq(is_root, true)",
            "tree_filter": 'and(eq(run_type, "llm"), gt(latency, 5))',
        },
        {"a", "c"},
    ),
    (
        {"tree_filter": "neq(error, null)"},
        {"a", "a_llm", "a_tool", "c", "c_ret", "c_llm"},
    ),
    (
        {
            "filter": 'eq(run_type, "tool")',
            "trace_filter": 'eq(status, "success")',
            "tree_filter": "gt(total_tokens, 100)",
        },
        {"a_tool", "b_calc"},
    ),
]


@pytest.mark.parametrize(("params", "expected"), CASES, ids=[str(c[0]) for c in CASES])
def test_list_runs_selects_exactly_the_runs_an_expression_names(
    client, traces, params, expected, caplog
):
    project, runs = traces
    label_of = {run.id: label for label, run in runs.items()}
    caplog.set_level(logging.WARNING, logger="langsmith")
    gc.collect()  # earlier tests' garbage warns outside the window
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        found = list(client.list_runs(project_id=project.id, **params))
    assert {label_of[run.id] for run in found} == expected
    assert len(found) == len(expected)
    assert [
        r.getMessage() for r in caplog.records if r.name.startswith("langsmith")
    ] == []
    # list_runs itself is announced as deprecated in favour of runs.query;
    # nothing else may be warned about.
    others = [
        str(w.message)
        for w in caught
        if "list_runs() is deprecated" not in str(w.message)
    ]
    assert others == []


def test_trace_ids_from_the_sdk_filter_by_trace_and_parent(client, traces):
    project, runs = traces
    trace = runs["b"].trace_id
    found = client.list_runs(project_id=project.id, filter=f'eq(trace_id, "{trace}")')
    assert {r.name for r in found} == {"agent-b", "ChatOpenAI", "calculator"}
    parent = runs["a"].id
    found = client.list_runs(
        project_id=project.id, filter=f'eq(parent_run_id, "{parent}")'
    )
    assert {r.id for r in found} == {runs["a_llm"].id, runs["a_tool"].id}


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ('and(eq(run_type, "llm")', "At position 24: the expression ends early"),
        ('eq(colour, "red")', "At position 4: unknown attribute"),
        ('gt(latency, "slow")', "At position 13: expected a number"),
        ("not(" * 10_000 + 'eq(name, "x")' + ")" * 10_000, "at most 10,000 characters"),
        ("not(" * 1_000 + 'eq(name, "x")' + ")" * 1_000, "nesting deeper than 32"),
    ],
)
def test_a_bad_expression_raises_a_400_naming_the_problem(
    client, traces, expression, message
):
    project, _ = traces
    with pytest.raises(LangSmithError) as raised:
        list(client.list_runs(project_id=project.id, filter=expression))
    assert "400" in str(raised.value)
    assert message in str(raised.value)
