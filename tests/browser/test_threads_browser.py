"""A 10-turn conversation walked in headless Chromium: list, chat, trace and back."""

from datetime import timedelta
from urllib.parse import quote

import pytest
from django.utils import timezone

from tests.factories import ProjectFactory, RunFactory

pytestmark = pytest.mark.browser

THREAD = 'support <b>"chat"</b> / é'


@pytest.fixture
def conversation(transactional_db):
    project = ProjectFactory(name="shop")
    start = timezone.now() - timedelta(minutes=30)
    history = []
    for i in range(10):
        history.append(
            {"role": "user", "content": f"Question {i + 1}: where is order {100 + i}?"}
        )
        at = start + timedelta(minutes=i)
        root = RunFactory(
            project=project,
            name="support-agent",
            start_time=at,
            end_time=at + timedelta(seconds=1 + i / 10),
            inputs={"messages": list(history)},
            outputs={
                "messages": [
                    *history,
                    {"role": "assistant", "content": f"Answer {i + 1}: it ships soon."},
                ]
            },
            extra={"metadata": {"thread_id": THREAD}},
            total_tokens=100 + i,
        )
        history.append(
            {"role": "assistant", "content": f"Answer {i + 1}: it ships soon."}
        )
        if i == 6:
            RunFactory(
                project=project,
                parent=root,
                trace_id=root.trace_id,
                name="lookup_order",
                run_type="tool",
                status="error",
                error="TimeoutError: warehouse API",
                start_time=at,
            )
    RunFactory(project=project, extra={"metadata": {"session_id": "other-session"}})
    return project


def test_a_ten_turn_conversation_is_walked_from_the_list_to_a_trace(web, conversation):
    page = web.page
    web.go("/threads?project=shop")
    rows = page.locator("#threads-table tbody tr")
    assert rows.count() == 2
    first = rows.nth(1)
    assert first.locator("td").nth(1).inner_text() == "10"
    web.shot("threads-list")
    first.get_by_role("link").click()
    page.wait_for_url(f"**/threads/{quote(THREAD, safe='')}?project=shop")
    assert page.get_by_role("heading", level=1).inner_text() == THREAD
    turns = page.locator("ol.turns > li")
    assert turns.count() == 10
    assert (
        turns.nth(0)
        .locator(".msg-user")
        .inner_text()
        .endswith("Question 1: where is order 100?")
    )
    assert (
        "Answer 10: it ships soon."
        in turns.nth(9).locator(".msg-assistant").inner_text()
    )
    errored = page.locator("li.turn-error")
    assert errored.count() == 1
    assert errored.get_attribute("id") == "turn-7"
    assert "TimeoutError: warehouse API" in errored.inner_text()
    web.shot("thread-chat")
    errored.scroll_into_view_if_needed()
    web.shot("thread-errored-turn")
    page.get_by_role("link", name="lookup_order").click()
    page.wait_for_url("**/traces/*?run=*")
    pane = page.locator("#run-pane")
    assert pane.get_by_role("button", name="Thumbs down").is_visible()
    web.shot("trace-run-feedback")
    page.go_back()
    page.wait_for_url("**/threads/**")
    turns.nth(1).get_by_role("button", name="Thumbs up").click()
    page.wait_for_load_state()
    second = page.locator("#turn-2")
    assert "thumbs 1.0" in second.locator(".fb-rows").inner_text()
    assert page.get_by_role("note").inner_text() == (
        "Login is off: feedback is recorded as anonymous."
    )
    second.locator("summary", has_text="Score…").click()
    form = second.locator("details.fb-score form")
    form.get_by_label("Feedback key").fill("correctness")
    form.get_by_label("Score").fill("0.5")
    form.get_by_label("Comment").fill("<b>half</b> right")
    form.get_by_label("Comment").press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    assert "<b>half</b> right" in page.locator("#turn-2 .fb-rows").inner_text()
    page.locator("#turn-2").scroll_into_view_if_needed()
    web.shot("thread-feedback")
    more = page.locator("ol.turns > li").nth(2).locator("details.turn-more")
    more.locator("summary").click()
    assert more.locator("dl").is_visible()
    page.get_by_role("link", name="← Threads").click()
    page.wait_for_url("**/threads?project=shop")
    page.get_by_label("Errors").select_option("true")
    page.wait_for_url("**errors=true**")
    assert page.locator("#threads-table tbody tr").count() == 1
