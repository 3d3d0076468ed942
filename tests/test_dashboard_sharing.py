"""Sharing a trace from its page; the read-only shared page; LangSmith links."""

import pytest

from runs.models import TENANT_ID, SharedTrace
from tests.factories import FeedbackFactory, ProjectFactory, RunFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def traces():
    project = ProjectFactory(name="confidential-project")
    root = RunFactory(project=project, name="shared-root")
    child = RunFactory(
        project=project,
        parent=root,
        name='<img src=x onerror="alert(1)">',
        inputs={"q": "</script><script>alert(2)</script>"},
    )
    other = RunFactory(project=project, name="other-trace")
    return root, child, other


def test_the_trace_page_shares_and_unshares_its_trace(admin_client, settings, traces):
    settings.REQUIRE_AUTH = True
    root, child, other = traces
    page = admin_client.get(f"/traces/{root.trace_id}").content.decode()
    assert f'action="/traces/{root.trace_id}/share"' in page
    assert "Unshare" not in page
    shared = admin_client.post(f"/traces/{root.trace_id}/share")
    assert shared.status_code == 302
    token = SharedTrace.objects.get(trace_id=root.trace_id).token
    page = admin_client.get(f"/traces/{root.trace_id}").content.decode()
    assert f'value="http://testserver/public/{token}/r"' in page
    assert f'action="/traces/{root.trace_id}/unshare"' in page
    admin_client.post(f"/traces/{root.trace_id}/unshare")
    assert not SharedTrace.objects.exists()


def test_sharing_needs_a_login_and_a_post(client, settings, traces):
    root, child, other = traces
    assert client.get(f"/traces/{root.trace_id}/share").status_code == 405
    settings.REQUIRE_AUTH = True
    response = client.post(f"/traces/{root.trace_id}/share")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    assert not SharedTrace.objects.exists()


def test_a_shared_page_opens_without_login_and_shows_only_its_trace(
    client, settings, traces
):
    settings.REQUIRE_AUTH = True
    root, child, other = traces
    token = SharedTrace.objects.create(trace_id=root.trace_id).token
    response = client.get(f"/public/{token}/r?run={child.id}")
    assert response.status_code == 200
    html = response.content.decode()
    assert "shared-root" in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html
    assert "<img src=x" not in html and "<script>alert(2)" not in html
    for secret in ("other-trace", "confidential-project", "/admin/", 'href="/traces'):
        assert secret not in html
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    panel = client.get(f"/public/{token}/r/runs/{child.id}")
    assert panel.status_code == 200
    assert "confidential-project" not in panel.content.decode()
    assert client.get(f"/public/{token}/r/runs/{other.id}").status_code == 404
    assert client.get(f"/public/{token}/r?run={other.id}").status_code == 200
    assert (
        "other-trace"
        not in client.get(f"/public/{token}/r?run={other.id}").content.decode()
    )
    assert client.get(f"/traces/{root.trace_id}").status_code == 302


def test_an_unshared_or_unknown_link_is_404(client, traces):
    root, child, other = traces
    share = SharedTrace.objects.create(trace_id=root.trace_id)
    share.delete()
    assert client.get(f"/public/{share.token}/r").status_code == 404
    assert client.get(f"/public/{share.token}/r/runs/{root.id}").status_code == 404


def test_langsmith_run_and_project_links_redirect_to_the_dashboard(client, traces):
    root, child, other = traces
    project = root.project_id
    run_link = f"/o/{TENANT_ID}/projects/p/{project}/r/{child.id}?poll=true"
    response = client.get(run_link)
    assert response.status_code == 302
    assert response["Location"] == f"/traces/{root.trace_id}?run={child.id}"
    response = client.get(f"/o/{TENANT_ID}/projects/p/{project}")
    assert response["Location"] == f"/traces?project={project}"
    missing = f"/o/{TENANT_ID}/projects/p/{project}/r/{project}"
    assert client.get(missing).status_code == 404


def test_a_shared_run_shows_the_feedback_of_its_own_project_only(client, traces):
    root, child, other = traces
    elsewhere = ProjectFactory(name="elsewhere")
    FeedbackFactory(run_id=child.id, session_id=child.project_id, comment="own note")
    FeedbackFactory(run_id=child.id, session_id=None, comment="unscoped note")
    FeedbackFactory(run_id=child.id, session_id=elsewhere.id, comment="foreign note")
    token = SharedTrace.objects.create(trace_id=root.trace_id).token
    html = client.get(f"/public/{token}/r/runs/{child.id}").content.decode()
    assert "own note" in html
    assert "unscoped note" in html
    assert "foreign note" not in html
