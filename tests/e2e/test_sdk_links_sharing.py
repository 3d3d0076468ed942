"""Run links, attachments and sharing through langsmith 0.15 against a live server."""

import uuid
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx
import pytest
from langsmith import Client
from langsmith._exceptions import NotFoundError
from langsmith.utils import LangSmithNotFoundError

from runs.models import TENANT_ID, Project, SharedTrace
from tests.e2e.quiet_sdk import no_sdk_warnings, run_async
from tests.factories import RunFactory

pytestmark = pytest.mark.e2e


@pytest.fixture
def client(live_url, api_prefix) -> Client:
    return Client(
        api_url=f"{live_url}{api_prefix}", api_key="any-key", auto_batch_tracing=False
    )


def _port(live_url: str) -> int:
    return urlsplit(live_url).port


def test_read_run_url_keeps_the_port_and_get_run_url_opens_the_run(
    client, live_url, caplog
):
    project = Project.objects.create(name="links")
    root = RunFactory(project=project, name="agent-root")
    child = RunFactory(project=project, parent=root, name="tool-call")
    with no_sdk_warnings(caplog, allow_deprecations=True):
        run = client.read_run(child.id)
        url = client.get_run_url(run=run)
    port = _port(live_url)
    assert run.url == f"http://localhost:{port}/traces/{root.trace_id}?run={child.id}"
    opened = httpx.get(run.url)
    assert opened.status_code == 200
    assert f'"selected": "{child.id}"' in opened.text
    path = urlsplit(url)
    assert path.path == f"/o/{TENANT_ID}/projects/p/{project.id}/r/{child.id}"
    assert path.query == "poll=true"
    followed = httpx.get(f"{live_url}{path.path}?{path.query}", follow_redirects=True)
    assert followed.status_code == 200
    assert followed.url.path == f"/traces/{root.trace_id}"
    assert followed.url.params["run"] == str(child.id)
    assert [r.status_code for r in followed.history] == [302]


def test_attachments_are_read_back_through_signed_urls(client, live_url, caplog):
    run_id = uuid.uuid4()
    start = datetime.now(UTC)
    client.multipart_ingest(
        create=[
            {
                "id": run_id,
                "trace_id": run_id,
                "dotted_order": start.strftime("%Y%m%dT%H%M%S%fZ") + str(run_id),
                "name": "with-files",
                "run_type": "chain",
                "inputs": {},
                "start_time": start,
                "session_name": "files",
                "attachments": {
                    "note": ("text/plain", b"hello there"),
                    "pic": ("image/png", b"\x89PNG fake"),
                },
            }
        ]
    )
    project = Project.objects.get(name="files")
    with no_sdk_warnings(caplog, allow_deprecations=True):
        run = client.read_run(run_id)
        listed = list(client.list_runs(project_name="files"))

        async def scenario():
            return await client.runs.retrieve(
                str(run_id), project_id=str(project.id), selects=["ATTACHMENTS"]
            )

        v2 = run_async(client, scenario)
    assert sorted(run.attachments) == ["note", "pic"]
    assert run.attachments["note"]["reader"].read() == b"hello there"
    assert run.attachments["pic"]["reader"].read() == b"\x89PNG fake"
    assert run.attachments["pic"]["mime_type"] == "image/png"
    assert run.attachments["note"]["presigned_url"].startswith(f"{live_url}/api/v2/")
    assert listed[0].attachments["note"]["reader"].read() == b"hello there"
    fetched = httpx.get(v2.attachments["note"])
    assert fetched.status_code == 200
    assert fetched.content == b"hello there"
    assert fetched.headers["content-type"] == "application/octet-stream"
    assert fetched.headers["x-content-type-options"] == "nosniff"
    forged = v2.attachments["note"][:-3] + "abc"
    assert httpx.get(forged).status_code == 404


def _two_traces() -> tuple:
    project = Project.objects.create(name="secret-project")
    root = RunFactory(
        project=project, name="shared-root", inputs={"q": "<script>x</script>"}
    )
    child = RunFactory(project=project, parent=root, name="shared-child")
    other = RunFactory(project=project, name="private-trace")
    return project, root, child, other


def test_share_run_read_shared_run_and_unshare(client, live_url, caplog):
    project, root, child, other = _two_traces()
    with no_sdk_warnings(caplog, allow_deprecations=True):
        link = client.share_run(child.id)
        token = link.rstrip("/r").rsplit("/", 1)[-1]
        shared_root = client.read_shared_run(token)
        shared_child = client.read_shared_run(token, child.id)
        listed = sorted(r.name for r in client.list_shared_runs(token))
        is_shared = client.run_is_shared(root.id)
        with pytest.raises(LangSmithNotFoundError):
            client.read_shared_run(token, other.id)
    assert link == f"http://localhost/public/{token}/r"
    assert (shared_root.name, shared_child.name) == ("shared-root", "shared-child")
    assert listed == ["shared-child", "shared-root"]
    assert is_shared is True
    page = httpx.get(f"{live_url}/public/{token}/r")
    assert page.status_code == 200
    assert "shared-root" in page.text and "shared-child" in page.text
    assert "private-trace" not in page.text and "secret-project" not in page.text
    assert "<script>x</script>" not in page.text
    panel = httpx.get(f"{live_url}/public/{token}/r/runs/{child.id}")
    assert panel.status_code == 200
    assert httpx.get(f"{live_url}/public/{token}/r/runs/{other.id}").status_code == 404
    with no_sdk_warnings(caplog, allow_deprecations=True):
        client.unshare_run(root.id)
        with pytest.raises(LangSmithNotFoundError):
            client.read_shared_run(token)
        assert client.run_is_shared(root.id) is False
    assert httpx.get(f"{live_url}/public/{token}/r").status_code == 404
    assert SharedTrace.objects.count() == 0


def test_v2_share_create_public_runs_and_delete(client, live_url, caplog):
    project, root, child, other = _two_traces()

    async def share():
        made = await client.runs.share.create(
            str(child.id), session_id=str(project.id), trace_id=str(root.trace_id)
        )
        runs = await client.public.runs.query(
            made.share_token, selects=["NAME", "IS_ROOT"]
        )
        one = await client.public.runs.retrieve(
            str(child.id),
            share_token=made.share_token,
            selects=["NAME"],
            start_time=child.start_time.isoformat(),
        )
        with_url = await client.runs.retrieve(
            str(root.id), project_id=str(project.id), selects=["SHARE_URL"]
        )
        await client.runs.share.delete(str(root.trace_id), session_id=str(project.id))
        try:
            await client.public.runs.query(made.share_token, selects=["NAME"])
        except NotFoundError:
            gone = True
        else:
            gone = False
        return made, runs, one, with_url, gone

    with no_sdk_warnings(caplog):
        made, runs, one, with_url, gone = run_async(client, share)
    assert [(r.name, r.is_root) for r in runs.items] == [
        ("shared-root", True),
        ("shared-child", False),
    ]
    assert one.name == "shared-child"
    assert with_url.share_url == f"{live_url}/public/{made.share_token}/r"
    assert gone is True
    assert httpx.get(with_url.share_url).status_code == 404
