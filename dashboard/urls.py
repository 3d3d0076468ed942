from django.urls import path

from dashboard import views

app_name = "dashboard"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("traces", views.traces, name="traces"),
    # The LangSmith run serializer's app_path: /traces/<trace_id>?run=<run_id>
    path("traces/<uuid:trace_id>", views.trace, name="trace"),
    path(
        "traces/<uuid:trace_id>/runs/<uuid:run_id>",
        views.run_panel,
        name="run_panel",
    ),
    path(
        "traces/<uuid:trace_id>/runs/<uuid:run_id>.json",
        views.run_json,
        name="run_json",
    ),
    path("projects", views.projects, name="projects"),
    path("compare", views.compare, name="compare"),
    path("queues", views.queues, name="queues"),
    path("queues/add", views.queue_add, name="queue_add"),
    path("queues/<int:pk>", views.queue, name="queue"),
    path("queues/<int:pk>/rename", views.queue_rename, name="queue_rename"),
    path("queues/<int:pk>/delete", views.queue_delete, name="queue_delete"),
    path(
        "queues/<int:pk>/items/<int:item_pk>/feedback",
        views.queue_feedback,
        name="queue_feedback",
    ),
    path("views", views.saved_views.save, name="saved_view_save"),
    path("views/<int:pk>", views.saved_views.open_view, name="saved_view"),
    path("views/<int:pk>/delete", views.saved_views.delete, name="saved_view_delete"),
    path("threads", views.threads, name="threads"),
    # Any character may be in a thread id, "/" included (sent as %2F).
    path("threads/<path:thread_id>", views.thread, name="thread"),
    path("feedback", views.feedback.create, name="feedback"),
    path("feedback/<uuid:pk>/edit", views.feedback.edit, name="feedback_edit"),
    path("feedback/<uuid:pk>/delete", views.feedback.delete, name="feedback_delete"),
    path("users", views.users, name="users"),
    path("users/<path:user_id>", views.user, name="user"),
    path("attachments/<int:pk>", views.attachment, name="attachment"),
    path("traces/<uuid:trace_id>/share", views.share, name="trace_share"),
    path("traces/<uuid:trace_id>/unshare", views.unshare, name="trace_unshare"),
    # The paths the LangSmith SDK builds (get_run_url, Run.url, project.url).
    path(
        "o/<str:tenant>/projects/p/<uuid:project_id>/r/<uuid:run_id>",
        views.langsmith_run,
        name="langsmith_run",
    ),
    path(
        "o/<str:tenant>/projects/p/<uuid:project_id>",
        views.langsmith_project,
        name="langsmith_project",
    ),
]
