"""Renaming and deleting an annotation queue from its page (staff, or anyone with
login off; never a viewer)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from review.models import Queue, QueueItem
from runs.models import Feedback
from runs.viewers import create_viewer
from tests.factories import FeedbackFactory, RunFactory

pytestmark = pytest.mark.django_db

XSS = "<script>window.__xss=1</script>"
XSS_ESCAPED = "&lt;script&gt;window.__xss=1&lt;/script&gt;"


def queue_with(n: int, name: str = "checks") -> Queue:
    queue = Queue.objects.create(name=name)
    for position in range(1, n + 1):
        root = RunFactory(name=f"t{position}")
        QueueItem.objects.create(
            queue=queue,
            project=root.project,
            trace_id=root.trace_id,
            run_id=root.id,
            name=root.name,
            position=position,
        )
    return queue


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_empty_queue_is_renamed_from_its_page(client):
    queue = queue_with(0)
    assert 'id="queue-rename"' in client.get(f"/queues/{queue.pk}").content.decode()
    response = client.post(f"/queues/{queue.pk}/rename", {"name": "  answers  "})
    assert (response.status_code, response["Location"]) == (302, f"/queues/{queue.pk}")
    queue.refresh_from_db()
    assert queue.name == "answers"


def test_a_rename_to_a_blank_taken_or_long_name_is_refused(client):
    queue = queue_with(1)
    Queue.objects.create(name="taken")
    for name, reason in (
        (" ", "A queue needs a name."),
        ("taken", "A queue with this name exists."),
        ("n" * 201, "At most 200 characters."),
    ):
        response = client.post(f"/queues/{queue.pk}/rename", {"name": name})
        assert response.status_code == 400
        assert reason in response.content.decode()
    queue.refresh_from_db()
    assert queue.name == "checks"


def test_deleting_needs_the_confirmation_and_keeps_the_feedback(client):
    queue = queue_with(3)
    item = queue.items.first()
    FeedbackFactory(run_id=item.run_id, key="thumbs", score=1)
    page = client.get(f"/queues/{queue.pk}").content.decode()
    assert "Delete the queue “checks” and its 3 items?" in page
    kept = client.post(f"/queues/{queue.pk}/delete")
    assert kept.status_code == 400
    assert Queue.objects.filter(pk=queue.pk).exists()
    deleted = client.post(f"/queues/{queue.pk}/delete", {"confirm": "yes"})
    assert (deleted.status_code, deleted["Location"]) == (302, "/queues")
    assert not Queue.objects.exists() and not QueueItem.objects.exists()
    assert Feedback.objects.get().key == "thumbs"
    assert "No queues yet." in client.get("/queues").content.decode()


def test_one_of_many_queues_is_deleted_and_the_others_stay(client):
    queues = [queue_with(2, name=f"q{i}") for i in range(3)]
    client.post(f"/queues/{queues[1].pk}/delete", {"confirm": "yes"})
    assert list(Queue.objects.order_by("name").values_list("name", flat=True)) == [
        "q0",
        "q2",
    ]
    assert QueueItem.objects.count() == 4


def test_unknown_queues_are_404_and_the_forms_take_only_post(client):
    assert client.post("/queues/999/rename", {"name": "x"}).status_code == 404
    assert client.post("/queues/999/delete", {"confirm": "yes"}).status_code == 404
    queue = queue_with(0)
    assert client.get(f"/queues/{queue.pk}/rename").status_code == 405
    assert client.get(f"/queues/{queue.pk}/delete").status_code == 405


def test_a_viewer_may_neither_rename_nor_delete_and_sees_no_such_forms(settings):
    settings.REQUIRE_AUTH = True
    queue = queue_with(1)
    viewer = signed_in(create_viewer(username="bo").user)
    assert 'id="queue-rename"' not in viewer.get(f"/queues/{queue.pk}").content.decode()
    renamed = viewer.post(f"/queues/{queue.pk}/rename", {"name": "mine now"})
    deleted = viewer.post(f"/queues/{queue.pk}/delete", {"confirm": "yes"})
    assert (renamed.status_code, deleted.status_code) == (403, 403)
    assert "Viewers may not rename or delete queues." in deleted.content.decode()
    assert list(Queue.objects.values_list("name", flat=True)) == ["checks"]
    staff = signed_in(User.objects.create_user("ops", password="pw", is_staff=True))
    assert 'id="queue-delete"' in staff.get(f"/queues/{queue.pk}").content.decode()
    assert staff.post(f"/queues/{queue.pk}/rename", {"name": "ops"}).status_code == 302
    assert Queue.objects.get().name == "ops"


def test_queue_names_are_escaped_in_the_rename_and_delete_forms(client):
    queue = queue_with(1, name=XSS)
    html = client.get(f"/queues/{queue.pk}").content.decode()
    assert XSS not in html
    assert f'name="name" value="{XSS_ESCAPED}"' in html
    assert f"Delete the queue “{XSS_ESCAPED}”" in html
    refused = client.post(f"/queues/{queue.pk}/rename", {"name": XSS + "x" * 200})
    assert XSS not in refused.content.decode()
