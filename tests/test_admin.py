"""The Django admin screens for runs, projects, feedback, attachments and keys."""

import json
from datetime import timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.files.base import ContentFile
from django.utils import timezone

from runs.admin import common as runs_admin
from runs.admin import runs as run_admin
from runs.models import ApiKey, Attachment, Feedback, Run
from runs.query import trace_filters
from tests.factories import FeedbackFactory, ProjectFactory, RunFactory

pytestmark = pytest.mark.django_db

XSS = '<script>window.__xss=1</script><img src=x onerror="window.__xss=1"> {{ 7*7 }}'
XSS_ESCAPED = (
    "&lt;script&gt;window.__xss=1&lt;/script&gt;&lt;img src=x "
    "onerror=&quot;window.__xss=1&quot;&gt; {{ 7*7 }}"
)


def test_run_changelist_shows_the_columns(admin_client):
    run = RunFactory(name="agent", total_tokens=1234, project=ProjectFactory(name="p1"))
    response = admin_client.get("/admin/runs/run/")
    assert response.status_code == 200
    html = response.content.decode()
    for text in (
        f'<a href="/admin/runs/run/{run.id}/change/">agent</a>',
        '<td class="field-run_type">chain</td>',
        '<td class="field-status">Success</td>',
        '<td class="field-project nowrap">p1</td>',
        '<td class="field-duration">1.00 s</td>',
        '<td class="field-tokens"><span title="The whole trace: this run and its '
        'children">1,234</span></td>',
    ):
        assert text in html
    assert "1 run" in html


def test_run_changelist_never_counts_past_the_cap(admin_client, monkeypatch):
    monkeypatch.setattr(runs_admin.CappedPaginator, "CAP", 3)
    for _ in range(5):
        RunFactory()
    html = admin_client.get("/admin/runs/run/").content.decode()
    assert "More than 3 runs (narrow with filters or search)" in html
    assert "5 total" not in html


def test_a_short_list_a_trace_scan_filters_is_counted_honestly(
    admin_client, monkeypatch
):
    monkeypatch.setattr(trace_filters, "SET_LIMIT", 0)
    for i in range(3):
        RunFactory(name=f"zebra-{i}")
    response = admin_client.get("/admin/runs/run/", {"q": "zebra"})
    assert len(response.context["cl"].result_list) == 3
    html = response.content.decode()
    assert "3 results (" in html
    assert "10001" not in html and "10,001" not in html
    assert response.context["cl"].paginator.num_pages == 1


def test_a_long_uncounted_list_says_many_and_pages_one_page_ahead(
    admin_client, monkeypatch
):
    monkeypatch.setattr(trace_filters, "SET_LIMIT", 0)
    monkeypatch.setattr(runs_admin.FastChangelistMixin, "list_per_page", 2)
    for i in range(7):
        RunFactory(name=f"zebra-{i}")
    response = admin_client.get("/admin/runs/run/", {"q": "zebra"})
    html = response.content.decode()
    # Counted as far as the page after this one (2 x 2 rows) plus one.
    assert "many results, more than 4 (" in html
    assert "More than 4 runs: too many to count quickly" in html
    assert response.context["cl"].paginator.num_pages == 3


def test_a_short_search_on_a_small_store_is_counted(admin_client):
    for i in range(23):
        RunFactory(name=f"run {i}")
    response = admin_client.get("/admin/runs/run/", {"q": "ru"})
    cl = response.context["cl"]
    assert (cl.result_count, cl.paginator.num_pages) == (23, 1)
    assert "23 results (" in response.content.decode()


def test_root_rows_show_their_whole_trace_tokens(admin_client):
    root = RunFactory(name="agent", total_tokens=0)
    RunFactory(parent=root, trace_id=root.trace_id, total_tokens=300)
    RunFactory(parent=root, trace_id=root.trace_id, total_tokens=45)
    html = admin_client.get("/admin/runs/run/").content.decode()
    assert (
        '<td class="field-tokens"><span title="The whole trace: this run and its '
        'children">345</span></td>' in html
    )
    html = admin_client.get("/admin/runs/run/", {"level": "children"}).content.decode()
    assert '<td class="field-tokens">300</td>' in html


def test_run_changelist_filters_by_type_status_and_date(admin_client):
    RunFactory(name="a-chain")
    RunFactory(name="a-tool", run_type="tool", status="error")
    RunFactory(name="old", start_time=timezone.now() - timedelta(days=30))

    def names(query):
        response = admin_client.get(f"/admin/runs/run/?{query}")
        return sorted(r.name for r in response.context["cl"].result_list)

    assert names("run_type=tool&status__exact=error") == ["a-tool"]
    today = timezone.now().date()
    week_ago = today - timedelta(days=7)
    tomorrow = today + timedelta(days=1)
    assert names(f"start_time__gte={week_ago}&start_time__lt={tomorrow}") == [
        "a-chain",
        "a-tool",
    ]


def test_run_changelist_shows_roots_unless_asked_for_all_runs(admin_client):
    root = RunFactory(name="root")
    RunFactory(parent=root, name="child")

    def names(query):
        response = admin_client.get(f"/admin/runs/run/?{query}")
        return sorted(r.name for r in response.context["cl"].result_list)

    assert names("") == ["root"]
    assert names("level=all") == ["child", "root"]
    assert names("level=children") == ["child"]
    assert names(f"parent__id__exact={root.id}") == ["child"]
    html = admin_client.get("/admin/runs/run/").content.decode()
    assert "Root runs (traces)" in html


def test_run_search_by_id_trace_id_and_text(admin_client):
    root = RunFactory(name="root", inputs={"q": "find the zebra"})
    child = RunFactory(parent=root, name="child")
    other = RunFactory(name="other")

    def found(q, **params):
        response = admin_client.get("/admin/runs/run/", {"q": q, **params})
        return sorted(r.name for r in response.context["cl"].result_list)

    assert found(str(child.id)) == ["child"]
    assert found(str(root.trace_id)) == ["child", "root"]
    # Text selects whole traces and lists their roots, or every run on asking.
    assert found("zebra") == ["root"]
    assert found("zebra", level="all") == ["child", "root"]
    assert found(other.name) == ["other"]
    assert found("nothing-like-this") == []


def test_run_change_page_is_read_only_pretty_and_escaped(admin_client):
    root = RunFactory(name="root")
    run = RunFactory(
        parent=root,
        name=XSS,
        inputs={"prompt": XSS},
        outputs={"text": XSS},
        extra={"metadata": {"k": 1}},
        error=XSS,
    )
    RunFactory(parent=run, name="grandchild")
    html = admin_client.get(f"/admin/runs/run/{run.id}/change/").content.decode()
    assert (
        '<pre class="agentspy-json">{\n  &quot;prompt&quot;: &quot;'
        + XSS_ESCAPED.replace("&quot;", "\\&quot;")
        + "&quot;\n}</pre>"
    ) in html
    assert f'<pre class="agentspy-json">{XSS_ESCAPED}</pre>' in html
    assert (
        f'<a href="/traces/{root.trace_id}?run={run.id}">Open in the dashboard</a>'
        in html
    )
    assert "grandchild</a>" in html
    assert f'name="parent" value="{root.id}"' in html  # raw id widget
    assert "<script>window" not in html
    assert 'name="inputs"' not in html


def test_child_runs_list_is_bounded(admin_client, monkeypatch):
    monkeypatch.setattr(run_admin, "CHILDREN_SHOWN", 2)
    root = RunFactory()
    for _ in range(3):
        RunFactory(parent=root)
    html = admin_client.get(f"/admin/runs/run/{root.id}/change/").content.decode()
    assert f"?parent__id__exact={root.id}" in html
    listed = html[html.index('<ul class="agentspy-children">') :]
    listed = listed[: listed.index("</ul>")]
    assert listed.count("/change/") == 2
    assert listed.count("All child runs…") == 1


def test_pretty_json_is_capped(monkeypatch):
    monkeypatch.setattr(runs_admin, "MAX_PRETTY_CHARS", 4)
    assert runs_admin.pretty_json({"a": 1}) == (
        '<pre class="agentspy-json">{\n  </pre>… 8 more characters (see the dashboard)'
    )
    assert runs_admin.pretty_json(None) == '<span class="quiet">null</span>'


def test_export_action_streams_whole_traces_as_jsonl(admin_client):
    root = RunFactory(name="root")
    child = RunFactory(parent=root, name="child")
    RunFactory(name="unrelated")
    response = admin_client.post(
        "/admin/runs/run/?level=all",
        {"action": "export_traces_jsonl", ACTION_CHECKBOX_NAME: [str(child.id)]},
    )
    assert response["Content-Disposition"] == 'attachment; filename="traces.jsonl"'
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert sorted(json.loads(line)["name"] for line in lines) == ["child", "root"]


def test_delete_whole_traces_asks_then_deletes_every_run(admin_client):
    root = RunFactory(name="root")
    child = RunFactory(parent=root)
    FeedbackFactory(run_id=child.id, trace_id=root.trace_id)
    keep = RunFactory(name="keep")
    form = {"action": "delete_whole_traces", ACTION_CHECKBOX_NAME: [str(child.id)]}
    confirm = admin_client.post("/admin/runs/run/?level=all", form)
    html = confirm.content.decode()
    assert (
        "This deletes <strong>1</strong> whole trace: <strong>2</strong> runs" in html
    )
    assert Run.objects.count() == 3
    done = admin_client.post(
        "/admin/runs/run/?level=all", {**form, "confirm": "yes"}, follow=True
    )
    assert "Deleted 1 traces (2 runs)." in done.content.decode()
    assert list(Run.objects.values_list("id", flat=True)) == [keep.id]
    assert Feedback.objects.count() == 0


def test_runs_cannot_be_added_by_hand(admin_client):
    assert admin_client.get("/admin/runs/run/add/").status_code == 403


def test_project_admin_links_to_the_dashboard_and_deletes_without_listing(
    admin_client,
):
    project = ProjectFactory(name="alpha beta", retention_days=7)
    RunFactory(project=project)
    html = admin_client.get("/admin/runs/project/").content.decode()
    assert '<a href="/traces?project=alpha%20beta">Traces</a>' in html
    assert '<td class="field-retention_days">7</td>' in html
    confirm = admin_client.get(f"/admin/runs/project/{project.id}/delete/")
    page = confirm.content.decode()
    assert "Project: alpha beta" in page
    assert dict(confirm.context["model_count"]) == {"projects": 1, "runs": 1}
    admin_client.post(f"/admin/runs/project/{project.id}/delete/", {"post": "yes"})
    assert Run.objects.count() == 0


def test_feedback_admin_lists_and_escapes(admin_client):
    run = RunFactory()
    feedback = FeedbackFactory(
        run_id=run.id, key="quality", score=0.5, value={"v": XSS}, comment="ok"
    )
    html = admin_client.get("/admin/runs/feedback/?key=quality").content.decode()
    assert f'<a href="/admin/runs/run/{run.id}/change/">{run.id}</a>' in html
    assert "<script>window" not in html
    page = admin_client.get(f"/admin/runs/feedback/{feedback.id}/change/")
    assert "&lt;script&gt;" in page.content.decode()


def test_attachment_admin_links_the_safe_download(admin_client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    run = RunFactory()
    item = Attachment(run_id=run.id, trace_id=run.trace_id, name="a.svg", size=3)
    item.content_type = "image/svg+xml"
    item.file.save("a.svg", ContentFile(b"<svg/>"), save=True)
    html = admin_client.get("/admin/runs/attachment/").content.decode()
    assert f'<a href="/attachments/{item.pk}">Download</a>' in html
    assert admin_client.get("/admin/runs/attachment/add/").status_code == 403
    change = admin_client.get(f"/admin/runs/attachment/{item.pk}/change/")
    assert change.status_code == 200


def test_api_key_admin_never_shows_the_hash(admin_client):
    key = ApiKey.objects.create(
        name="ci", prefix="as_abc", key_hash="f" * 64, read_only=True
    )
    listing = admin_client.get("/admin/runs/apikey/").content.decode()
    assert '<td class="field-prefix">as_abc</td>' in listing
    change = admin_client.get(f"/admin/runs/apikey/{key.pk}/change/").content.decode()
    assert "f" * 64 not in change
    assert "f" * 64 not in listing
    assert admin_client.get("/admin/runs/apikey/add/").status_code == 403


def test_all_runs_pages_come_from_a_recent_window_in_the_plain_order(
    admin_client, monkeypatch
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from runs.query import newest

    monkeypatch.setattr(runs_admin.FastChangelistMixin, "list_per_page", 3)
    monkeypatch.setattr(newest, "PLAIN_BUDGET_MS", None)  # the windows at work
    now = timezone.now()
    root = RunFactory(name="root", start_time=now - timedelta(days=3))
    for i in range(6):
        RunFactory(
            parent=root, name=f"child-{i}", start_time=now - timedelta(minutes=i)
        )
    expected = list(Run.objects.order_by("-start_time", "-id"))
    seen = []
    for page in (1, 2, 3):
        with CaptureQueriesContext(connection) as queries:
            response = admin_client.get("/admin/runs/run/", {"level": "all", "p": page})
        seen += list(response.context["cl"].result_list)
        listing = [
            q["sql"] for q in queries if "ORDER BY" in q["sql"] and "LIMIT" in q["sql"]
        ]
        assert any('"start_time" >=' in sql for sql in listing), listing
    assert seen == expected
