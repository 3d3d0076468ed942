from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerView,
)

from agentspy import health, metrics
from runs.otel.views import OTLPTracesView

api_prefix = settings.API_PREFIX.strip("/") + "/"

urlpatterns = [
    path("health", health.health, name="health"),
    path("health/ready", health.ready, name="health-ready"),
    path("health/live", health.live, name="health-live"),
    path("metrics", metrics.metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("redoc", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path(api_prefix, include("runs.api.urls")),
    # OTLP exporters append /v1/traces to OTEL_EXPORTER_OTLP_ENDPOINT.
    path("v1/traces", OTLPTracesView.as_view(), name="otlp-traces"),
    path("", include("dashboard.urls")),
]
