from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.utils.csp import CSP
from django.views.decorators.csp import csp_override
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerView,
)

from agentspy import apidocs, health, metrics
from alerts.views import alerts_page
from dashboard.views import shared_run_panel, shared_trace
from mcpserver.views import MCPView
from runs.api.v2.sessions import SessionResolveView
from runs.otel.views import OTLPTracesView

api_prefix = settings.API_PREFIX.strip("/") + "/"
handler404 = "agentspy.guards.not_found"

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
    # Staff and viewers sign in here (the admin's login admits staff only).
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="dashboard/login.html"),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
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
    path(
        "redoc-dist/bundles/redoc.standalone.js",
        apidocs.redoc_bundle,
        name="redoc-bundle",
    ),
    # langsmith 0.15's generated client calls these at the host root, whatever
    # API_PREFIX is (address resolution kept its /api/v1 path).
    path("api/v2/", include("runs.api.v2.urls")),
    path(
        "api/v1/sessions/resolutions",
        SessionResolveView.as_view(),
        name="sessions-resolve",
    ),
    path(api_prefix, include("runs.api.urls")),
    # The MCP endpoint: exactly /mcp (clients post to the URL as configured).
    path("mcp", MCPView.as_view(), name="mcp"),
    # LangSmith's v2 API lives at the host root whatever API_PREFIX is.
    path("", include("runs.api.v2_thread_urls")),
    # OTLP exporters append /v1/traces to OTEL_EXPORTER_OTLP_ENDPOINT.
    path("v1/traces", OTLPTracesView.as_view(), name="otlp-traces"),
    # A shared trace: the page the SDK's share link (/public/<token>/r) opens.
    path("public/<uuid:token>/r", shared_trace, name="shared-trace"),
    path(
        "public/<uuid:token>/r/runs/<uuid:run_id>",
        shared_run_panel,
        name="shared-run-panel",
    ),
    path(api_prefix, include("datasets.api.urls")),
    path("", include("datasets.urls")),
    path(api_prefix, include("alerts.urls")),
    path("alerts", alerts_page, name="alerts-page"),
    path("", include("dashboard.urls")),
]
