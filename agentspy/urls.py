from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.utils.csp import CSP
from django.views.decorators.csp import csp_override
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerView,
)

from agentspy import health, metrics
from alerts.views import alerts_page
from runs.otel.views import OTLPTracesView

api_prefix = settings.API_PREFIX.strip("/") + "/"

# Swagger UI and ReDoc are served from our static files (drf-spectacular-sidecar)
# but bootstrap with inline code; they show no run content, so their pages alone
# get a policy that lets inline script run. Nothing is loaded from elsewhere.
DOCS_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "font-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "worker-src": [CSP.SELF, "blob:"],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
}

urlpatterns = [
    path("health", health.health, name="health"),
    path("health/ready", health.ready, name="health-ready"),
    path("health/live", health.live, name="health-live"),
    path("metrics", metrics.metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path(
        "docs",
        csp_override(DOCS_CSP)(SpectacularSwaggerView.as_view(url_name="schema")),
        name="docs",
    ),
    path(
        "redoc",
        csp_override(DOCS_CSP)(SpectacularRedocView.as_view(url_name="schema")),
        name="redoc",
    ),
    path(api_prefix, include("runs.api.urls")),
    path(api_prefix, include("alerts.urls")),
    # OTLP exporters append /v1/traces to OTEL_EXPORTER_OTLP_ENDPOINT.
    path("v1/traces", OTLPTracesView.as_view(), name="otlp-traces"),
    path("alerts", alerts_page, name="alerts-page"),
    path("", include("dashboard.urls")),
]
