"""The threads list and a thread's page through Django's test client."""

import importlib
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.utils import timezone

from tests.factories import FeedbackFactory, ProjectFactory, RunFactory

# The package re-exports the view function under the module's name.
threads_view = importlib.import_module("dashboard.views.threads")

pytestmark = pytest.mark.django_db

XSS = "<script>window.__xss=1</script>\"q' /é .."
XSS_ESCAPED = "&lt;script&gt;window.__xss=1&lt;/script&gt;&quot;q&#x27; /é .."


def turn(project, thread, i, *, error_child=False, **kw):
    start = timezone.now() - timedelta(minutes=60 - i)
    root = RunFactory(
        project=project,
        name="agent",
        start_time=start,
        end_time=start + timedelta(seconds=2),
        extra={"metadata": {"thread_id": thread}},
        inputs=kw.pop(
            "inputs",
            {
                "messages": [
                    {"role": "user", "content": "old"},
                    {"role": "user", "content": f"question {i}"},
                ]
            },
        ),
        outputs=kw.pop(
            "outputs", {"messages": [{"role": "assistant", "content": f"answer {i}"}]}
        ),
        **kw,
    )
    if error_child:
        RunFactory(
            project=project,
            parent=root,
            trace_id=root.trace_id,
            name="search_tool",
            run_type="tool",
            status="error",
            error="tool exploded",
            start_time=start,
        )
    return root


def test_the_threads_list_asks_for_a_project_then_names_a_missing_one(client):
    ProjectFactory(name="alpha")
    response = client.get("/threads")
    assert response.status_code == 200
    assert b'href="/threads?project=alpha"' in response.content
    response = client.get("/threads", {"project": XSS})
    assert response.status_code == 404
    assert XSS_ESCAPED.encode() in response.content
    assert b"<script>window" not in response.content


def test_an_empty_project_has_no_threads(client):
    ProjectFactory(name="p")
    response = client.get("/threads", {"project": "p"})
    assert response.status_code == 200
    assert b"No threads in this project yet" in response.content


def test_threads_are_listed_with_turns_errors_and_feedback_and_links_quote_ids(client):
    project = ProjectFactory(name="p")
    roots = [turn(project, XSS, i, error_child=i == 1) for i in range(3)]
    turn(project, "plain", 5)
    FeedbackFactory(run_id=roots[0].id, key="thumbs", score=1.0)
    FeedbackFactory(trace_id=roots[1].trace_id, key="thumbs", score=0.0)
    response = client.get("/threads", {"project": "p"})
    body = response.content.decode()
    assert response.status_code == 200
    assert f'href="/threads/{quote(XSS, safe="")}?project=p"' in body
    assert XSS_ESCAPED in body
    assert "<script>window" not in body
    assert body.index("plain") < body.index(XSS_ESCAPED)  # latest activity first
    assert '<td class="num">3</td>' in body
    assert "1 turn</span>" in body
    assert "thumbs 0.50" in body


def test_threads_filter_by_search_errors_and_turns_and_page_by_cursor(
    client, monkeypatch
):
    project = ProjectFactory(name="p")
    for n in range(4):
        turn(project, f"conv-{n}", n, error_child=n == 2)
    turn(project, "conv-1", 10)
    get = lambda **p: client.get("/threads", {"project": "p", **p}).content.decode()  # noqa: E731
    assert "conv-2" in get(errors="true") and "conv-1" not in get(errors="true")
    assert "conv-3" in get(search="V-3") and "conv-0" not in get(search="V-3")
    only = get(min_turns="2")
    assert "conv-1" in only and "conv-0" not in only
    monkeypatch.setattr(threads_view, "PAGE_SIZE", 3)
    first = get()
    assert "Older →" in first
    after = first.split('rel="next"')[0].rsplit("after=", 1)[1].split('"')[0]
    second = get(after=after)
    assert "conv-0" in second and "conv-3" not in second and "Older →" not in second


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"since": "2y"}, "since"),
        ({"min_turns": "x"}, "min_turns"),
        ({"after": "zz"}, "after"),
    ],
)
def test_bad_thread_filters_answer_400_naming_the_field(client, params, field):
    ProjectFactory(name="p")
    response = client.get("/threads", {"project": "p", **params})
    assert response.status_code == 400
    assert f"<code>{field}</code>".encode() in response.content


def test_a_thread_reads_as_a_chat_turn_by_turn_with_the_failed_tool_marked(client):
    project = ProjectFactory(name="p")
    roots = [turn(project, XSS, i, error_child=i == 1) for i in range(3)]
    turn(
        project,
        XSS,
        3,
        inputs={"question": "plain <b>input</b>"},
        outputs={"answer": "plain output"},
    )
    FeedbackFactory(run_id=roots[2].id, key="thumbs", score=1.0, comment="<i>nice</i>")
    response = client.get(f"/threads/{quote(XSS, safe='')}", {"project": "p"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "<script>window" not in body
    assert [body.count(f"question {i}") for i in range(3)] == [1, 1, 1]
    assert body.index("question 0") < body.index("answer 0") < body.index("question 1")
    assert 'turn-text">old<' not in body  # the last human message only
    assert "plain &lt;b&gt;input&lt;/b&gt;" in body and "plain output" in body
    assert "4</b> turns" in body
    blocks = body.split('<li class="turn')[1:]
    assert ["turn-error" in b.split(">")[0] for b in blocks] == [
        False,
        True,
        False,
        False,
    ]
    assert "tool exploded" in blocks[1] and "search_tool" in blocks[1]
    assert "1 failed run" in blocks[1]
    assert "thumbs 1.00" in blocks[2]
    assert f'href="/traces/{roots[1].trace_id}"' in blocks[1]


def test_a_thread_pages_its_turns_oldest_first(client, monkeypatch):
    project = ProjectFactory(name="p")
    for i in range(5):
        turn(project, "c", i)
    monkeypatch.setattr(threads_view, "TURNS_PAGE", 2)
    body = client.get("/threads/c", {"project": "p"}).content.decode()
    assert "Turn 1" in body and "Turn 2" in body and "Turn 3" not in body
    link = (
        body.split('rel="next"')[0]
        .rsplit('href="', 1)[1]
        .split('"')[0]
        .replace("&amp;", "&")
    )
    second = client.get(link).content.decode()
    assert "Turn 3" in second and "Turn 4" in second and "question 2" in second
    assert client.get("/threads/c", {"project": "p", "after": "bad"}).status_code == 400


def test_an_unknown_thread_or_project_is_a_404_that_escapes_the_id(client):
    ProjectFactory(name="p")
    response = client.get(f"/threads/{quote(XSS, safe='')}", {"project": "p"})
    assert response.status_code == 404
    assert XSS_ESCAPED.encode() in response.content
    assert client.get("/threads/x").status_code == 404


def test_pages_need_a_login_when_auth_is_required(client, settings):
    settings.REQUIRE_AUTH = True
    assert client.get("/threads").status_code == 302
    assert client.get("/threads/x?project=p").status_code == 302
