"""Routes under API_PREFIX. Paths mirror LangSmith's, so they are explicit."""

from django.urls import path

from agentspy import health
from runs.api import (
    dashboard_views,
    export_views,
    feedback_views,
    ingest_views,
    run_query_views,
    session_views,
)
from runs.api import schema as _schema  # noqa: F401 - registers OpenAPI extensions
from runs.api.help_pages import with_help
from runs.api.root import ApiRootView
from runs.api.v2 import share
from runs.otel.views import OTLPTracesView

urlpatterns = [
    path("", ApiRootView.as_view(), name="api-root"),
    path("info", ingest_views.InfoView.as_view(), name="info"),
    path(
        "runs/multipart",
        with_help(ingest_views.MultipartIngestView, "runs/multipart"),
        name="runs-multipart",
    ),
    path(
        "runs/batch",
        with_help(ingest_views.BatchIngestView, "runs/batch"),
        name="runs-batch",
    ),
    path("runs", with_help(ingest_views.RunCreateView, "runs"), name="runs-create"),
    path("runs/<uuid:run_id>", ingest_views.RunDetailView.as_view(), name="run-detail"),
    path("health", health.health, name="api-health"),
    # Exploration API: dashboard JSON, LangSmith read routes, export.
    path(
        "dashboard/runs/roots",
        dashboard_views.RootRunsView.as_view(),
        name="dashboard-roots",
    ),
    path(
        "dashboard/runs/<uuid:run_id>/hierarchy",
        dashboard_views.HierarchyView.as_view(),
        name="dashboard-hierarchy",
    ),
    path(
        "dashboard/runs/<uuid:run_id>/io",
        dashboard_views.RunIOView.as_view(),
        name="dashboard-run-io",
    ),
    path(
        "dashboard/stats/summary",
        dashboard_views.StatsSummaryView.as_view(),
        name="dashboard-stats",
    ),
    path(
        "dashboard/stats/cost",
        dashboard_views.StatsCostView.as_view(),
        name="dashboard-stats-cost",
    ),
    path(
        "dashboard/projects",
        dashboard_views.ProjectsView.as_view(),
        name="dashboard-projects",
    ),
    path("sessions", session_views.SessionListView.as_view(), name="sessions"),
    path(
        "sessions/<uuid:pk>",
        session_views.SessionDetailView.as_view(),
        name="session-detail",
    ),
    path("runs/query", run_query_views.RunsQueryView.as_view(), name="runs-query"),
    path("runs/<uuid:run_id>/share", share.ShareV1View.as_view(), name="run-share"),
    path("public/<uuid:token>/run", share.PublicRunV1View.as_view(), name="public-run"),
    path(
        "public/<uuid:token>/run/<uuid:run_id>",
        share.PublicRunV1View.as_view(),
        name="public-run-child",
    ),
    path(
        "public/<uuid:token>/runs/query",
        share.PublicRunsQueryV1View.as_view(),
        name="public-runs-query",
    ),
    path("feedback", feedback_views.FeedbackListView.as_view(), name="feedback"),
    path(
        "feedback/<uuid:pk>",
        feedback_views.FeedbackDetailView.as_view(),
        name="feedback-detail",
    ),
    path("export/runs", export_views.ExportRunsView.as_view(), name="export-runs"),
    # Where the LangSmith SDK's OTel mode exports.
    path("otel/v1/traces", OTLPTracesView.as_view(), name="otel-traces"),
]
