"""langsmith 0.15's v2 resources (runs, traces, sessions) against a live server."""

import uuid
from datetime import timedelta

import httpx
import pytest
from django.utils import timezone
from langsmith import Client
from langsmith._exceptions import NotFoundError

from runs.models import Feedback, Project
from tests.e2e.quiet_sdk import no_sdk_warnings, run_async
from tests.factories import RunFactory

pytestmark = pytest.mark.e2e


@pytest.fixture
def client(live_url, api_prefix) -> Client:
    return Client(
        api_url=f"{live_url}{api_prefix}", api_key="any-key", auto_batch_tracing=False
    )


def _seed(name: str, count: int) -> tuple[Project, list]:
    project = Project.objects.create(name=name)
    now = timezone.now()
    roots = []
    for i in range(count):
        root = RunFactory(
            project=project,
            name=f"root-{i:02}",
            start_time=now - timedelta(minutes=count - i),
        )
        roots.append(root)
    return project, roots


def test_runs_query_pages_respect_page_size_and_end_with_a_null_cursor(client, caplog):
    project, roots = _seed("v2-paged", 25)
    llm = RunFactory(
        project=project,
        parent=roots[3],
        name="llm",
        run_type="llm",
        status="error",
        error="rate limited",
        start_time=roots[3].start_time + timedelta(seconds=1),
        total_tokens=12,
    )
    old = RunFactory(
        project=project,
        name="two-days-old",
        start_time=timezone.now() - timedelta(days=2),
    )

    async def scenario():
        first = await client.runs.query(
            project_ids=[str(project.id)], page_size=10, selects=["NAME", "STATUS"]
        )
        sizes, cursors, page = [], [], first
        while True:
            sizes.append(len(page.items))
            cursors.append(page.next_cursor)
            if not page.has_next_page():
                break
            page = await page.get_next_page()
        names = [
            run.name
            async for run in client.runs.query(
                project_ids=[str(project.id)], page_size=7, selects=["NAME"]
            )
        ]
        errors = await client.runs.query(
            project_ids=[str(project.id)],
            has_error=True,
            selects=["NAME", "RUN_TYPE", "STATUS", "ERROR", "TOTAL_TOKENS", "IS_ROOT"],
        )
        llms = await client.runs.query(
            project_ids=[str(project.id)], run_type="LLM", selects=["NAME"]
        )
        in_trace = await client.runs.query(
            project_ids=[str(project.id)], trace_id=str(roots[3].trace_id)
        )
        windowed = await client.runs.query(
            project_ids=[str(project.id)],
            min_start_time=timezone.now() - timedelta(days=3),
            max_start_time=timezone.now() - timedelta(days=1),
            selects=["NAME"],
        )
        only_ids = await client.runs.query(
            project_ids=[str(project.id)], ids=[str(roots[0].id)]
        )
        return first, sizes, cursors, names, errors, llms, in_trace, windowed, only_ids

    with no_sdk_warnings(caplog):
        first, sizes, cursors, names, errors, llms, in_trace, windowed, only_ids = (
            run_async(client, scenario)
        )
    assert sizes == [10, 10, 6]
    assert cursors[-1] is None and all(cursors[:-1])
    assert first.items[0].name == "root-24"
    assert first.items[0].status == "SUCCESS"
    assert first.items[0].model_dump(exclude_none=True) == {
        "id": str(roots[24].id),
        "name": "root-24",
        "status": "SUCCESS",
    }
    assert len(names) == 26 and names[0] == "root-24" and "two-days-old" not in names
    assert [
        (r.name, r.run_type, r.status, r.error, r.total_tokens, r.is_root)
        for r in errors.items
    ] == [("llm", "LLM", "ERROR", "rate limited", 12, False)]
    assert [r.name for r in llms.items] == ["llm"]
    assert sorted(r.id for r in in_trace.items) == sorted(
        [str(roots[3].id), str(llm.id)]
    )
    assert [r.name for r in windowed.items] == ["two-days-old"]
    assert [r.id for r in only_ids.items] == [str(roots[0].id)]
    assert old.name == "two-days-old"


def test_runs_query_streams_the_same_items_as_server_sent_patches(client, caplog):
    project, roots = _seed("v2-stream", 12)

    async def scenario():
        return [
            run.name
            async for run in client.runs.streaming.query_v2_items(
                project_ids=[str(project.id)], page_size=5, selects=["NAME"]
            )
        ]

    with no_sdk_warnings(caplog):
        names = run_async(client, scenario)
    assert names == [f"root-{i:02}" for i in range(11, -1, -1)]


def test_retrieve_selects_properties_and_get_url_opens_the_run(
    client, caplog, live_url
):
    project = Project.objects.create(name="v2-retrieve")
    root = RunFactory(
        project=project,
        name="agent",
        tags=["beta"],
        extra={"metadata": {"thread_id": "t-1", "user": "u-7"}},
        inputs={"question": "<b>hi</b>"},
        outputs={"answer": "hello"},
    )
    child = RunFactory(project=project, parent=root, name="tool", run_type="tool")
    Feedback.objects.create(run_id=root.id, key="correctness", score=0.5)
    Feedback.objects.create(run_id=root.id, key="correctness", score=1.0)

    async def scenario():
        full = await client.runs.retrieve(
            str(root.id),
            project_id=str(project.id),
            selects=[
                "NAME",
                "RUN_TYPE",
                "INPUTS",
                "OUTPUTS_PREVIEW",
                "METADATA",
                "THREAD_ID",
                "TAGS",
                "PARENT_RUN_IDS",
                "IS_ROOT",
                "TRACE_ID",
                "PROJECT_ID",
                "LATENCY_SECONDS",
                "FEEDBACK_STATS",
                "APP_PATH",
            ],
        )
        bare = await client.runs.retrieve(str(child.id), project_id=str(project.id))
        url = await client.runs.get_url(
            str(child.id), project_id=str(project.id), trace_id=str(root.trace_id)
        )
        try:
            await client.runs.retrieve(str(child.id), project_id=str(uuid.uuid4()))
        except NotFoundError:
            missing = True
        else:
            missing = False
        return full, bare, url, missing

    with no_sdk_warnings(caplog):
        full, bare, url, missing = run_async(client, scenario)
    assert (full.name, full.run_type, full.inputs) == (
        "agent",
        "CHAIN",
        {"question": "<b>hi</b>"},
    )
    assert full.outputs_preview == "hello"
    assert full.metadata == {"thread_id": "t-1", "user": "u-7"}
    assert (full.thread_id, full.tags, full.parent_run_ids) == ("t-1", ["beta"], [])
    assert (full.is_root, full.trace_id, full.project_id) == (
        True,
        str(root.trace_id),
        str(project.id),
    )
    assert full.latency_seconds == 1.0
    assert full.feedback_stats["correctness"].n == 2
    assert full.feedback_stats["correctness"].avg == 0.75
    assert full.app_path == f"/traces/{root.trace_id}?run={root.id}"
    assert bare.model_dump(exclude_none=True) == {"id": str(child.id)}
    assert missing is True
    assert url.url == f"{live_url}/traces/{root.trace_id}?run={child.id}"
    page = httpx.get(url.url)
    assert page.status_code == 200
    assert f'"selected": "{child.id}"' in page.text


def test_traces_query_and_a_traces_runs_oldest_first(client, caplog):
    project = Project.objects.create(name="v2-traces")
    now = timezone.now()
    traces = []
    for i in range(3):
        root = RunFactory(
            project=project,
            name=f"trace-{i}",
            start_time=now - timedelta(minutes=10 - i),
        )
        a = RunFactory(
            project=project,
            parent=root,
            name="second",
            run_type="llm",
            start_time=root.start_time + timedelta(seconds=2),
            total_tokens=7,
        )
        b = RunFactory(
            project=project,
            parent=root,
            name="first",
            run_type="tool",
            start_time=root.start_time + timedelta(seconds=1),
        )
        traces.append((root, b, a))

    async def scenario():
        page = await client.traces.query(
            project_id=str(project.id), page_size=2, selects=["NAME", "STATUS"]
        )
        second = await page.get_next_page()
        every = [
            t.root_run.name
            async for t in client.traces.query(
                project_id=str(project.id), selects=["NAME"]
            )
        ]
        runs = await client.traces.list_runs(
            str(traces[0][0].trace_id),
            project_id=str(project.id),
            selects=["NAME", "IS_ROOT", "DOTTED_ORDER"],
        )
        return page, second, every, runs

    with no_sdk_warnings(caplog):
        page, second, every, runs = run_async(client, scenario)
    assert [t.root_run.name for t in page.items] == ["trace-2", "trace-1"]
    assert page.items[0].trace_aggregates.total_tokens == 7
    assert page.next_cursor
    assert [t.root_run.name for t in second.items] == ["trace-0"]
    assert second.next_cursor is None
    assert every == ["trace-2", "trace-1", "trace-0"]
    assert [r.name for r in runs.items] == ["trace-0", "first", "second"]
    assert [r.is_root for r in runs.items] == [True, False, False]
    assert runs.items[1].dotted_order.startswith(runs.items[0].dotted_order + ".")


def test_sessions_are_created_listed_read_and_updated(client, caplog):
    async def scenario():
        made = await client.sessions.create_v2(
            type="PROJECT",
            name="v2-sessions-0",
            description="first",
            extra={"metadata": {"team": "search", "tier": "gold"}},
        )
        for i in range(1, 5):
            await client.sessions.create_v2(type="PROJECT", name=f"v2-sessions-{i}")
        try:
            await client.sessions.create_v2(type="PROJECT", name="v2-sessions-0")
        except Exception as exc:  # noqa: BLE001 - the status is what matters
            conflict = exc.status_code
        upserted = await client.sessions.create_v2(
            type="PROJECT", name="v2-sessions-0", description="again", upsert=True
        )
        first = await client.sessions.list_v2(
            name_contains="v2-sessions", page_size=2, sort_by="NAME", sort_order="asc"
        )
        listed = [
            s.name
            async for s in client.sessions.list_v2(
                name_contains="v2-sessions",
                page_size=2,
                sort_by="NAME",
                sort_order="asc",
            )
        ]
        by_meta = await client.sessions.list_v2(metadata='{"team": "search"}')
        read = await client.sessions.retrieve_v2(made.id, include_stats=True)
        updated = await client.sessions.update_v2(
            made.id, extra={"metadata": {"tier": None, "owner": "ana"}}
        )
        return made, conflict, upserted, first, listed, by_meta, read, updated

    with no_sdk_warnings(caplog):
        made, conflict, upserted, first, listed, by_meta, read, updated = run_async(
            client, scenario
        )
    assert (made.name, made.type, made.description) == (
        "v2-sessions-0",
        "PROJECT",
        "first",
    )
    assert conflict == 409
    assert (upserted.id, upserted.description) == (made.id, "again")
    assert [s.name for s in first.items] == ["v2-sessions-0", "v2-sessions-1"]
    assert first.next_cursor
    assert listed == [f"v2-sessions-{i}" for i in range(5)]
    assert [s.name for s in by_meta.items] == ["v2-sessions-0"]
    assert read.run_count == 0
    assert updated.extra == {"metadata": {"team": "search", "owner": "ana"}}
