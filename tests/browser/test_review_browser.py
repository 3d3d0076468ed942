"""Compare two traces picked in the table, and review a queue with the keyboard."""

from datetime import timedelta

import pytest
from django.utils import timezone

from review.models import QueueItem
from runs.models import Feedback
from tests.factories import ProjectFactory, RunFactory

pytestmark = pytest.mark.browser

XSS = "<img src=x onerror=window.__xss=1>"


def agent(project, i, answer, steps):
    at = timezone.now() - timedelta(minutes=10 - i)
    root = RunFactory(
        project=project,
        name="support-agent",
        start_time=at,
        end_time=at + timedelta(seconds=1 + i),
        inputs={"question": f"where is order {i}?"},
        outputs={"answer": answer},
        total_tokens=100 * (i + 1),
    )
    for n, step in enumerate(steps):
        RunFactory(
            project=project,
            parent=root,
            trace_id=root.trace_id,
            name=step,
            start_time=at + timedelta(milliseconds=10 * (n + 1)),
            end_time=at + timedelta(milliseconds=200 * (n + 1)),
            outputs={"text": f"{step} of {i}"},
        )
    return root


@pytest.fixture
def shop(transactional_db):
    project = ProjectFactory(name="shop")
    return [
        agent(project, 0, f"It ships soon {XSS}", ["lookup_order", "llm"]),
        agent(
            project, 1, "It shipped yesterday", ["lookup_order", "web_search", "llm"]
        ),
        agent(project, 2, "No idea", ["llm"]),
    ]


def test_two_traces_picked_in_the_table_are_compared(web, shop):
    page = web.page
    web.go("/traces?project=shop")
    compare = page.get_by_role("button", name="Compare")
    assert compare.is_disabled()
    boxes = page.locator('#traces-table input[name="trace_ids"]')
    assert boxes.count() == 3
    boxes.nth(2).check()  # the oldest: trace 0
    boxes.nth(1).check()  # trace 1
    assert page.locator("#pick-count").inner_text() == "2 selected"
    web.shot("traces-picked")
    compare.click()
    page.wait_for_url("**/compare?traces=*")
    names = page.locator("#compare-table td.name a").all_inner_texts()
    assert names == ["support-agent", "lookup_order", "web_search", "llm"]
    assert "only in B" in page.locator("#compare-table").inner_text()
    assert page.locator("#cmp-left-output").inner_text() == (
        '{\n  "answer": "It ships soon <img src=x onerror=window.__xss=1>"\n}'
    )
    assert "It shipped yesterday" in page.locator("#cmp-right-output").inner_text()
    assert page.locator("#diff-outputs .diff-removed").count() == 1
    assert page.locator("#diff-outputs .diff-added").count() == 1
    assert page.evaluate("window.__xss") is None
    web.shot("compare")
    page.get_by_role("link", name="lookup_order").click()
    page.wait_for_url("**pair=1**")
    assert '"text": "lookup_order of 0"' in page.locator("#diff-outputs").inner_text()
    assert page.locator("tr.cmp-selected td.name").inner_text() == "lookup_order"
    web.shot("compare-pair")


def test_a_queue_filled_from_the_table_is_reviewed_with_the_keyboard(web, shop):
    page = web.page
    web.go("/traces?project=shop")
    page.get_by_label("New queue name").fill("Shipping answers")
    page.get_by_role("button", name="Add all matching (up to 500)").click()
    page.wait_for_url("**/queues/*")
    assert page.get_by_role("heading", level=1).inner_text() == "Shipping answers"
    progress = page.locator("#queue-progress")
    assert progress.inner_text().strip() == "0 reviewed / 3"
    assert "1 thumbs up" in page.locator("#queue-keys").inner_text()
    assert "where is order 0?" in page.locator("#queue-input").inner_text()
    web.shot("queue-start")
    page.keyboard.press("j")
    page.wait_for_url("**?item=2")
    assert "where is order 1?" in page.locator("#queue-input").inner_text()
    page.keyboard.press("k")
    page.wait_for_url("**?item=1")
    page.keyboard.press("1")
    page.wait_for_url("**?item=2")
    assert page.locator("#queue-progress").inner_text().strip() == "1 reviewed / 3"
    page.keyboard.press("0")
    page.wait_for_url("**?item=3")
    assert page.locator("#queue-progress").inner_text().strip() == "2 reviewed / 3"
    web.shot("queue-progress")
    scores = sorted(
        (row.run_id, row.score, row.source["type"])
        for row in Feedback.objects.filter(key="thumbs")
    )
    assert scores == sorted([(shop[0].id, 1.0, "app"), (shop[1].id, 0.0, "app")])
    assert QueueItem.objects.filter(done_at__isnull=False).count() == 2
    page.get_by_role("link", name="Queues").click()
    page.wait_for_url("**/queues")
    assert "Shipping answers" in page.locator("#queues-table").inner_text()
    web.shot("queues-list")
