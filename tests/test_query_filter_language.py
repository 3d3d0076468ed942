"""The filter language over the store: attributes, pairs, scopes and refusals."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from runs.models import Run
from runs.query import filter_expressions
from runs.query.filter_language import FilterError, compile_filter
from tests.factories import FeedbackFactory, ProjectFactory, RunFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.fixture
def runs():
    project = ProjectFactory(name="fl")
    root = RunFactory(
        project=project,
        name="root",
        start_time=T0,
        end_time=T0 + timedelta(seconds=3),
        tags=["prod", "v2"],
        extra={"metadata": {"user_id": "u-1", "n": 7, "flag": True, "deep": {"a": 1}}},
        inputs={"question": "Wie spät ist es?"},
        outputs={"answer": "Zwölf Uhr"},
        reference_example_id=uuid.UUID(int=5),
    )
    llm = RunFactory(
        project=project,
        parent=root,
        name="llm",
        run_type="llm",
        start_time=T0 + timedelta(seconds=1),
        end_time=T0 + timedelta(seconds=1.5),
        first_token_time=T0 + timedelta(seconds=1.1),
        total_tokens=30,
        extra={"metadata": {"user_id": "u-2", "other": "u-1"}},
    )
    running = RunFactory(
        project=project,
        parent=root,
        name="still going",
        run_type="tool",
        status="running",
        start_time=T0 + timedelta(seconds=2),
        end_time=None,
        extra={},
        outputs=None,
    )
    FeedbackFactory(run_id=llm.id, key="accuracy", score=1.0)
    FeedbackFactory(run_id=root.id, key="accuracy", score=0.0)
    FeedbackFactory(run_id=root.id, key="tone", score=1.0)
    return {"root": root, "llm": llm, "running": running}


def names(expression, scope="run"):
    return sorted(
        Run.objects.filter(compile_filter(expression, scope=scope)).values_list(
            "name", flat=True
        )
    )


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ('eq(status, "pending")', ["still going"]),
        ('in(status, ["success", "pending"])', ["llm", "root", "still going"]),
        ('neq(run_type, "llm")', ["root", "still going"]),
        ("eq(latency, 0.5)", ["llm"]),
        ("neq(latency, 0.5)", ["root"]),
        ("in(latency, [3, 0.5])", ["llm", "root"]),
        ("not(gt(latency, 1))", ["llm"]),
        ("gte(latency, 3)", ["root"]),
        ('lt(end_time, "2026-11-20T09:00:02")', ["llm"]),
        ('gte(first_token_time, "2026-11-20T09:00:01+00:00")', ["llm"]),
        ("eq(end_time, null)", ["still going"]),
        ("eq(parent_run_id, null)", ["root"]),
        ("eq(is_root, false)", ["llm", "still going"]),
        ("neq(is_root, true)", ["llm", "still going"]),
        ('has(tags, "v2")', ["root"]),
        ('in(tags, ["v1", "prod"])', ["root"]),
        ('neq(tags, "prod")', ["llm", "still going"]),
        ('search(error, "x")', []),
        ('eq(error, "boom")', []),
        ("eq(total_tokens, 30)", ["llm"]),
        ("in(total_tokens, [30, 31])", ["llm"]),
        ('eq(reference_example_id, "00000000-0000-0000-0000-000000000005")', ["root"]),
        ('search("zwölf")', ["root"]),
        ('eq(metadata_value, "u-1")', ["llm", "root"]),
        ('and(eq(metadata_key, "user_id"), eq(metadata_value, "u-1"))', ["root"]),
        ('or(eq(metadata_key, "other"), eq(metadata_value, "u-2"))', ["llm"]),
        ('and(eq(metadata_key, "n"), eq(metadata_value, 7))', ["root"]),
        ('and(eq(metadata_key, "n"), eq(metadata_value, "7"))', ["root"]),
        ('and(eq(metadata_key, "flag"), eq(metadata_value, true))', ["root"]),
        ('and(eq(metadata_key, "user_id"), neq(metadata_value, "u-1"))', ["llm"]),
        ('search(metadata_value, "U-")', ["llm", "root"]),
        (
            'and(in(metadata_key, ["user_id"]), in(metadata_value, ["u-1", "u-2"]))',
            ["llm", "root"],
        ),
        (
            'not(and(eq(metadata_key, "user_id"), eq(metadata_value, "u-1")))',
            ["llm", "still going"],
        ),
        ('eq(metadata_key, "deep")', ["root"]),
        ('and(eq(metadata_key, "user_id"), eq(metadata_value, null))', []),
        (
            'and(eq(metadata_key, "user_id"), neq(metadata_value, null))',
            ["llm", "root"],
        ),
        ('and(eq(input_key, "question"), search(input_value, "spät"))', ["root"]),
        ('and(eq(output_key, "answer"), eq(output_value, "Zwölf Uhr"))', ["root"]),
        ('eq(output_key, "answer")', ["llm", "root"]),
        ('and(eq(feedback_key, "accuracy"), eq(feedback_score, 1))', ["llm"]),
        ('and(eq(feedback_key, "tone"), eq(feedback_score, 0))', []),
        ('and(search(feedback_key, "TON"), gt(feedback_score, 0.5))', ["root"]),
        ('in(feedback_key, ["tone", "x"])', ["root"]),
        ("lt(feedback_score, 0.5)", ["root"]),
        (
            'and(eq(run_type, "llm"), eq(feedback_key, "accuracy"), '
            'eq(metadata_key, "other"))',
            ["llm"],
        ),
        (
            'or(eq(name, "llm"), and(eq(name, "root"), has(tags, "prod")))',
            ["llm", "root"],
        ),
    ],
)
def test_an_expression_selects_exactly_its_runs(runs, expression, expected):
    assert names(expression) == expected


def test_ids_and_traces_compare_as_uuids(runs):
    root = runs["root"]
    assert names(f'eq(id, "{root.id}")') == ["root"]
    assert names(f'eq(trace_id, "{str(root.trace_id).upper()}")') == [
        "llm",
        "root",
        "still going",
    ]
    assert names(f'eq(session_id, "{root.project_id}")') == [
        "llm",
        "root",
        "still going",
    ]
    assert names(f'neq(id, "{root.id}")') == ["llm", "still going"]


def test_trace_and_tree_scopes_select_runs_by_their_trace(runs):
    other = RunFactory(name="other root", start_time=T0)
    RunFactory(parent=other, name="other child", run_type="llm", start_time=T0)
    assert names('eq(name, "root")', scope="trace") == ["llm", "root", "still going"]
    assert names('eq(name, "llm")', scope="trace") == []
    assert names('eq(run_type, "llm")', scope="tree") == [
        "llm",
        "other child",
        "other root",
        "root",
        "still going",
    ]
    assert names('eq(status, "pending")', scope="tree") == [
        "llm",
        "root",
        "still going",
    ]


def test_the_metadata_table_and_the_walk_select_the_same_runs(runs, monkeypatch):
    expression = 'and(eq(metadata_key, "user_id"), in(metadata_value, ["u-1", "u-2"]))'
    listed = names(expression)
    monkeypatch.setattr(filter_expressions, "SET_LIMIT", 0)
    assert names(expression) == listed == ["llm", "root"]


def test_the_metadata_table_follows_updates_and_deletes(runs):
    llm = runs["llm"]
    expression = 'and(eq(metadata_key, "user_id"), eq(metadata_value, "u-3"))'
    assert names(expression) == []
    Run.objects.filter(id=llm.id).update(extra={"metadata": {"user_id": "u-3"}})
    assert names(expression) == ["llm"]
    assert names('eq(metadata_key, "other")') == []
    Run.objects.filter(id=llm.id).delete()
    assert names(expression) == []


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        (
            'eq(colour, "red")',
            "At position 4: unknown attribute 'colour'; expected one of ",
        ),
        ('gt(latency, "slow")', "At position 13: expected a number, got 'slow'"),
        ("gt(total_tokens, true)", "At position 18: expected a number, got True"),
        ("eq(name, 5)", "At position 10: expected a quoted string, got 5"),
        (
            'gt(name, "a")',
            "At position 1: name does not take gt(...); "
            "expected one of eq, neq, in, search",
        ),
        ('has(name, "a")', "At position 1: name does not take has(...)"),
        (
            'eq(status, "done")',
            "At position 12: status is one of 'success', 'error', 'pending', "
            "'running', not 'done'",
        ),
        (
            'eq(is_root, "yes")',
            "At position 13: is_root compares with true or false, not 'yes'",
        ),
        ('eq(id, "not-a-uuid")', "At position 8: 'not-a-uuid' is not a UUID"),
        (
            'gt(start_time, "yesterday")',
            "At position 16: expected an ISO-8601 time, got 'yesterday'",
        ),
        (
            'in(name, "a")',
            'At position 10: in(...) expects a non-empty list such as ["a", "b"]',
        ),
        ("in(name, [])", "At position 10: in(...) expects a non-empty list"),
        ('eq(name, ["a"])', "At position 10: eq(...) expects one value, not a list"),
        ('eq("name", "a")', "At position 4: eq(...) expects an attribute name first"),
        (
            "eq(name, eq(a, 1))",
            "At position 10: eq(...) expects a value second, not a call",
        ),
        ("eq(name)", "At position 1: eq(...) takes an attribute and a value"),
        ("and()", "At position 1: and(...) needs at least one condition"),
        ("or()", "At position 1: or(...) needs at least one condition"),
        (
            'not(eq(name, "a"), eq(name, "b"))',
            "At position 1: not(...) takes exactly one condition",
        ),
        (
            'and(eq(name, "a"), "b")',
            'At position 20: expected a call such as eq(name, "x")',
        ),
        ('like(name, "a")', "At position 1: unknown operator 'like'"),
        ('search("  ")', "At position 8: search(...) needs some text"),
        ("search(5)", "At position 8: expected a quoted string, got 5"),
        (
            "eq(metadata_value, [1])",
            "At position 20: eq(...) expects one value, not a list",
        ),
        ("eq(metadata_value, 1.5e400)", ""),
        (
            'gt(metadata_value, "a")',
            "At position 1: metadata_value does not take gt(...)",
        ),
        ('eq(total_cost, "a")', "At position 16"),
        (
            "gt(end_time, null)",
            "At position 14: gt(...) compares with a time, not null",
        ),
    ],
)
def test_an_unusable_expression_is_refused_with_where_and_why(expression, message):
    try:
        condition = compile_filter(expression)
    except FilterError as exc:
        assert str(exc).startswith(message)
        return
    # Only an infinite number is accepted (as text): it matches nothing.
    assert message == ""
    assert list(Run.objects.filter(condition)) == []


def test_cost_attributes_compare_each_runs_own_cost(runs):
    Run.objects.filter(id=runs["llm"].id).update(
        prompt_cost=0.002, completion_cost=0.001, total_cost=0.003
    )
    assert names("gt(total_cost, 0.001)") == ["llm"]
    assert names("lte(prompt_cost, 0.002)") == ["llm"]
    assert names("eq(completion_cost, 0.001)") == ["llm"]
    # A run with no cost (unpriced, or not an LLM call) matches no comparison.
    assert names("lt(total_cost, 1)") == ["llm"]
