"""Saved views: named traces-page filters, saved, listed, opened by link, deleted."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from dashboard.models import SavedView
from runs.viewers import create_viewer
from tests.factories import ProjectFactory, RunFactory

pytestmark = pytest.mark.django_db

XSS = '<script>window.__xss=1</script><img src=x onerror="window.__xss=1">'
XSS_ESCAPED = (
    "&lt;script&gt;window.__xss=1&lt;/script&gt;&lt;img src=x "
    "onerror=&quot;window.__xss=1&quot;&gt;"
)


def trace(name: str, project: str, ago: int = 60):
    start = timezone.now() - timedelta(seconds=ago)
    return RunFactory(
        name=name,
        project=ProjectFactory(name=project),
        start_time=start,
        end_time=start + timedelta(seconds=1),
    )


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_traces_page_offers_to_save_its_filters_when_there_are_no_views(client):
    trace("a", "shop")
    html = client.get("/traces?project=shop&status=error&after=x").content.decode()
    assert "No saved views yet." in html
    assert (
        '<input type="hidden" name="query" value="project=shop&amp;status=error">'
        in (html)
    )


def test_saving_a_view_keeps_only_the_traces_filters_and_opens_it(client):
    response = client.post(
        "/views",
        {
            "name": "  shop errors ",
            "query": "?status=error&project=shop&next=https://evil.example"
            "&offset=50&after=x&search=%20refund%20",
        },
    )
    view = SavedView.objects.get()
    assert (view.name, view.query, view.author) == (
        "shop errors",
        "project=shop&status=error&search=refund",
        None,
    )
    assert response.status_code == 302
    assert response["Location"] == "/traces?project=shop&status=error&search=refund"
    opened = client.get(f"/views/{view.pk}")
    assert opened.status_code == 302
    assert opened["Location"] == "/traces?project=shop&status=error&search=refund"


def test_a_view_of_no_filters_opens_the_whole_table(client):
    client.post("/views", {"name": "everything", "query": "https://evil.example/"})
    view = SavedView.objects.get()
    assert view.query == ""
    assert client.get(f"/views/{view.pk}")["Location"] == "/traces"


def test_a_view_edited_by_hand_still_opens_on_the_traces_page_only(client):
    view = SavedView.objects.create(name="odd", query="//evil.example&project=a")
    assert client.get(f"/views/{view.pk}")["Location"] == "/traces?project=a"


def test_a_view_is_refused_without_a_name_twice_or_too_long(client):
    blank = client.post("/views", {"name": " ", "query": "status=error"})
    assert blank.status_code == 400
    assert "View not saved" in blank.content.decode()
    client.post("/views", {"name": "mine", "query": ""})
    twice = client.post("/views", {"name": "mine", "query": "status=error"})
    assert twice.status_code == 400
    assert "already exists" in twice.content.decode()
    long_name = client.post("/views", {"name": "n" * 201, "query": ""})
    long_query = client.post("/views", {"name": "q", "query": "filter=" + "x" * 40_000})
    assert (long_name.status_code, long_query.status_code) == (400, 400)
    assert list(SavedView.objects.values_list("name", "query")) == [("mine", "")]


def test_an_unknown_view_is_a_404_and_saving_takes_only_post(client):
    assert client.get("/views/999").status_code == 404
    assert client.get("/views").status_code == 405
    assert client.get("/views/1/delete").status_code == 405


def test_many_views_are_listed_by_name_with_both_links(client):
    trace("a", "shop")
    for name in ("zeta", "alpha", "mid"):
        SavedView.objects.create(name=name, query=f"search={name}")
    html = client.get("/traces").content.decode()
    menu = html[
        html.index('id="views-menu"') : html.index(
            "</details>", html.index('id="views-menu"')
        )
    ]
    assert "Views (3)" in menu
    names = [
        line.split(">")[1].split("<")[0] for line in menu.split('class="view-name"')[1:]
    ]
    assert names == ["alpha", "mid", "zeta"]
    alpha = SavedView.objects.get(name="alpha")
    assert 'href="/traces?search=alpha" class="view-name" title="alpha"' in menu
    assert f'href="/views/{alpha.pk}"' in menu


def test_view_names_are_escaped_in_the_menu_and_in_refusals(client):
    trace("a", "shop")
    client.post("/views", {"name": XSS, "query": "search=" + XSS})
    html = client.get("/traces").content.decode()
    assert XSS not in html
    assert f'class="view-name" title="{XSS_ESCAPED}">{XSS_ESCAPED}</a>' in html
    again = client.post("/views", {"name": XSS, "query": ""}).content.decode()
    assert XSS not in again


def test_the_author_and_staff_delete_a_view_and_others_may_not(settings):
    settings.REQUIRE_AUTH = True
    alice = User.objects.create_user("alice", password="pw", is_staff=False)
    create_viewer(username="alice")
    bob = create_viewer(username="bob").user
    admin = User.objects.create_superuser("root", password="pw")
    signed_in(alice).post("/views", {"name": "alice's", "query": "status=error"})
    view = SavedView.objects.get()
    assert view.author == alice
    refused = signed_in(bob).post(f"/views/{view.pk}/delete")
    assert refused.status_code == 403
    assert SavedView.objects.filter(pk=view.pk).exists()
    # Only the author and staff see a delete button.
    assert "Delete the view" not in signed_in(bob).get("/traces").content.decode()
    deleted = signed_in(alice).post(f"/views/{view.pk}/delete")
    assert (deleted.status_code, deleted["Location"]) == (302, "/traces?status=error")
    assert not SavedView.objects.exists()
    signed_in(bob).post("/views", {"name": "bob's", "query": ""})
    bobs = SavedView.objects.get()
    assert signed_in(admin).post(f"/views/{bobs.pk}/delete").status_code == 302
    assert not SavedView.objects.exists()


def test_with_login_off_anyone_deletes_an_authorless_view_but_not_an_authored_one(
    client,
):
    authorless = SavedView.objects.create(name="open", query="")
    authored = SavedView.objects.create(
        name="owned", query="", author=User.objects.create_user("carol")
    )
    assert client.post(f"/views/{authored.pk}/delete").status_code == 403
    assert client.post(f"/views/{authorless.pk}/delete").status_code == 302
    assert list(SavedView.objects.values_list("name", flat=True)) == ["owned"]


def test_a_viewer_limited_to_a_project_opening_a_view_sees_only_its_traces(settings):
    settings.REQUIRE_AUTH = True
    trace("ours", "team-a")
    trace("secret", "team-b")
    admin = signed_in(User.objects.create_superuser("root", password="pw"))
    admin.post("/views", {"name": "team b", "query": "project=team-b"})
    admin.post("/views", {"name": "all", "query": ""})
    viewer = signed_in(
        create_viewer(username="bo", project=ProjectFactory(name="team-a")).user
    )
    for view in SavedView.objects.all():
        target = viewer.get(f"/views/{view.pk}")["Location"]
        rows = viewer.get(target).context["rows"]
        assert [row["name"] for row in rows] == (
            [] if view.name == "team b" else ["ours"]
        )
    assert "secret" not in viewer.get("/traces?project=team-b").content.decode()


def test_saved_views_are_in_the_admin(admin_client):
    view = SavedView.objects.create(name="admin view", query="status=error")
    assert (
        "admin view" in admin_client.get("/admin/dashboard/savedview/").content.decode()
    )
    response = admin_client.post(
        f"/admin/dashboard/savedview/{view.pk}/change/",
        {
            "name": "renamed",
            "query": "status=success&next=//evil.example",
            "author": "",
        },
    )
    assert response.status_code == 302
    view.refresh_from_db()
    assert (view.name, view.query) == ("renamed", "status=success")


def test_a_name_taken_between_the_check_and_the_save_is_refused(client, monkeypatch):
    SavedView.objects.create(name="raced", query="")
    monkeypatch.setattr(SavedView, "validate_unique", lambda self, exclude=None: None)
    response = client.post("/views", {"name": "raced", "query": "status=error"})
    assert response.status_code == 400
    assert "A view with this name exists." in response.content.decode()
    assert SavedView.objects.get().query == ""
