"""Feedback given on the thread page: the LangSmith API's rows, with their author."""

import pytest
from django.contrib.auth.models import User

from runs.models import Feedback
from tests.factories import FeedbackFactory, ProjectFactory, RunFactory

pytestmark = pytest.mark.django_db

XSS = "<script>window.__xss=1</script>"


@pytest.fixture
def turn():
    project = ProjectFactory(name="p")
    return RunFactory(project=project, extra={"metadata": {"thread_id": "c"}})


def give(client, turn, **fields):
    return client.post(
        "/feedback",
        {"run_id": str(turn.id), "next": "/threads/c?project=p#turn-1", **fields},
    )


def test_thumbs_and_a_scored_comment_are_feedback_rows_by_an_anonymous_author(
    client, turn
):
    response = give(client, turn, key="thumbs", score="1")
    assert (response.status_code, response["Location"]) == (
        302,
        "/threads/c?project=p#turn-1",
    )
    give(client, turn, key="correctness", score="0.25", comment=XSS)
    rows = {f.key: f for f in Feedback.objects.all()}
    assert rows["thumbs"].score == 1.0
    assert (rows["correctness"].score, rows["correctness"].comment) == (0.25, XSS)
    only = rows["correctness"]
    assert (only.run_id, only.trace_id, only.session_id) == (
        turn.id,
        turn.trace_id,
        turn.project_id,
    )
    assert only.source == {
        "type": "app",
        "metadata": {},
        "user_id": None,
        "user_name": "anonymous",
    }
    page = client.get("/threads/c", {"project": "p"}).content.decode()
    assert "Login is off: feedback is recorded as anonymous." in page
    assert XSS not in page and "&lt;script&gt;window.__xss=1&lt;/script&gt;" in page
    assert 'aria-label="Thumbs up"' in page and 'aria-label="Thumbs down"' in page
    for label in ("Feedback key", "Score", "Comment"):
        assert f"<label>{label} <" in page


def test_the_signed_in_user_is_the_author_and_only_they_edit_or_delete(
    client, turn, settings
):
    settings.REQUIRE_AUTH = True
    # With login required, only staff and viewers open the dashboard.
    alice = User.objects.create_user("alice", password="pw", is_staff=True)
    User.objects.create_user("bob", password="pw", is_staff=True)
    client.force_login(alice)
    give(client, turn, key="helpful", score="1", comment="good")
    mine = Feedback.objects.get()
    assert mine.source["user_name"] == "alice" and mine.source["user_id"] == str(
        alice.pk
    )
    page = client.get("/threads/c", {"project": "p"}).content.decode()
    assert "feedback is recorded as anonymous" not in page
    assert f'action="/feedback/{mine.id}/edit"' in page
    client.force_login(User.objects.get(username="bob"))
    assert client.post(f"/feedback/{mine.id}/edit", {"score": "0"}).status_code == 400
    assert client.post(f"/feedback/{mine.id}/delete").status_code == 400
    assert (
        f'action="/feedback/{mine.id}/edit"'
        not in client.get("/threads/c?project=p").content.decode()
    )
    client.force_login(alice)
    response = client.post(
        f"/feedback/{mine.id}/edit",
        {"score": "0.5", "comment": "better", "next": "/threads/c?project=p"},
    )
    assert response.status_code == 302
    mine.refresh_from_db()
    assert (mine.score, mine.comment) == (0.5, "better")
    assert (
        client.post(f"/feedback/{mine.id}/delete", {"next": "https://evil.example/"})[
            "Location"
        ]
        == "/"
    )
    assert not Feedback.objects.exists()


def test_sdk_feedback_shows_but_cannot_be_edited_from_the_page(client, turn):
    sdk = FeedbackFactory(
        run_id=turn.id, key="from-sdk", score=0.0, comment="api", source={"type": "api"}
    )
    page = client.get("/threads/c", {"project": "p"}).content.decode()
    assert "from-sdk" in page and "by api" in page
    assert f"/feedback/{sdk.id}/edit" not in page
    assert client.post(f"/feedback/{sdk.id}/delete").status_code == 400


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"key": "", "score": "1"}, "key"),
        ({"key": "k", "score": "high"}, "score"),
        ({"key": "k", "score": "nan"}, "score"),
        ({"key": "k", "comment": "x" * 10_001}, "comment"),
        ({"key": "k", "run_id": "nope"}, "run_id"),
        ({"key": "k", "run_id": "00000000-0000-4000-8000-000000000000"}, "run_id"),
    ],
)
def test_bad_feedback_is_refused_naming_the_field_and_nothing_is_kept(
    client, turn, fields, field
):
    response = give(client, turn, **fields)
    assert response.status_code == 400
    assert f"<code>{field}</code>".encode() in response.content
    assert not Feedback.objects.exists()


def test_feedback_needs_post_and_a_login_when_auth_is_required(client, turn, settings):
    assert client.get("/feedback").status_code == 405
    settings.REQUIRE_AUTH = True
    assert give(client, turn, key="k", score="1").status_code == 302
    assert not Feedback.objects.exists()


def test_the_traces_table_filters_on_a_feedback_key_and_score_of_one_row(client):
    project = ProjectFactory(name="p")
    good = RunFactory(project=project, name="good-trace")
    mixed = RunFactory(project=project, name="mixed-trace")
    RunFactory(project=project, name="silent-trace")
    FeedbackFactory(run_id=good.id, key="thumbs", score=1.0)
    FeedbackFactory(trace_id=mixed.trace_id, key="thumbs", score=0.0)
    FeedbackFactory(trace_id=mixed.trace_id, key="other", score=1.0)

    def names(**params):
        body = client.get("/traces", {"project": "p", **params}).content.decode()
        return sorted(
            n for n in ("good-trace", "mixed-trace", "silent-trace") if n in body
        )

    assert names(feedback_key="thumbs") == ["good-trace", "mixed-trace"]
    assert names(feedback_key="thumbs", feedback_score_gte="0.5") == ["good-trace"]
    assert names(feedback_score_gte="1") == ["good-trace", "mixed-trace"]
    assert names(feedback_key="nope") == []
    assert client.get("/traces", {"feedback_score_gte": "x"}).status_code == 400


def test_the_overview_summarises_feedback_per_key_in_the_range(client):
    project, other = ProjectFactory(name="p"), ProjectFactory(name="q")
    run = RunFactory(project=project)
    FeedbackFactory(run_id=run.id, session_id=project.id, key=XSS, score=1.0)
    FeedbackFactory(run_id=run.id, session_id=project.id, key=XSS, score=0.0)
    FeedbackFactory(run_id=run.id, session_id=project.id, key="label", score=None)
    FeedbackFactory(session_id=other.id, key="elsewhere", score=1.0)
    body = client.get("/", {"project": "p", "range": "24h"}).content.decode()
    panel = body.split('id="feedback-summary"')[1].split("</section>")[0]
    assert XSS not in panel and "&lt;script&gt;" in panel
    assert '<td class="num">2</td><td class="num">0.50</td>' in panel
    assert '<td class="num">1</td><td class="num">—</td>' in panel
    assert "elsewhere" not in panel
    assert "feedback_key=%3Cscript%3E" in panel


def test_the_selected_run_of_a_trace_takes_feedback_on_itself(client):
    project = ProjectFactory(name="p")
    root = RunFactory(project=project)
    child = RunFactory(
        project=project, parent=root, trace_id=root.trace_id, name="tool"
    )
    url = f"/traces/{root.trace_id}?run={child.id}"
    body = client.get(url).content.decode()
    assert f'name="run_id" value="{child.id}"' in body
    assert "Login is off: feedback is recorded as anonymous." in body
    client.post(
        "/feedback", {"run_id": str(child.id), "key": "k", "score": "1", "next": url}
    )
    mine = Feedback.objects.get()
    assert (mine.run_id, mine.trace_id) == (child.id, root.trace_id)
    panel = client.get(f"/traces/{root.trace_id}/runs/{child.id}").content.decode()
    assert f'action="/feedback/{mine.id}/edit"' in panel
    assert f'name="next" value="{url}"' in panel
