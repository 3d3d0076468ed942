"""The trace page, its run panels, run JSON and attachments."""

import json
import time
import uuid
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from runs.ingest.normalize import segment
from runs.models import Attachment, Run
from tests.factories import FeedbackFactory, ProjectFactory, RunFactory

pytestmark = pytest.mark.django_db

XSS = '<script>window.__xss=1</script><img src=x onerror="window.__xss=1"> {{ 7*7 }}'
XSS_ESCAPED = (
    "&lt;script&gt;window.__xss=1&lt;/script&gt;&lt;img src=x "
    "onerror=&quot;window.__xss=1&quot;&gt; {{ 7*7 }}"
)


def lc(cls, **kwargs):
    return {"lc": 1, "type": "constructor", "id": ["x", cls], "kwargs": kwargs}


@pytest.fixture
def trace():
    start = timezone.now() - timedelta(minutes=5)
    root = RunFactory(
        name="agent",
        start_time=start,
        end_time=start + timedelta(seconds=4),
        project=ProjectFactory(name="demo"),
    )
    llm = RunFactory(
        parent=root,
        project=root.project,
        name="ChatOpenAI",
        run_type="llm",
        start_time=start + timedelta(seconds=1),
        end_time=start + timedelta(seconds=3),
        first_token_time=start + timedelta(seconds=1, milliseconds=250),
        model_name="gpt-4o",
        model_provider="openai",
        prompt_tokens=30,
        completion_tokens=12,
        total_tokens=42,
        tags=["fast"],
        inputs={
            "messages": [
                [
                    lc("SystemMessage", content="Be terse."),
                    lc("HumanMessage", content="Weather?"),
                ]
            ]
        },
        outputs={
            "generations": [
                [
                    {
                        "message": lc(
                            "AIMessage",
                            content="",
                            tool_calls=[
                                {
                                    "name": "weather",
                                    "args": {"city": "Oslo"},
                                    "id": "c1",
                                }
                            ],
                        )
                    }
                ]
            ]
        },
        extra={"metadata": {"ls_model_name": "gpt-4o"}},
        events=[{"name": "new_token", "time": start.isoformat()}],
    )
    tool = RunFactory(
        parent=llm,
        project=root.project,
        name="weather",
        run_type="tool",
        status="error",
        error="Traceback (most recent call last):\nTimeoutError: slow",
        start_time=start + timedelta(seconds=3),
        end_time=start + timedelta(seconds=4),
    )
    return root, llm, tool


def test_trace_page_embeds_the_light_tree_in_depth_first_order(client, trace):
    root, llm, tool = trace
    response = client.get(f"/traces/{root.trace_id}")
    assert response.status_code == 200
    data = response.context["data"]
    assert [row[0] for row in data["rows"]] == [str(root.id), str(llm.id), str(tool.id)]
    assert data["rows"][1] == [
        str(llm.id),
        0,
        1,
        "ChatOpenAI",
        "llm",
        "success",
        1000.0,
        3000.0,
        42,
        "gpt-4o",
        0,
        0,
        1,
        None,  # no cost stored by the factory ...
        1,  # ... so the LLM run is unpriced
    ]
    assert data["rows"][2][10] == 1  # the failed tool is flagged
    assert (data["cost"], data["unpriced"]) == (None, 1)
    assert (data["tokens"], data["errors"], data["selected"]) == (42, 1, str(root.id))
    html = response.content.decode()
    assert '<script id="trace-data" type="application/json">' in html
    assert "Runs <b>3</b>" in html
    assert 'Errors <b class="t-err">1</b>' in html


def test_a_run_permalink_opens_its_panel_with_the_chat(client, trace):
    root, llm, _ = trace
    response = client.get(f"/traces/{root.trace_id}?run={llm.id}")
    assert response.context["data"]["selected"] == str(llm.id)
    html = response.content.decode()
    assert '<div class="msg msg-system">' in html
    assert '<span class="msg-role">system</span>' in html
    assert '<div class="msg-part">Be terse.</div>' in html
    assert '<div class="tc-head">→ weather <span class="muted">c1</span></div>' in html
    assert "<dt>First token</dt><dd>250 ms</dd>" in html
    assert 'gpt-4o <span class="muted">(openai)</span>' in html
    assert '42 <span class="muted">= 30 prompt + 12 completion</span>' in html
    assert "<code>new_token</code>" in html


def test_the_run_panel_fragment_shows_errors_feedback_and_metadata(client, trace):
    root, llm, tool = trace
    FeedbackFactory(run_id=tool.id, trace_id=root.trace_id, key="helpful", score=0.0)
    response = client.get(f"/traces/{root.trace_id}/runs/{tool.id}")
    html = response.content.decode()
    assert not html.lstrip().startswith("<!doctype")
    assert (
        f'<pre id="err-{tool.id}">Traceback (most recent call last):\n'
        "TimeoutError: slow</pre>" in html
    )
    assert "<b>helpful</b> 0.0" in html
    metadata = client.get(f"/traces/{root.trace_id}/runs/{llm.id}").content.decode()
    assert (
        '<span class="k">ls_model_name</span>: <span class="s">"gpt-4o"</span>'
        in metadata
    )


def test_a_run_of_another_trace_is_not_found_in_this_one(client, trace):
    root, _, _ = trace
    stranger = RunFactory()
    assert client.get(f"/traces/{root.trace_id}/runs/{stranger.id}").status_code == 404
    response = client.get(f"/traces/{root.trace_id}?run={stranger.id}")
    assert response.status_code == 302
    assert response["Location"] == f"/traces/{stranger.trace_id}?run={stranger.id}"


def test_a_missing_trace_is_a_friendly_404(client):
    missing = uuid.uuid4()
    response = client.get(f"/traces/{missing}")
    assert response.status_code == 404
    assert f"No trace {missing}" in response.content.decode()


def test_a_trace_without_its_root_opens_from_any_run(client):
    orphan_parent = uuid.uuid4()
    trace_id = uuid.uuid4()
    child = RunFactory(trace_id=trace_id, parent_id=orphan_parent, name="lonely")
    response = client.get(f"/traces/{trace_id}")
    assert response.status_code == 200
    assert response.context["data"]["rows"][0][0] == str(child.id)


def test_run_json_downloads_the_full_bodies(client, trace):
    root, llm, _ = trace
    response = client.get(f"/traces/{root.trace_id}/runs/{llm.id}.json")
    assert (
        response["Content-Disposition"] == f'attachment; filename="run-{llm.id}.json"'
    )
    body = json.loads(response.content)
    assert body["extra"] == {"metadata": {"ls_model_name": "gpt-4o"}}
    assert body["inputs"]["messages"][0][1]["kwargs"]["content"] == "Weather?"


def test_stored_xss_is_text_everywhere_on_the_trace_page(client):
    root = RunFactory(name=XSS, inputs={"q": XSS}, outputs={"a": XSS}, tags=[XSS])
    child = RunFactory(
        parent=root,
        name="llm",
        run_type="llm",
        error=XSS,
        inputs={"messages": [{"role": "user", "content": XSS}]},
        outputs={
            "messages": [
                {
                    "role": XSS,
                    "content": XSS,
                    "tool_calls": [
                        {"id": "1", "function": {"name": XSS, "arguments": "{}"}}
                    ],
                }
            ]
        },
    )
    page = client.get(f"/traces/{root.trace_id}").content.decode()
    assert f"<h2>{XSS_ESCAPED}</h2>" in page
    assert f'<span class="s">"{XSS_ESCAPED}"</span>' in page
    # The embedded tree data is JSON with <, > and & escaped for a script element.
    assert "\\u003Cscript\\u003Ewindow.__xss=1\\u003C/script\\u003E" in page
    panel = client.get(f"/traces/{root.trace_id}/runs/{child.id}").content.decode()
    assert f'<div class="msg-part">{XSS_ESCAPED}</div>' in panel
    assert f'<div class="tc-head">→ {XSS_ESCAPED} <span class="muted">1</span>' in panel
    assert f'<pre id="err-{child.id}">{XSS_ESCAPED}</pre>' in panel
    for html in (page, panel):
        assert "<script>window" not in html
        assert "<img src=x" not in html


def test_a_10000_run_trace_opens_with_every_run_in_the_tree(client):
    start = timezone.now() - timedelta(hours=1)
    root = RunFactory(
        name="big", start_time=start, end_time=start + timedelta(minutes=9)
    )
    runs, parents = [], [root]
    for i in range(9999):
        parent = parents[i // 4]  # a 4-ary tree, about 7 levels deep
        run_id = uuid.uuid4()
        at = start + timedelta(milliseconds=i)
        run = Run(
            id=run_id,
            trace_id=root.trace_id,
            parent=parent,
            project=root.project,
            name=f"step-{i}",
            run_type="tool",
            status="success",
            start_time=at,
            end_time=at + timedelta(milliseconds=5),
            inputs={"i": i},
            dotted_order=f"{parent.dotted_order}.{segment(at, run_id)}",
        )
        runs.append(run)
        parents.append(run)
    Run.objects.bulk_create(runs, batch_size=1000)
    began = time.perf_counter()
    response = client.get(f"/traces/{root.trace_id}")
    elapsed = time.perf_counter() - began
    assert response.status_code == 200
    rows = response.context["data"]["rows"]
    assert len(rows) == 10_000
    assert rows[1][3] == "step-0"
    assert sum(1 for r in rows if r[1] == 0) == 4
    # Inputs stay out of the page: they come with the panel of a selected run.
    assert '"i": 9998' not in response.content.decode()
    assert elapsed < 20  # generous: shared CI machines; the browser test measures


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def attach(run, name, content_type, data=b"\x89PNG\r\n"):
    item = Attachment(
        run_id=run.id,
        trace_id=run.trace_id,
        name=name,
        content_type=content_type,
        size=len(data),
    )
    item.file.save(name, ContentFile(data), save=True)
    return item


def test_images_are_previewed_and_downloadable(client, media):
    run = RunFactory()
    png = attach(run, "chart.png", "image/png")
    html = client.get(f"/traces/{run.trace_id}").content.decode()
    assert f'<img src="/attachments/{png.pk}?inline=1" alt="chart.png"' in html
    inline = client.get(f"/attachments/{png.pk}?inline=1")
    assert inline["Content-Type"] == "image/png"
    assert inline["Content-Disposition"] == 'inline; filename="chart.png"'
    assert inline["X-Content-Type-Options"] == "nosniff"
    assert inline["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert b"".join(inline.streaming_content) == b"\x89PNG\r\n"
    download = client.get(f"/attachments/{png.pk}")
    assert download["Content-Disposition"] == 'attachment; filename="chart.png"'


def test_svg_and_html_attachments_are_never_served_inline(client, media):
    run = RunFactory()
    svg = attach(run, "x.svg", "image/svg+xml", b"<svg onload=alert(1)>")
    html_file = attach(run, "x.html", "text/html", b"<script>alert(1)</script>")
    page = client.get(f"/traces/{run.trace_id}").content.decode()
    assert f"/attachments/{svg.pk}?inline=1" not in page
    for item in (svg, html_file):
        response = client.get(f"/attachments/{item.pk}?inline=1")
        assert response["Content-Type"] == "application/octet-stream"
        assert response["Content-Disposition"].startswith("attachment;")
        assert response["X-Content-Type-Options"] == "nosniff"


def test_an_attachment_whose_file_is_gone_is_404(client, media):
    run = RunFactory()
    item = attach(run, "gone.png", "image/png")
    item.file.storage.delete(item.file.name)
    assert client.get(f"/attachments/{item.pk}").status_code == 404
    assert client.get("/attachments/999999").status_code == 404
