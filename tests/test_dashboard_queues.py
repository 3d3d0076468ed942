"""Annotation queues: create, fill from the traces table, review with feedback."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from review.models import Queue, QueueItem
from review.services import MAX_ADD
from runs.models import Feedback
from runs.viewers import create_viewer
from tests.factories import ProjectFactory, RunFactory

pytestmark = pytest.mark.django_db

XSS = "<script>window.__xss=1</script>"
XSS_ESCAPED = "&lt;script&gt;window.__xss=1&lt;/script&gt;"


def traces(n, **kw):
    start = timezone.now() - timedelta(hours=1)
    return [
        RunFactory(
            name=kw.pop("name", f"t{i}"),
            start_time=start + timedelta(seconds=i),
            **kw,
        )
        for i in range(n)
    ]


def add(client, queue, roots, **extra):
    data = {"queue": queue.pk, "trace_ids": [str(r.trace_id) for r in roots]}
    return client.post("/queues/add", {**data, **extra})


def test_the_queues_page_when_there_are_none(client):
    response = client.get("/queues")
    assert response.status_code == 200
    assert "No queues yet." in response.content.decode()


def test_a_queue_is_created_by_name_and_a_duplicate_or_blank_is_refused(client):
    response = client.post("/queues", {"name": "  checks  "})
    queue = Queue.objects.get()
    assert (queue.name, queue.created_by) == ("checks", "anonymous")
    assert response["Location"] == f"/queues/{queue.pk}"
    assert client.post("/queues", {"name": "checks"}).status_code == 400
    blank = client.post("/queues", {"name": " "})
    assert blank.status_code == 400
    assert "A queue needs a name." in blank.content.decode()
    assert Queue.objects.count() == 1


def test_an_empty_queue_says_how_to_fill_it(client):
    queue = Queue.objects.create(name="empty")
    html = client.get(f"/queues/{queue.pk}").content.decode()
    assert "This queue is empty." in html
    assert "0 reviewed / 0" in html


def test_picked_traces_are_added_once_in_order_and_children_are_skipped(client):
    queue = Queue.objects.create(name="q")
    roots = traces(3)
    child = RunFactory(parent=roots[0], project=roots[0].project)
    response = add(client, queue, [roots[2], roots[0], roots[1]])
    assert response["Location"] == f"/queues/{queue.pk}"
    add(client, queue, roots, trace_ids=[str(roots[1].trace_id), str(child.id), "x"])
    items = list(QueueItem.objects.order_by("position"))
    assert [(i.position, i.name, i.run_id) for i in items] == [
        (1, "t0", roots[0].id),
        (2, "t1", roots[1].id),
        (3, "t2", roots[2].id),
    ]


def test_adding_to_a_new_queue_named_in_the_table_form(client):
    roots = traces(2)
    response = client.post(
        "/queues/add",
        {"new_queue": "fresh", "trace_ids": [str(r.trace_id) for r in roots]},
    )
    queue = Queue.objects.get(name="fresh")
    assert response["Location"] == f"/queues/{queue.pk}"
    assert queue.items.count() == 2


def test_adding_without_a_queue_or_traces_is_a_400(client):
    queue = Queue.objects.create(name="q")
    assert client.post("/queues/add", {"trace_ids": ["x"]}).status_code == 400
    assert client.post("/queues/add", {"queue": "999"}).status_code == 400
    response = client.post("/queues/add", {"queue": queue.pk})
    assert response.status_code == 400
    assert "Pick at least one trace." in response.content.decode()


def test_all_traces_matching_the_filter_are_added(client):
    queue = Queue.objects.create(name="q")
    traces(3, status="error", error="boom")
    traces(2)
    response = client.post(
        "/queues/add",
        {"queue": queue.pk, "scope": "matching", "filter_query": "status=error"},
    )
    assert response.status_code == 302
    assert queue.items.count() == 3
    bad = client.post(
        "/queues/add",
        {"queue": queue.pk, "scope": "matching", "filter_query": "filter=eq(("},
    )
    assert bad.status_code == 400


def test_adding_matching_traces_stops_at_the_cap(client, monkeypatch):
    monkeypatch.setattr("review.services.MAX_ADD", 2)
    queue = Queue.objects.create(name="q")
    traces(4)
    client.post("/queues/add", {"queue": queue.pk, "scope": "matching"})
    assert queue.items.count() == 2
    assert MAX_ADD == 500


def test_the_traces_table_offers_selection_and_the_queues(client):
    Queue.objects.create(name=XSS)
    traces(2)
    html = client.get("/traces?status=success").content.decode()
    assert html.count('name="trace_ids"') == 2
    assert 'id="compare-picked"' in html
    assert f">{XSS_ESCAPED}</option>" in html
    assert 'name="filter_query" value="status=success"' in html
    assert XSS not in html


def test_reviewing_one_item_with_thumbs_marks_it_done_and_moves_on(client):
    queue = Queue.objects.create(name="q")
    roots = traces(3)
    add(client, queue, roots)
    first, second, _ = QueueItem.objects.order_by("position")
    html = client.get(f"/queues/{queue.pk}").content.decode()
    assert "Item 1 of 3" in html and "0 reviewed / 3" in html
    assert 'aria-label="Thumbs up"' in html and "<kbd>j</kbd>" in html
    assert f'id="queue-next" href="/queues/{queue.pk}?item=2"' in html
    response = client.post(
        f"/queues/{queue.pk}/items/{first.pk}/feedback", {"key": "thumbs", "score": "1"}
    )
    assert response["Location"] == f"/queues/{queue.pk}?item=2"
    feedback = Feedback.objects.get()
    assert (feedback.run_id, feedback.key, feedback.score) == (roots[0].id, "thumbs", 1)
    assert feedback.source["type"] == "app"
    assert feedback.source["user_name"] == "anonymous"
    assert feedback.trace_id == roots[0].trace_id
    first.refresh_from_db()
    assert first.done_at is not None
    html = client.get(f"/queues/{queue.pk}").content.decode()
    assert "Item 2 of 3" in html and "1 reviewed / 3" in html
    assert "Login is off: feedback is recorded as anonymous." in html
    listing = client.get("/queues").content.decode()
    assert '<td class="num">1</td><td class="num">3</td>' in listing


def test_the_last_item_reviewed_wraps_to_the_first_left_and_then_stays(client):
    queue = Queue.objects.create(name="q")
    add(client, queue, traces(2))
    first, second = QueueItem.objects.order_by("position")
    url = f"/queues/{queue.pk}/items/{{}}/feedback"
    response = client.post(url.format(second.pk), {"key": "thumbs", "score": "0"})
    assert response["Location"] == f"/queues/{queue.pk}?item=1"
    response = client.post(url.format(first.pk), {"key": "thumbs", "score": "1"})
    assert response["Location"] == f"/queues/{queue.pk}?item=1"
    html = client.get(f"/queues/{queue.pk}").content.decode()
    assert "2 reviewed / 2" in html


def test_bad_feedback_in_a_queue_is_a_400_and_leaves_the_item_open(client):
    queue = Queue.objects.create(name="q")
    add(client, queue, traces(1))
    item = QueueItem.objects.get()
    response = client.post(
        f"/queues/{queue.pk}/items/{item.pk}/feedback", {"key": "", "score": "x"}
    )
    assert response.status_code == 400
    item.refresh_from_db()
    assert item.done_at is None and Feedback.objects.count() == 0
    other = Queue.objects.create(name="other")
    wrong = client.post(f"/queues/{other.pk}/items/{item.pk}/feedback", {"key": "k"})
    assert wrong.status_code == 404


def test_an_unknown_queue_or_item_is_a_404(client):
    queue = Queue.objects.create(name="q")
    add(client, queue, traces(1))
    assert client.get("/queues/999").status_code == 404
    response = client.get(f"/queues/{queue.pk}?item=7")
    assert response.status_code == 404
    assert "No item 7 in this queue." in response.content.decode()


def test_xss_in_queue_names_run_names_and_outputs_is_text(client):
    queue = Queue.objects.create(name=XSS)
    add(client, queue, traces(1, name=XSS, outputs={"a": XSS}))
    Feedback.objects.create(run_id=QueueItem.objects.get().run_id, key=XSS, comment=XSS)
    html = client.get(f"/queues/{queue.pk}").content.decode()
    assert XSS not in html
    assert f"<h1>{XSS_ESCAPED}</h1>" in html
    assert f">{XSS_ESCAPED}</a></h2>" in html
    assert f"&quot;a&quot;: &quot;{XSS_ESCAPED}&quot;" in html
    assert f"<b>{XSS_ESCAPED}</b>" in html
    assert XSS not in client.get("/queues").content.decode()


def test_many_items_progress_and_step_links(client):
    queue = Queue.objects.create(name="q")
    add(client, queue, traces(12))
    html = client.get(f"/queues/{queue.pk}?item=6").content.decode()
    assert "Item 6 of 12" in html
    assert f'id="queue-prev" href="/queues/{queue.pk}?item=5"' in html
    assert f'id="queue-next" href="/queues/{queue.pk}?item=7"' in html
    last = client.get(f"/queues/{queue.pk}?item=12").content.decode()
    assert 'id="queue-next"' not in last


def test_a_viewer_limited_to_a_project_sees_and_judges_only_its_items(settings):
    settings.REQUIRE_AUTH = True
    team_a, team_b = ProjectFactory(name="team-a"), ProjectFactory(name="team-b")
    queue = Queue.objects.create(name="q")
    add(Client(), queue, [])  # redirected to login: nothing added
    mine = traces(1, project=team_a)[0]
    theirs = traces(1, project=team_b, name="secret")[0]
    admin = User.objects.create_superuser("root", password="pw")
    staff = Client()
    staff.force_login(admin)
    add(staff, queue, [mine, theirs])
    assert queue.items.count() == 2
    viewer = Client()
    viewer.force_login(create_viewer(username="bo", project=team_a).user)
    html = viewer.get(f"/queues/{queue.pk}").content.decode()
    assert "0 reviewed / 1" in html and "secret" not in html
    foreign = QueueItem.objects.get(trace_id=theirs.trace_id)
    url = f"/queues/{queue.pk}/items/{foreign.pk}/feedback"
    assert viewer.post(url, {"key": "thumbs", "score": "1"}).status_code == 404
    direct = viewer.post("/feedback", {"run_id": str(theirs.id), "key": "k"})
    assert direct.status_code == 400
    assert Feedback.objects.count() == 0
    add(viewer, queue, [theirs], scope="picked")
    assert queue.items.count() == 2
    response = viewer.post(
        f"/queues/{queue.pk}/items/{QueueItem.objects.get(trace_id=mine.trace_id).pk}/feedback",
        {"key": "thumbs", "score": "1"},
    )
    assert response.status_code == 302
    assert Feedback.objects.get().source["user_name"] == "bo"
