"""The alerts page in headless Chromium: rules, deliveries, hostile names."""

from __future__ import annotations

import pytest

from alerts.models import AlertDelivery
from tests.factories import AlertRuleFactory, ProjectFactory

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

XSS = '<img src=x onerror="alert(1)"><script>alert(2)</script>'


def test_alerts_page_lists_rules_and_deliveries(web, dark_web):
    shop = ProjectFactory(name="checkout")
    firing = AlertRuleFactory(
        name="Checkout errors", project=shop, firing=True, last_value=0.42
    )
    AlertRuleFactory(
        name=XSS,
        metric="p95_latency_ms",
        threshold=1500,
        window_minutes=15,
        last_value=812.5,
    )
    AlertRuleFactory(name="Token budget", metric="total_tokens", enabled=False)
    AlertDelivery.objects.create(
        rule=firing,
        event="fired",
        status="delivered",
        url=firing.webhook_url,
        payload={"value": 0.42},
        attempt_count=2,
        http_status=200,
    )
    AlertDelivery.objects.create(
        rule=firing,
        event="resolved",
        status="failed",
        url=firing.webhook_url,
        payload={"value": 0.01},
        attempt_count=4,
        http_status=502,
        last_error=f"HTTP 502: {XSS}",
    )
    web.go("/alerts")
    page = web.page
    rows = page.locator("#alert-rules tbody tr")
    assert rows.count() == 3
    assert rows.nth(0).locator("td").first.inner_text() == XSS
    assert page.locator("#alert-rules .status-error").inner_text() == "firing"
    assert page.locator("#alert-rules .status-stale").inner_text() == "disabled"
    deliveries = page.locator("#alert-deliveries tbody tr")
    assert deliveries.count() == 2
    assert page.locator("#alert-deliveries .status-error").inner_text() == "failed"
    assert page.locator("nav a[aria-current=page]").inner_text() == "Alerts"
    web.shot("alerts-light")
    dark_web.go("/alerts")
    dark_web.shot("alerts-dark")
