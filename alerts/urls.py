"""API routes of alerts, mounted under ``API_PREFIX``."""

from django.urls import path

from alerts import api

urlpatterns = [
    path("alerts", api.AlertRuleList.as_view(), name="alerts"),
    path("alerts/<int:pk>", api.AlertRuleDetail.as_view(), name="alert"),
    path(
        "alerts/<int:pk>/deliveries",
        api.AlertDeliveryList.as_view(),
        name="alert-deliveries",
    ),
]
