"""langsmith 0.15's ``client.threads`` against a live server: query, traces, stats.

In langsmith 0.15 ``Client.threads`` is the asynchronous resource (awaited,
iterated with ``async for``) even on the synchronous client.
"""

import asyncio
import logging
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from langsmith import Client
from langsmith._exceptions import NotFoundError

from runs.apikeys import create_api_key
from runs.models import Project
from tests.e2e.quiet_sdk import no_sdk_warnings as quiet_sdk
from tests.e2e.quiet_sdk import run_async
from tests.factories import FeedbackFactory, RunFactory

pytestmark = pytest.mark.e2e

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
ODD = "quo\"te <b>/é x'"


@pytest.fixture
def chat(live_url):
    project = Project.objects.create(name="chat")
    roots = {}
    for name, turns, offset in (("t-1", 25, 0), (ODD, 2, 60), ("t-3", 1, 120)):
        for i in range(turns):
            root = RunFactory(
                project=project,
                name=f"turn-{i}",
                start_time=T0 + timedelta(minutes=offset, seconds=i),
                inputs={"messages": [{"role": "user", "content": f"{name} q{i}"}]},
                outputs={"output": f"a{i}"},
                extra={"metadata": {"thread_id": name}},
                total_tokens=3,
            )
            roots.setdefault(name, []).append(root)
    FeedbackFactory(run_id=roots["t-1"][0].id, key="thumbs", score=1.0)
    FeedbackFactory(trace_id=roots["t-1"][1].trace_id, key="thumbs", score=0.0)
    other = Project.objects.create(name="other")
    RunFactory(project=other, start_time=T0, extra={"metadata": {"thread_id": "x"}})
    return project, roots


@pytest.fixture
def client(live_url, api_prefix):
    return Client(api_url=f"{live_url}{api_prefix}", api_key="any-key")


async def collect(paginator):
    return [item async for item in paginator]


def no_sdk_warnings(caplog):
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def test_threads_query_pages_latest_activity_first(client, chat, caplog):
    project, _ = chat
    caplog.set_level(logging.WARNING)
    window = {
        "min_start_time": T0 - timedelta(days=1),
        "max_start_time": T0 + timedelta(days=1),
    }
    pid = str(project.id)

    async def calls():
        page = await client.threads.query(project_id=pid, page_size=2, **window)
        rest = await page.get_next_page()
        every = await collect(
            client.threads.query(project_id=pid, page_size=1, **window)
        )
        recent = await collect(client.threads.query(project_id=pid))
        return page, rest, every, recent

    page, rest, every, recent = asyncio.run(calls())
    assert [t.thread_id for t in page.items] == ["t-3", ODD]
    assert page.next_cursor
    assert ([t.thread_id for t in rest.items], rest.next_cursor) == (["t-1"], None)
    assert [(t.thread_id, t.count) for t in every] == [
        ("t-3", 1),
        (ODD, 2),
        ("t-1", 25),
    ]
    t1 = every[2]
    assert (t1.min_start_time, t1.max_start_time) == (T0, T0 + timedelta(seconds=24))
    assert (t1.total_tokens, t1.num_errored_turns) == (75, 0)
    assert (t1.first_inputs, t1.last_outputs) == ("t-1 q0", "a24")
    assert (t1.feedback_stats["thumbs"].n, t1.feedback_stats["thumbs"].avg) == (2, 0.5)
    assert recent == []  # the default window is the last day
    assert no_sdk_warnings(caplog) == []


def test_a_threads_traces_come_oldest_first_in_pages(client, chat, caplog):
    project, roots = chat
    caplog.set_level(logging.WARNING)
    pid = str(project.id)
    selects = ["TRACE_ID", "TURN_NUMBER", "START_TIME", "INPUTS_PREVIEW", "LATENCY"]

    async def calls():
        traces = await collect(
            client.threads.list_traces(
                "t-1", project_id=pid, page_size=10, selects=selects
            )
        )
        first = await client.threads.list_traces("t-1", project_id=pid, page_size=25)
        odd = await collect(client.threads.list_traces(ODD, project_id=pid))
        return traces, first, odd

    traces, first, odd = asyncio.run(calls())
    assert [t.trace_id for t in traces] == [str(r.trace_id) for r in roots["t-1"]]
    assert [t.turn_number for t in traces] == list(range(1, 26))
    assert traces[3].inputs_preview == "t-1 q3"
    assert traces[3].latency == 1.0
    assert traces[0].start_time == T0
    assert (len(first.items), first.next_cursor) == (25, None)
    assert [t.outputs_preview for t in odd] == ["a0", "a1"]
    assert no_sdk_warnings(caplog) == []


def test_one_threads_stats(client, chat, caplog):
    project, _ = chat
    caplog.set_level(logging.WARNING)
    selects = [
        "TURNS",
        "FIRST_START_TIME",
        "LAST_END_TIME",
        "TOTAL_TOKENS",
        "LATENCY_P50",
    ]

    async def calls():
        stats = await client.threads.stats(
            ODD, session_id=str(project.id), selects=selects
        )
        with pytest.raises(NotFoundError):
            await client.threads.stats(
                "nope", session_id=str(project.id), selects=["TURNS"]
            )
        return stats

    stats = asyncio.run(calls())
    assert (stats.turns, stats.total_tokens, stats.latency_p50) == (2, 6, 1.0)
    assert stats.first_start_time == T0 + timedelta(minutes=60)
    assert stats.last_end_time == T0 + timedelta(minutes=60, seconds=2)
    assert no_sdk_warnings(caplog) == []


def test_a_scoped_key_reads_only_its_projects_threads(live_url, api_prefix, chat):
    project, _ = chat
    other = Project.objects.get(name="other")
    key = create_api_key(name="team", project="other").key
    scoped = Client(api_url=f"{live_url}{api_prefix}", api_key=key)
    window = {"min_start_time": T0 - timedelta(days=1)}

    async def calls():
        own = await collect(scoped.threads.query(project_id=str(other.id), **window))
        with pytest.raises(NotFoundError):
            await scoped.threads.query(project_id=str(project.id), **window)
        with pytest.raises(NotFoundError):
            await scoped.threads.list_traces("t-1", project_id=str(project.id))
        return own

    assert [t.thread_id for t in asyncio.run(calls())] == ["x"]


def test_the_deprecated_list_threads_groups_root_runs_by_thread(client, chat):
    project, roots = chat
    with pytest.warns(DeprecationWarning):
        listed = client.list_threads(
            project_name="chat", start_time=T0 - timedelta(days=1)
        )
    assert [(t["thread_id"], t["count"]) for t in listed] == [
        ("t-3", 1),
        (ODD, 2),
        ("t-1", 25),
    ]
    assert [r.id for r in listed[1]["runs"]] == [r.id for r in roots[ODD]]


def test_page_feedback_is_read_by_the_sdk_and_sdk_feedback_shows_on_the_page(
    live_url, client, chat
):
    import requests

    _, roots = chat
    root = roots["t-3"][0]
    page_url = f"{live_url}/threads/t-3?project=chat"
    browser = requests.Session()
    browser.get(page_url).raise_for_status()
    response = browser.post(
        f"{live_url}/feedback",
        data={
            "csrfmiddlewaretoken": browser.cookies["csrftoken"],
            "run_id": str(root.id),
            "key": "correctness",
            "score": "0.75",
            "comment": "from the page",
            "next": "/threads/t-3?project=chat",
        },
        allow_redirects=False,
    )
    assert response.status_code == 302
    listed = list(client.list_feedback(run_ids=[root.id]))
    assert [(f.key, f.score, f.comment) for f in listed] == [
        ("correctness", 0.75, "from the page")
    ]
    assert listed[0].feedback_source.type == "app"
    assert listed[0].feedback_source.metadata == {}
    client.create_feedback(root.id, key="sdk-says", score=0.0, comment="via the SDK")
    html = browser.get(page_url).text
    assert "sdk-says" in html and "via the SDK" in html


def test_read_thread_lists_a_threads_runs_oldest_first(client, chat, caplog):
    project, roots = chat
    first = roots[ODD][0]
    RunFactory(
        project=project,
        parent=first,
        name="llm",
        start_time=first.start_time + timedelta(seconds=0.5),
    )
    with quiet_sdk(caplog, allow_deprecations=True):
        odd = list(client.read_thread(thread_id=ODD, project_name="chat"))
        every = list(
            client.read_thread(thread_id=ODD, project_id=project.id, is_root=None)
        )
        children = list(
            client.read_thread(thread_id=ODD, project_name="chat", is_root=False)
        )
        newest = list(
            client.read_thread(thread_id="t-1", project_name="chat", order="desc")
        )
        failed = list(
            client.read_thread(
                thread_id="t-1", project_name="chat", filter='eq(status, "error")'
            )
        )
        elsewhere = list(client.read_thread(thread_id="x", project_name="chat"))
    assert [r.id for r in odd] == [r.id for r in roots[ODD]]
    assert [r.name for r in every] == ["turn-0", "llm", "turn-1"]
    assert [r.name for r in children] == ["llm"]
    assert [r.id for r in newest] == [r.id for r in reversed(roots["t-1"])]
    assert (failed, elsewhere) == ([], [])


def test_aggregate_thread_stats(client, chat, caplog):
    project, _ = chat
    window = {
        "min_start_time": T0 - timedelta(hours=1),
        "max_start_time": T0 + timedelta(hours=3),
    }
    select = ["THREAD_COUNT", "TRACE_COUNT", "TOTAL_TOKENS", "ERROR_RATE"]

    async def calls():
        whole = await client.threads.aggregate_stats(
            project_id=str(project.id),
            select=[*select, "LATENCY_P50", "THREAD_FEEDBACK_STATS"],
            **window,
        )
        hourly = await client.threads.aggregate_stats(
            project_id=str(project.id),
            select=select,
            stride={"unit": "HOUR", "value": 1},
            **window,
        )
        with pytest.raises(NotFoundError):
            await client.threads.aggregate_stats(
                project_id=str(uuid.uuid4()), select=select
            )
        return whole, hourly

    with quiet_sdk(caplog):
        whole, hourly = run_async(client, calls)
    assert (whole.thread_count, whole.trace_count, whole.total_tokens) == (3, 28, 84)
    assert (whole.error_rate, whole.latency_p50_seconds) == (0.0, 1.0)
    thumbs = whole.thread_feedback_stats["thumbs"]
    assert (thumbs.n, thumbs.avg) == (2, 0.5)
    assert [b.bucket_start_time for b in hourly.buckets] == [
        T0 + timedelta(hours=h) for h in range(-1, 3)
    ]
    assert [b.thread_count for b in hourly.buckets] == [0, 1, 1, 1]
    assert [b.trace_count for b in hourly.buckets] == [0, 25, 2, 1]
    assert hourly.buckets[0].error_rate is None


def test_a_scoped_key_aggregates_only_its_projects_threads(
    live_url, api_prefix, chat, caplog
):
    project, _ = chat
    other = Project.objects.get(name="other")
    key = create_api_key(name="team", project="other").key
    scoped = Client(api_url=f"{live_url}{api_prefix}", api_key=key)
    window = {"min_start_time": T0 - timedelta(days=1)}

    async def calls():
        own = await scoped.threads.aggregate_stats(
            project_id=str(other.id), select=["THREAD_COUNT"], **window
        )
        with pytest.raises(NotFoundError):
            await scoped.threads.aggregate_stats(
                project_id=str(project.id), select=["THREAD_COUNT"], **window
            )
        return own

    with quiet_sdk(caplog):
        own = run_async(scoped, calls)
    assert own.thread_count == 1
    with quiet_sdk(caplog, allow_deprecations=True):
        assert list(scoped.read_thread(thread_id="t-1", project_id=project.id)) == []
        [run] = scoped.read_thread(thread_id="x", project_id=other.id)
    assert run.extra["metadata"] == {"thread_id": "x"}
