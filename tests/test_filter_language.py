"""The filter language's parser: syntax trees, limits and error messages."""

import json

import pytest

from runs.query.filter_language import (
    MAX_COMPARISONS,
    MAX_DEPTH,
    MAX_LENGTH,
    Attr,
    Call,
    FilterError,
    Value,
    parse,
)


def test_a_nested_expression_parses_into_calls_attributes_and_values():
    tree = parse("and(eq(run_type, \"llm\"), gt(latency, 5), not(has(tags, 'b')))")
    assert tree == Call(
        "and",
        (
            Call("eq", (Attr("run_type", 8), Value("llm", 18)), 5),
            Call("gt", (Attr("latency", 29), Value(5, 38)), 26),
            Call("not", (Call("has", (Attr("tags", 50), Value("b", 56)), 46),), 42),
        ),
        1,
    )


def test_values_are_strings_numbers_constants_and_lists():
    tree = parse('in(x, [1, -2.5, 1e3, "a\\"b", null, true, false])')
    assert tree.args[1].value == [1, -2.5, 1000.0, 'a"b', None, True, False]


def test_whitespace_and_escapes_are_read_as_written():
    tree = parse('  eq ( name ,\n "line\\nbreak\\\\" )  ')
    assert tree.args[1].value == "line\nbreak\\"


@pytest.mark.parametrize(
    "value",
    ["quo\"te <b>/é x'", "emoji 🧵 and 中文", "tab\tback\\slash\b\f/", "\u2028"],
)
def test_values_quoted_as_json_read_back_as_written(value):
    # Client.read_thread quotes a thread id with json.dumps (\uXXXX escapes).
    tree = parse(f"eq(thread_id, {json.dumps(value)})")
    assert tree.args[1].value == value


def test_a_lone_surrogate_escape_reads_as_a_replacement_character():
    assert parse('eq(name, "a\\ud83db")').args[1].value == "a\ufffdb"


def test_search_takes_one_bare_value():
    assert parse('search("timeout")') == Call("search", (Value("timeout", 8),), 1)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            'and(eq(run_type, "llm")',
            "At position 24: the expression ends early; expected ')' or ','",
        ),
        ('eq(run_type, "llm"))', "At position 20: unexpected ')'; expected the end"),
        (
            'eq(name "x")',
            "At position 9: unexpected '\"x\"'; expected '(' or ')' or ','",
        ),
        (
            'in(name, ["a" "b"])',
            "At position 15: unexpected '\"b\"'; expected ',' or ']'",
        ),
        (
            '"just a string"',
            "At position 1: unexpected '\"just a string\"'; expected a name",
        ),
        ("eq(name, @)", "At position 10: unexpected character '@'"),
        ('eq(name, "open', "At position 10: unexpected character '\"'"),
        ("", "the expression is empty"),
        ("   ", "the expression is empty"),
    ],
)
def test_a_malformed_expression_names_the_position_and_what_was_expected(text, message):
    with pytest.raises(FilterError) as raised:
        parse(text)
    assert str(raised.value).startswith(message)


def test_deep_nesting_is_refused_before_parsing():
    text = "not(" * (MAX_DEPTH + 1) + 'eq(name, "x")' + ")" * (MAX_DEPTH + 1)
    with pytest.raises(FilterError) as raised:
        parse(text)
    assert str(raised.value) == (
        f"At position {4 * (MAX_DEPTH + 1)}: nesting deeper than {MAX_DEPTH} levels"
    )


def test_ten_thousand_levels_of_nesting_are_refused():
    text = "not(" * 10_000 + 'eq(name, "x")' + ")" * 10_000
    with pytest.raises(FilterError, match="at most 10,000 characters"):
        parse(text)
    text = "(" * 9_000
    with pytest.raises(FilterError, match="nesting deeper than 32 levels"):
        parse(text)


def test_a_100_kb_expression_is_refused_by_its_length():
    text = "or(" + ", ".join(['eq(name, "x")'] * 8_000) + ")"
    assert len(text) > 100_000
    with pytest.raises(FilterError) as raised:
        parse(text)
    assert str(raised.value) == f"an expression holds at most {MAX_LENGTH:,} characters"


def test_too_many_calls_are_refused():
    text = "or(" + ", ".join(["eq(a, 1)"] * MAX_COMPARISONS) + ")"
    with pytest.raises(FilterError, match=f"at most {MAX_COMPARISONS} calls"):
        parse(text)


def test_a_name_inside_a_list_must_be_a_constant():
    with pytest.raises(FilterError) as raised:
        parse("in(name, [a])")
    assert str(raised.value) == (
        "At position 11: unexpected 'a' in a list; expected a quoted string, "
        "a number, true, false or null"
    )


def test_a_list_longer_than_the_cap_is_refused():
    text = "in(name, [" + ", ".join(["1"] * 101) + "])"
    with pytest.raises(FilterError, match="At position 10: a list holds at most 100"):
        parse(text)
