"""The traces table in Chromium: previews, the remembered "Columns" menu and
saved views. Screenshots at 1400 px land in test-artifacts/screenshots/."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from dashboard.models import SavedView
from tests.browser.seed import XSS, agent_trace
from tests.factories import FeedbackFactory, ProjectFactory, RunFactory

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

QUESTIONS = [
    "Where is my order #4512? It was due on Monday.",
    "Can I change the delivery address of an order that has shipped?",
    "What is your refund policy for opened electronics?",
    XSS,
]


def support_traces() -> None:
    project = ProjectFactory(name="support")
    for i, question in enumerate(QUESTIONS):
        start = timezone.now() - timedelta(minutes=5 + i)
        root = RunFactory(
            name="support-agent",
            project=project,
            start_time=start,
            end_time=start + timedelta(seconds=2 + i),
            inputs={
                "messages": [
                    {"role": "system", "content": "You are a support agent."},
                    {"role": "user", "content": question},
                ]
            },
            outputs={
                "messages": [
                    {"role": "assistant", "content": f"Answer {i}: " + "ok " * 60}
                ]
            },
            extra={"metadata": {"user_id": f"user-{i % 2}", "plan": "pro"}},
            total_tokens=120 * (i + 1),
        )
        if i % 2 == 0:
            FeedbackFactory(run_id=root.id, key="thumbs", score=1.0)
    agent_trace("weather-agent", ago=600)


def hidden_everywhere(page, column: str) -> bool:
    return page.eval_on_selector_all(
        f".col-{column}", "els => els.length > 0 && els.every(e => !e.offsetParent)"
    )


def next_refresh(page) -> None:
    """Wait for the live table's next poll to swap its fragment in."""
    page.evaluate(
        """() => new Promise(resolve => document.addEventListener(
            'htmx:afterSwap', () => resolve(true), {once: true}))"""
    )


def test_a_hidden_column_stays_hidden_and_a_saved_view_opens_by_its_link(web):
    support_traces()
    page = web.page
    page.set_viewport_size({"width": 1400, "height": 900})
    web.go("/traces")
    first = page.locator("#traces-table tbody tr").first
    assert first.locator("td.col-input").inner_text() == QUESTIONS[0]
    assert first.locator("td.col-output").get_attribute("title").startswith("Answer 0")
    assert page.evaluate("window.__xss") is None
    web.shot("traces-1400-default")

    page.click("#col-menu summary")
    web.shot("traces-1400-columns-menu")
    page.uncheck('#col-menu input[data-col="input"]')
    page.uncheck('#col-menu input[data-col="tags"]')
    assert hidden_everywhere(page, "input") and hidden_everywhere(page, "tags")
    assert first.locator("td.col-output").is_visible()

    page.reload()
    assert hidden_everywhere(page, "input") and hidden_everywhere(page, "tags")
    assert not page.is_checked('#col-menu input[data-col="input"]')
    assert page.is_checked('#col-menu input[data-col="output"]')
    next_refresh(page)  # the live first page redraws its rows
    assert hidden_everywhere(page, "input")
    assert not page.is_checked('#col-menu input[data-col="input"]')
    page.click("#col-menu summary")
    page.check('#col-menu input[data-col="input"]')
    assert page.locator("td.col-input").first.is_visible()

    page.fill("#f-mk", "user_id")
    page.fill("#f-mv", "user-0")
    with page.expect_navigation():
        page.press("#f-mv", "Enter")
    assert "metadata_key=user_id&metadata_value=user-0" in page.url
    assert page.locator("#traces-table tbody tr").count() == 2
    web.shot("traces-1400-filtered")

    page.click("#views-menu summary")
    page.fill("#v-name", f"user-0 {XSS}")
    with page.expect_navigation():
        page.click("text=Save view")
    view = SavedView.objects.get()
    assert view.query == "metadata_key=user_id&metadata_value=user-0"
    page.click("#views-menu summary")
    web.shot("traces-1400-views-menu")
    assert page.locator(".view-name").inner_text() == f"user-0 {XSS}"

    web.go("/traces")
    assert page.locator("#traces-table tbody tr").count() == 5
    page.click("#views-menu summary")
    with page.expect_navigation():
        page.click(f'a[href="/views/{view.pk}"]')
    assert page.url.endswith("/traces?metadata_key=user_id&metadata_value=user-0")
    assert page.input_value("#f-mk") == "user_id"
    assert page.locator("#traces-table tbody tr").count() == 2
    assert page.evaluate("window.__xss") is None


def test_the_queue_page_renames_and_deletes_with_a_confirmation(web):
    from review.models import Queue

    queue = Queue.objects.create(name="to check")
    page = web.page
    web.go(f"/queues/{queue.pk}")
    page.click("#queue-rename summary")
    page.fill("#queue-new-name", "checked answers")
    with page.expect_navigation():
        page.click("#queue-rename button[type=submit]")
    assert page.locator("h1").inner_text() == "checked answers"
    page.click("#queue-delete summary")
    web.shot("queue-delete-confirm")
    with page.expect_navigation():
        page.click("#queue-delete button[type=submit]")
    assert page.url.endswith("/queues")
    assert not Queue.objects.exists()
