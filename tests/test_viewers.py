"""Read-only viewers: the dashboard and the API's reads, never the admin."""

from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.test import Client

from runs.models import ViewerScope
from runs.viewers import VIEWERS_GROUP, create_viewer, make_viewer
from tests.factories import ProjectFactory, RunFactory

pytestmark = pytest.mark.django_db

PAGES = ("/", "/traces", "/projects")


@pytest.fixture
def auth(settings):
    settings.REQUIRE_AUTH = True


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_create_viewer_prints_a_password_once_and_that_password_signs_in(auth):
    out, err = StringIO(), StringIO()
    call_command(
        "create_viewer", "ana", "--email", "ana@example.com", stdout=out, stderr=err
    )
    password = out.getvalue().strip()
    user = User.objects.get(username="ana")
    assert (user.is_staff, user.is_superuser, user.email) == (
        False,
        False,
        "ana@example.com",
    )
    assert list(user.groups.values_list("name", flat=True)) == [VIEWERS_GROUP]
    assert sorted(user.get_all_permissions()) == [
        "runs.view_attachment",
        "runs.view_feedback",
        "runs.view_project",
        "runs.view_run",
    ]
    assert "Created viewer 'ana' (every project)." in err.getvalue()
    client = Client()
    response = client.post("/login/", {"username": "ana", "password": password})
    assert (response.status_code, response["Location"]) == (302, "/")
    assert client.get("/traces").status_code == 200


def test_a_viewer_reads_every_page_but_no_admin_page(auth):
    run = RunFactory(name="visible")
    client = signed_in(create_viewer(username="ana").user)
    for url in (*PAGES, f"/traces/{run.trace_id}"):
        assert client.get(url).status_code == 200, url
    for url in ("/admin/", "/admin/runs/run/", f"/admin/runs/run/{run.id}/change/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/admin/login/")
    html = client.get("/").content.decode()
    assert '<a href="/admin/"' not in html
    assert ">Sign out</button>" in html


def test_a_viewer_limited_to_a_project_sees_only_it(auth):
    mine = RunFactory(name="mine", project=ProjectFactory(name="team-a"))
    theirs = RunFactory(name="theirs", project=ProjectFactory(name="team-b"))
    call_command(
        "create_viewer",
        "bo",
        "--project",
        "team-a",
        stdout=StringIO(),
        stderr=StringIO(),
    )
    client = signed_in(User.objects.get(username="bo"))
    traces = client.get("/traces").content.decode()
    assert "mine" in traces and "theirs" not in traces
    projects = client.get("/projects").context["projects"]
    assert [p["name"] for p in projects] == ["team-a"]
    assert client.get("/").context["project"].name == "team-a"
    assert client.get("/?project=team-b").status_code == 404
    assert client.get(f"/traces/{theirs.trace_id}").status_code == 404
    assert client.get(f"/traces/{mine.trace_id}").status_code == 200
    roots = client.get("/api/v1/dashboard/runs/roots").json()
    assert [r["name"] for r in roots["runs"]] == ["mine"]


def test_create_viewer_refuses_an_unknown_project():
    with pytest.raises(CommandError, match="--project: unknown project 'nope'."):
        call_command("create_viewer", "x", "--project", "nope", stdout=StringIO())
    assert not User.objects.filter(username="x").exists()


def test_an_existing_user_becomes_a_viewer_and_keeps_their_password(auth):
    user = User.objects.create_user("cy", password="secret-123")
    out, err = StringIO(), StringIO()
    call_command("create_viewer", "cy", stdout=out, stderr=err)
    assert out.getvalue() == ""
    assert "'cy' is now a viewer of every project." in err.getvalue()
    user.refresh_from_db()
    assert user.check_password("secret-123")


def test_the_admin_action_makes_viewers_keeping_a_project_limit(admin_client, auth):
    plain = User.objects.create_user("dee", password="x-123456")
    project = ProjectFactory(name="team-a")
    ViewerScope.objects.create(user=plain, project=project)
    response = admin_client.post(
        "/admin/auth/user/",
        {"action": "make_viewers", "_selected_action": [plain.pk]},
        follow=True,
    )
    assert "1 user can now read the dashboard." in response.content.decode()
    assert plain.groups.filter(name=VIEWERS_GROUP).exists()
    assert ViewerScope.objects.get(user=plain).project == project
    page = admin_client.get(f"/admin/auth/user/{plain.pk}/change/").content.decode()
    assert "project limit (viewers only)" in page.lower()


def test_session_login_reads_the_browsable_api_under_require_auth(auth):
    RunFactory(name="visible")
    client = signed_in(create_viewer(username="ana").user)
    response = client.get("/api/v1/dashboard/runs/roots", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert "visible" in response.content.decode()
    assert client.get("/api/v1/dashboard/runs/roots").json()["total"] == 1
    assert Client().get("/api/v1/dashboard/runs/roots").status_code == 401


def test_a_session_write_needs_csrf_and_staff(auth):
    viewer = signed_in(create_viewer(username="ana").user)
    viewer.handler.enforce_csrf_checks = True
    body = {"post": [], "patch": []}
    assert (
        viewer.post("/api/v1/runs/batch", body, content_type="application/json")
    ).status_code == 403
    staff = User.objects.create_user("st", password="x-123456", is_staff=True)
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)
    refused = client.post("/api/v1/runs/batch", body, content_type="application/json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]


def test_viewers_are_never_staff(auth):
    user = User.objects.create_user("ed")
    make_viewer(user)
    user.refresh_from_db()
    assert (user.is_staff, user.is_superuser) == (False, False)


def test_a_viewer_limited_to_a_project_cannot_share_another_projects_trace(auth):
    from runs.models import SharedTrace

    theirs = RunFactory(name="theirs", project=ProjectFactory(name="team-b"))
    SharedTrace.objects.create(trace_id=theirs.trace_id, project_id=theirs.project_id)
    mine_project = ProjectFactory(name="team-a")
    client = signed_in(create_viewer(username="bo", project=mine_project).user)
    assert client.post(f"/traces/{theirs.trace_id}/share").status_code == 404
    assert client.post(f"/traces/{theirs.trace_id}/unshare").status_code == 404
    assert SharedTrace.objects.filter(trace_id=theirs.trace_id).count() == 1
