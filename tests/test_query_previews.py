"""One line of what a run was asked and answered, read from an excerpt of each body."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.cache import cache

from runs.models import Run
from runs.query.json_excerpt import read_excerpt
from runs.query.previews import EXCERPT_CHARS, LINE_CHARS, TurnLine, turn_lines
from tests.factories import RunFactory

pytestmark = pytest.mark.django_db


def chat(n: int, words: int = 40) -> list[dict]:
    """A conversation of ``n`` turns whose texts are ``words`` words long."""
    filler = " ".join(f"w{i}" for i in range(words))
    messages = []
    for i in range(n):
        messages.append({"type": "human", "content": f"question {i}\n{filler}"})
        messages.append({"type": "ai", "content": f"answer {i}\n{filler}"})
    return messages


def line_of(run: Run) -> TurnLine:
    return turn_lines([run.id])[str(run.id)]


def test_a_chat_previews_its_last_question_and_its_last_answer():
    run = RunFactory(
        inputs={"messages": chat(3)},
        outputs={
            "generations": [
                [{"message": {"type": "ai", "content": "Oslo: rain\nmore"}}]
            ]
        },
    )
    assert line_of(run) == TurnLine(input="question 2", output="Oslo: rain")


def test_plain_bodies_preview_their_text_key_first_non_blank_line():
    run = RunFactory(
        inputs={"context": "ignored", "question": "\n\n  What   is\t2+2?  \nnext"},
        outputs={"answer": "4"},
    )
    assert line_of(run) == TurnLine(input="What is 2+2?", output="4")


def test_other_shapes_preview_as_their_json_and_empty_ones_as_nothing():
    shaped = RunFactory(inputs={"a": 1, "b": [2]}, outputs=None)
    empty = RunFactory(inputs={}, outputs={})
    assert line_of(shaped) == TurnLine(input='{"a": 1, "b": [2]}', output="")
    assert line_of(empty) == TurnLine(input="", output="")


def test_a_megabyte_question_previews_its_first_line_cut_to_the_line_limit():
    first = "x" * (LINE_CHARS + 500)
    run = RunFactory(
        inputs={"question": f"{first}\n" + "y" * 1_000_000},
        outputs={"answer": "short\n" + "z" * 1_000_000},
    )
    assert line_of(run) == TurnLine(input="x" * LINE_CHARS, output="short")


def test_a_conversation_longer_than_the_excerpt_previews_its_last_turn():
    messages = chat(300, words=120)
    assert len(json.dumps(messages)) > 3 * EXCERPT_CHARS
    run = RunFactory(
        inputs={"messages": messages},
        outputs={"messages": [*messages, {"type": "ai", "content": "the end"}]},
    )
    assert line_of(run) == TurnLine(input="question 299", output="the end")


def test_a_long_last_message_still_previews_its_first_line():
    messages = [*chat(2), {"type": "human", "content": "last one\n" + "q" * 500_000}]
    run = RunFactory(inputs={"messages": messages}, outputs={"output": "ok"})
    assert line_of(run) == TurnLine(input="last one", output="ok")


def test_a_page_is_read_in_a_fixed_number_of_queries(django_assert_max_num_queries):
    runs = [
        RunFactory(inputs={"messages": chat(200)}, outputs={"answer": f"a{i}"})
        for i in range(5)
    ]
    cache.clear()
    # The stamps, the excerpts and (SQLite) the long conversations read whole.
    with django_assert_max_num_queries(3):
        lines = turn_lines([r.id for r in runs])
    assert [lines[str(r.id)] for r in runs] == [
        TurnLine("question 199", f"a{i}") for i in range(5)
    ]


def test_lines_are_cached_until_the_run_is_written_again(
    django_assert_num_queries,
):
    run = RunFactory(inputs={"question": "first"})
    assert line_of(run).input == "first"
    with django_assert_num_queries(1):  # the stamps only
        assert line_of(run).input == "first"
    Run.objects.filter(id=run.id).update(
        inputs={"question": "second"}, updated_at=run.updated_at + timedelta(seconds=1)
    )
    assert line_of(run).input == "second"


def test_unknown_runs_and_no_runs_have_no_lines():
    assert turn_lines([]) == {}
    run = RunFactory()
    assert set(turn_lines([run.id, "00000000-0000-0000-0000-000000000001"])) == {
        str(run.id)
    }


@pytest.mark.parametrize(
    ("text", "value", "in_array"),
    [
        ('{"question": "Where is my ord', {"question": "Where is my ord"}, False),
        ('{"a": "x", "quest', {"a": "x"}, False),
        ('{"a": "x", "b":', {"a": "x"}, False),
        ('{"a": [1, 2, 12', {"a": [1, 2]}, True),
        ('{"a": [true, fal', {"a": [True]}, True),
        ('{"q": "ab\\u00e', {"q": "ab"}, False),
        ('{"q": "ab\\', {"q": "ab"}, False),
        ('{"q": "ab\\ud83d\\ude00', {"q": "ab😀"}, False),
        ('[{"x": 1}, {"y": [1, "two', [{"x": 1}, {"y": [1, "two"]}], True),
        ('{"whole": [1, {"b": null}]}', {"whole": [1, {"b": None}]}, False),
        ("not json", None, False),
        ("", None, False),
    ],
)
def test_an_excerpt_cut_anywhere_reads_as_far_as_it_goes(text, value, in_array):
    excerpt = read_excerpt(text)
    assert (excerpt.value, excerpt.in_array) == (value, in_array)


def test_every_cut_of_a_document_reads_without_error():
    document = json.dumps(
        {
            "messages": [{"type": "human", "content": 'a "quoted" \\ é 😀\nline'}],
            "n": [1, -2.5e3, True, False, None, {}],
        }
    )
    for end in range(len(document) + 1):
        read_excerpt(document[:end])
    assert read_excerpt(document).value == json.loads(document)


def test_a_list_body_previews_as_its_json_from_its_first_items():
    run = RunFactory(inputs=list(range(100)), outputs=[{"text": "x"}])
    line = line_of(run)
    assert line.input.startswith("[0, 1, 2, 3")
    assert line.output == '[{"text": "x"}]'
