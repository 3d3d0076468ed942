"""/compare: two traces side by side, aligned runs, a line diff of bodies."""

import uuid
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from dashboard.compare import align, as_text, line_diff
from runs.viewers import create_viewer
from tests.factories import ProjectFactory, RunFactory

pytestmark = pytest.mark.django_db

XSS = "<script>window.__xss=1</script>"
XSS_ESCAPED = "&lt;script&gt;window.__xss=1&lt;/script&gt;"


def trace(name="agent", *, children=(), seconds=1, tokens=10, outputs=None, **kw):
    start = timezone.now() - timedelta(minutes=5)
    root = RunFactory(
        name=name,
        start_time=start,
        end_time=start + timedelta(seconds=seconds),
        total_tokens=tokens,
        outputs=outputs if outputs is not None else {"answer": "4"},
        **kw,
    )
    for i, (child, child_tokens) in enumerate(children):
        at = start + timedelta(milliseconds=10 * (i + 1))
        RunFactory(
            parent=root,
            project=root.project,
            name=child,
            start_time=at,
            end_time=at + timedelta(milliseconds=100),
            total_tokens=child_tokens,
            outputs={"text": f"{child} said {child_tokens}"},
        )
    return root


def url(a, b) -> str:
    return f"/compare?traces={a.trace_id},{b.trace_id}"


def test_compare_without_ids_shows_the_form_and_how_to_pick(client):
    response = client.get("/compare")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="traces"' in html
    assert "Pick two traces" in html


def test_one_id_or_three_ids_are_refused_with_400(client):
    a = trace()
    assert client.get(f"/compare?traces={a.trace_id}").status_code == 400
    ids = ",".join(str(uuid.uuid4()) for _ in range(3))
    response = client.get(f"/compare?traces={ids}")
    assert response.status_code == 400
    assert "Give exactly two trace ids." in response.content.decode()


def test_a_malformed_id_is_named_in_a_400_escaped(client):
    a = trace()
    response = client.get(f"/compare?traces={a.trace_id},<b>x</b>")
    assert response.status_code == 400
    html = response.content.decode()
    assert "Not a trace id: &lt;b&gt;x&lt;/b&gt;" in html
    assert "<b>x</b>" not in html


def test_an_unknown_trace_is_a_404_naming_it(client):
    a = trace()
    missing = uuid.uuid4()
    response = client.get(f"/compare?traces={a.trace_id},{missing}")
    assert response.status_code == 404
    assert f"No trace {missing}." in response.content.decode()


def test_a_child_run_id_is_not_taken_for_a_trace(client):
    a = trace()
    child = RunFactory(parent=a, project=a.project)
    response = client.get(f"/compare?traces={a.trace_id},{child.id}")
    assert response.status_code == 404


def test_two_traces_are_aligned_by_name_and_position_with_differences(client):
    a = trace(children=[("search", 5), ("search", 7), ("llm", 100)], tokens=112)
    b = trace(
        children=[("search", 5), ("llm", 130), ("rerank", 3)],
        tokens=138,
        seconds=3,
    )
    response = client.get(url(a, b))
    assert response.status_code == 200
    rows = response.context["rows"]
    shape = [
        (r["depth"], r["name"], r["left"] is not None, r["right"] is not None)
        for r in rows
    ]
    assert shape == [
        (0, "agent", True, True),
        (1, "search", True, True),
        (1, "search", True, False),
        (1, "llm", True, True),
        (1, "rerank", False, True),
    ]
    assert rows[0]["tokens_delta"] == 26
    assert rows[0]["latency_delta"] == 2000.0
    assert rows[3]["tokens_delta"] == 30
    assert rows[2]["tokens_delta"] is None
    html = response.content.decode()
    assert "only in A" in html and "only in B" in html
    assert "+26" in html and "+2.00 s" in html


def test_both_root_outputs_show_as_text_and_the_root_pair_is_diffed(client):
    a = trace(outputs={"answer": "four"})
    b = trace(outputs={"answer": "4"})
    html = client.get(url(a, b)).content.decode()
    assert (
        '<pre class="cmp-text" id="cmp-left-output">'
        "{\n  &quot;answer&quot;: &quot;four&quot;\n}</pre>" in html
    )
    assert (
        '<span class="diff-removed">-   &quot;answer&quot;: &quot;four&quot;</span>'
        in html
    )
    assert (
        '<span class="diff-added">+   &quot;answer&quot;: &quot;4&quot;</span>' in html
    )
    assert '<span class="diff-same">  {</span>' in html


def test_a_selected_pair_diffs_those_runs(client):
    a = trace(children=[("search", 5)])
    b = trace(children=[("search", 9)])
    response = client.get(url(a, b) + "&pair=1")
    assert response.context["pair"]["name"] == "search"
    assert response.context["outputs_diff"] == [
        ("same", "{"),
        ("removed", '  "text": "search said 5"'),
        ("added", '  "text": "search said 9"'),
        ("same", "}"),
    ]
    # A pair out of range falls back to the roots.
    response = client.get(url(a, b) + "&pair=99")
    assert response.context["pair"]["name"] == "agent"
    assert client.get(url(a, b) + "&pair=x").context["pair"]["index"] == 0


def test_many_runs_all_names_are_shown(client):
    names = [f"step-{i}" for i in range(30)]
    a = trace(children=[(n, i) for i, n in enumerate(names)])
    b = trace(children=[(n, i + 1) for i, n in enumerate(reversed(names))])
    response = client.get(url(a, b))
    html = response.content.decode()
    assert len(response.context["rows"]) == 31
    for name in names:
        assert f">{name}</a>" in html


def test_xss_in_run_names_outputs_and_diffs_is_rendered_as_text(client):
    a = trace(name=XSS, children=[(XSS, 1)], outputs={"x": XSS})
    b = trace(name=XSS, children=[(XSS, 2)], outputs={"y": XSS})
    html = client.get(url(a, b)).content.decode()
    assert XSS not in html
    assert f">{XSS_ESCAPED}</a>" in html
    assert f"&quot;x&quot;: &quot;{XSS_ESCAPED}&quot;" in html
    assert (
        f'<span class="diff-added">+   &quot;y&quot;: &quot;{XSS_ESCAPED}&quot;' in html
    )


def test_a_viewer_limited_to_a_project_cannot_compare_another_projects_trace(
    settings,
):
    settings.REQUIRE_AUTH = True
    mine = trace(project=ProjectFactory(name="team-a"))
    theirs = trace(project=ProjectFactory(name="team-b"))
    other = trace(project=mine.project)
    viewer = create_viewer(username="bo", project=mine.project).user
    client = Client()
    client.force_login(User.objects.get(pk=viewer.pk))
    assert client.get(url(mine, other)).status_code == 200
    response = client.get(url(mine, theirs))
    assert response.status_code == 404
    assert "theirs" not in response.content.decode()
    assert Client().get(url(mine, other)).status_code == 302


def test_align_keeps_the_right_trees_extras_after_the_row_they_followed():
    def node(name, *children):
        return {
            "id": str(uuid.uuid4()),
            "name": name,
            "status": "success",
            "duration_ms": 1.0,
            "total_tokens": None,
            "total_cost": None,
            "children": list(children),
        }

    left = node("r", node("a"), node("c"))
    right = node("r", node("a", node("a1")), node("b"), node("c"))
    assert [(r["depth"], r["name"]) for r in align(left, right)] == [
        (0, "r"),
        (1, "a"),
        (2, "a1"),
        (1, "b"),
        (1, "c"),
    ]


def test_as_text_and_line_diff_of_plain_values():
    assert as_text(None) == ""
    assert as_text("line 1\nline 2") == "line 1\nline 2"
    assert line_diff("a\nb", "a\nc") == [
        ("same", "a"),
        ("removed", "b"),
        ("added", "c"),
    ]
