"""Routes under ``/api/v2/`` at the host root, where langsmith 0.15's
``client.runs``, ``traces``, ``sessions`` and ``public`` resources call.

Thread routes live in their own module; they are added to ``urlpatterns``
below (one ``path("", include(...))`` line).
"""

from django.urls import path

from runs.api.v2 import attachments, runs, sessions, share, traces

urlpatterns = [
    path("runs/query", runs.RunsQueryView.as_view(), name="v2-runs-query"),
    path("runs/<uuid:run_id>", runs.RunRetrieveView.as_view(), name="v2-run"),
    path("runs/<uuid:run_id>/url", runs.RunUrlView.as_view(), name="v2-run-url"),
    path("runs/<uuid:run_id>/share", share.ShareView.as_view(), name="v2-run-share"),
    path("traces/query", traces.TracesQueryView.as_view(), name="v2-traces-query"),
    path(
        "traces/<uuid:trace_id>/runs",
        traces.TraceRunsView.as_view(),
        name="v2-trace-runs",
    ),
    path("sessions", sessions.SessionsView.as_view(), name="v2-sessions"),
    path(
        "sessions/<uuid:session_id>",
        sessions.SessionDetailView.as_view(),
        name="v2-session",
    ),
    path(
        "public/<uuid:token>/run/<uuid:run_id>",
        share.PublicRunView.as_view(),
        name="v2-public-run",
    ),
    path(
        "public/<uuid:token>/runs/query",
        share.PublicRunsQueryView.as_view(),
        name="v2-public-runs-query",
    ),
    # Not a LangSmith route: where attachments' presigned_url points.
    path("attachments/<str:token>", attachments.download, name="attachment-download"),
]
