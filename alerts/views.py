"""The dashboard's alerts page: every rule with its state, and recent deliveries."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from alerts.models import AlertDelivery, AlertRule
from dashboard.views.common import dashboard_view, page

RECENT_DELIVERIES = 50


@dashboard_view
def alerts_page(request: HttpRequest) -> HttpResponse:
    rules = AlertRule.objects.select_related("project").order_by("name", "id")
    deliveries = AlertDelivery.objects.select_related("rule").order_by(
        "-created_at", "-id"
    )[:RECENT_DELIVERIES]
    return page(
        request,
        "alerts/alerts.html",
        {"rules": rules, "deliveries": deliveries},
    )
