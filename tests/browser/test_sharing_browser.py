"""Sharing a trace in headless Chromium: the buttons, then the read-only page."""

from __future__ import annotations

import pytest

from runs.models import SharedTrace
from tests.browser.seed import XSS, agent_trace, xss_trace

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def test_share_a_trace_open_it_read_only_then_unshare(web):
    root, llm, tool = agent_trace()
    xss_root, _ = xss_trace()
    page = web.page
    web.go(f"/traces/{root.trace_id}")
    page.wait_for_selector("html[data-tree-ready]")
    page.click("button:has-text('Share')")
    page.wait_for_selector("#share-link")
    link = page.input_value("#share-link")
    token = str(SharedTrace.objects.get(trace_id=root.trace_id).token)
    assert link == f"{web.base}/public/{token}/r"
    web.shot("trace-shared")

    web.go(f"/public/{token}/r")
    page.wait_for_selector("html[data-tree-ready]")
    assert page.locator(".tree-row:not([hidden])").count() == 3
    assert page.locator(".topbar nav, #project-switch, a[href^='/traces']").count() == 0
    page.click("#tr-1 .t-name")
    page.wait_for_selector(f'.run-panel[data-run-id="{llm.id}"]')
    assert page.url.endswith(f"/public/{token}/r?run={llm.id}")
    assert page.locator(".run-panel a[href*='/admin/']").count() == 0
    web.shot("shared-trace-page")

    web.go(f"/traces/{root.trace_id}")
    page.click("button:has-text('Unshare')")
    page.wait_for_selector("button:has-text('Share')")
    # Fetched, not opened: a 404 navigation is logged as a console error.
    assert page.request.get(f"{web.base}/public/{token}/r").status == 404

    # Stored script in a shared trace is text, never code.
    shared = SharedTrace.objects.create(trace_id=xss_root.trace_id)
    web.go(f"/public/{shared.token}/r")
    page.wait_for_selector("html[data-tree-ready]")
    page.click("#tr-1 .t-name")
    page.wait_for_selector(".run-panel")
    assert page.evaluate("window.__xss") is None
    assert page.locator(".trace-head h1").inner_text() == XSS
    web.shot("shared-trace-xss")
