"""Routes under API_PREFIX. Paths mirror LangSmith's, so they are explicit."""

from django.urls import path

from agentspy import health
from runs.api import ingest_views
from runs.otel.views import OTLPTracesView

urlpatterns = [
    path("info", ingest_views.InfoView.as_view(), name="info"),
    path(
        "runs/multipart",
        ingest_views.MultipartIngestView.as_view(),
        name="runs-multipart",
    ),
    path("runs/batch", ingest_views.BatchIngestView.as_view(), name="runs-batch"),
    path("runs", ingest_views.RunCreateView.as_view(), name="runs-create"),
    path("runs/<uuid:run_id>", ingest_views.RunDetailView.as_view(), name="run-detail"),
    path("health", health.health, name="api-health"),
    # Where the LangSmith SDK's OTel mode exports.
    path("otel/v1/traces", OTLPTracesView.as_view(), name="otel-traces"),
]
