"""The traces table's input and output previews, feedback column and column menu."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from tests.factories import FeedbackFactory, ProjectFactory, RunFactory

pytestmark = pytest.mark.django_db

XSS = '<script>window.__xss=1</script><img src=x onerror="window.__xss=1">'
XSS_ESCAPED = (
    "&lt;script&gt;window.__xss=1&lt;/script&gt;&lt;img src=x "
    "onerror=&quot;window.__xss=1&quot;&gt;"
)


def root(name: str, ago: int = 60, **fields):
    start = timezone.now() - timedelta(seconds=ago)
    return RunFactory(
        name=name,
        project=ProjectFactory(name="shop"),
        start_time=start,
        end_time=start + timedelta(seconds=1),
        **fields,
    )


def cells(html: str, column: str) -> list[str]:
    """The opening tag and text of each body cell of a column."""
    return re.findall(rf'<td class="[^"]*col-{column}"[^>]*>.*?</td>', html, re.S)


def test_an_empty_table_draws_no_preview_cells(client):
    root("only", inputs={}, outputs=None)
    html = client.get("/traces?project=nothing-here").content.decode()
    assert cells(html, "input") == []
    assert "No traces match these filters." in html


def test_each_row_previews_the_question_and_the_final_answer(client):
    root(
        "chat",
        inputs={
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Weather in Oslo?\nThanks"},
            ]
        },
        outputs={"output": "Rain, 12°C\nBring a coat"},
    )
    html = client.get("/traces").content.decode()
    assert cells(html, "input") == [
        '<td class="preview col-input" title="Weather in Oslo?">Weather in Oslo?</td>'
    ]
    assert cells(html, "output") == [
        '<td class="preview col-output" title="Rain, 12°C">Rain, 12°C</td>'
    ]


def test_a_long_line_is_shortened_with_the_whole_line_on_hover(client):
    question = "why " * 60  # 240 characters
    root("long", inputs={"question": question}, outputs=None)
    html = client.get("/traces").content.decode()
    [cell] = cells(html, "input")
    assert f'title="{question.strip()}"' in cell
    assert f">{question[:119]}…</td>" in cell
    [empty] = cells(html, "output")
    assert '<span class="muted">—</span>' in empty


def test_many_rows_each_preview_their_own_turn(client):
    for i in range(30):
        root(
            f"t{i}",
            ago=100 - i,
            inputs={"question": f"q{i}"},
            outputs={"answer": f"a{i}"},
        )
    response = client.get("/traces")
    html = response.content.decode()
    assert [c.split(">")[1].split("<")[0] for c in cells(html, "input")] == [
        f"q{i}" for i in reversed(range(30))
    ]
    assert [c.split(">")[1].split("<")[0] for c in cells(html, "output")] == [
        f"a{i}" for i in reversed(range(30))
    ]


def test_the_previews_are_read_in_the_same_queries_whatever_the_rows(
    client, django_assert_max_num_queries
):
    for i in range(3):
        root(f"t{i}", ago=100 - i)
    cache.clear()
    with django_assert_max_num_queries(20) as few:
        client.get("/traces")
    for i in range(3, 40):
        root(f"t{i}", ago=100 - i)
    cache.clear()
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/traces")


def test_previews_of_attacker_text_are_escaped(client):
    root("xss", inputs={"question": XSS}, outputs={"answer": XSS})
    html = client.get("/traces").content.decode()
    assert "window.__xss=1</script>" not in html
    [cell] = cells(html, "input")
    escaped = XSS_ESCAPED
    assert cell == f'<td class="preview col-input" title="{escaped}">{escaped}</td>'
    assert cells(html, "output")[0].count(XSS_ESCAPED) == 2


def test_the_feedback_column_shows_the_trace_feedback_per_key(client):
    run = root("judged")
    FeedbackFactory(run_id=run.id, key="thumbs", score=1)
    FeedbackFactory(run_id=run.id, key="thumbs", score=0)
    FeedbackFactory(trace_id=run.trace_id, key=XSS, score=None, value="bad")
    root("unjudged", ago=120)
    html = client.get("/traces").content.decode()
    judged, unjudged = cells(html, "feedback")
    assert 'title="thumbs: 2 scores">thumbs 0.50</span>' in judged
    assert f"{XSS_ESCAPED[:20]}" in judged and "<script>" not in judged
    assert '<span class="muted">—</span>' in unjudged


def test_the_column_menu_lists_every_optional_column_and_keeps_name_and_status(
    client,
):
    root("one")
    html = client.get("/traces").content.decode()
    menu = html[html.index('<details class="col-menu"') :]
    menu = menu[: menu.index("</details>")]
    assert re.findall(r'data-col="([a-z]+)"', menu) == [
        "input",
        "output",
        "duration",
        "tokens",
        "cost",
        "feedback",
        "model",
        "start",
        "project",
        "tags",
    ]
    assert "agentspy/columns.js" in html
    # Every header and cell names its column, for the menu's CSS rules.
    assert re.findall(r'<th scope="col" class="col-([a-z]+)', html)[:3] == [
        "name",
        "status",
        "input",
    ]


def test_the_polled_fragment_keeps_the_previews_and_the_menu(client):
    root("polled", inputs={"question": "still here"})
    html = client.get("/traces", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in html and 'id="traces-results"' in html
    assert 'title="still here">still here</td>' in html
    assert 'id="col-menu"' in html
