"""The users list and a user's page through Django's test client."""

import importlib
import re
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.utils import timezone

from tests.factories import ProjectFactory, RunFactory

pytestmark = pytest.mark.django_db

users_view = importlib.import_module("dashboard.views.users")

XSS = '<img src=x onerror="window.__xss=1">/ü'
XSS_ESCAPED = "&lt;img src=x onerror=&quot;window.__xss=1&quot;&gt;/ü"


def trace(project, user, minutes_ago, *, thread=None, failed=False):
    start = timezone.now() - timedelta(minutes=minutes_ago)
    metadata = {"user_id": user}
    if thread:
        metadata["thread_id"] = thread
    root = RunFactory(
        project=project,
        name="agent",
        start_time=start,
        extra={"metadata": metadata},
        inputs={"question": f"from {user}"},
        total_tokens=10,
    )
    if failed:
        RunFactory(
            project=project,
            parent=root,
            trace_id=root.trace_id,
            status="error",
            error="boom",
            start_time=start,
        )
    return root


def test_the_users_list_needs_a_project_and_names_a_missing_one(client):
    ProjectFactory(name="p")
    assert b'href="/users?project=p"' in client.get("/users").content
    response = client.get("/users", {"project": XSS})
    assert response.status_code == 404
    assert XSS_ESCAPED.encode() in response.content


def test_an_empty_project_has_no_users(client):
    ProjectFactory(name="p")
    assert b"No users in this project yet" in client.get("/users?project=p").content


def test_users_are_listed_last_seen_first_with_traces_threads_tokens_errors(client):
    project = ProjectFactory(name="p")
    trace(project, XSS, 50, thread="t1")
    trace(project, XSS, 40, thread="t2", failed=True)
    trace(project, XSS, 30, thread="t2")
    trace(project, "bob", 5)
    body = client.get("/users", {"project": "p"}).content.decode()
    assert "<img src=x" not in body
    assert body.index("bob") < body.index(XSS_ESCAPED)
    assert f'href="/users/{quote(XSS, safe="")}?project=p"' in body
    row = body.split(XSS_ESCAPED)[-1].split("</tr>")[0]
    cells = re.findall(r'<td class="num">(?:<span[^>]*>)?([^<]*)', row)
    assert cells[:3] == ["3", "2", "30"]
    assert '<span class="t-err">1</span>' in row
    only = client.get("/users", {"project": "p", "errors": "true"}).content.decode()
    assert "bob" not in only and XSS_ESCAPED in only
    assert (
        "bob" in client.get("/users", {"project": "p", "search": "BO"}).content.decode()
    )
    assert client.get("/users", {"project": "p", "since": "x"}).status_code == 400
    assert client.get("/users", {"project": "p", "after": "x"}).status_code == 400


def test_users_page_by_cursor(client, monkeypatch):
    project = ProjectFactory(name="p")
    for i in range(3):
        trace(project, f"user-{i}", 10 - i)
    monkeypatch.setattr(users_view, "PAGE_SIZE", 2)
    first = client.get("/users", {"project": "p"}).content.decode()
    assert "user-2" in first and "user-0" not in first
    link = first.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0]
    second = client.get("/users" + link.replace("&amp;", "&")).content.decode()
    assert "user-0" in second and "user-2" not in second


def test_a_users_page_shows_their_threads_and_traces_in_each_project(client):
    project, other = ProjectFactory(name="p"), ProjectFactory(name="other")
    trace(project, XSS, 50, thread="conv-a")
    trace(project, XSS, 40, thread="conv-a", failed=True)
    trace(other, XSS, 5)
    body = client.get(
        f"/users/{quote(XSS, safe='')}", {"project": "p"}
    ).content.decode()
    assert "<img src=x" not in body
    assert 'href="/threads/conv-a?project=p"' in body
    assert body.count(f"from {XSS_ESCAPED}") == 2
    assert "1 failed" in body
    assert f'href="/users/{quote(XSS, safe="")}?project=other"' in body
    latest = client.get(f"/users/{quote(XSS, safe='')}").content.decode()
    assert "in <b>other</b>" in latest  # without a project: where last seen


def test_an_unknown_user_is_a_404_that_escapes_the_id(client):
    ProjectFactory(name="p")
    response = client.get(f"/users/{quote(XSS, safe='')}", {"project": "p"})
    assert response.status_code == 404
    assert XSS_ESCAPED.encode() in response.content
