from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from agentspy import health, metrics

api_prefix = settings.API_PREFIX.strip("/") + "/"

urlpatterns = [
    path("health", health.health, name="health"),
    path("health/ready", health.ready, name="health-ready"),
    path("health/live", health.live, name="health-live"),
    path("metrics", metrics.metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path(api_prefix, include("runs.api.urls")),
    path("", include("dashboard.urls")),
]
