"""The dashboard's pages; each module is one page (or its fragments)."""

from dashboard.views import feedback, saved_views
from dashboard.views.attachments import attachment
from dashboard.views.compare import compare
from dashboard.views.overview import overview
from dashboard.views.projects import projects
from dashboard.views.queues import (
    queue,
    queue_add,
    queue_delete,
    queue_feedback,
    queue_rename,
    queues,
)
from dashboard.views.shared import (
    langsmith_project,
    langsmith_run,
    share,
    shared_run_panel,
    shared_trace,
    unshare,
)
from dashboard.views.threads import thread, threads
from dashboard.views.trace import run_json, run_panel, trace
from dashboard.views.traces import traces
from dashboard.views.users import user, users

__all__ = [
    "attachment",
    "compare",
    "langsmith_project",
    "langsmith_run",
    "share",
    "shared_run_panel",
    "shared_trace",
    "unshare",
    "feedback",
    "overview",
    "projects",
    "queue",
    "queue_add",
    "queue_delete",
    "queue_feedback",
    "queue_rename",
    "queues",
    "run_json",
    "run_panel",
    "saved_views",
    "thread",
    "threads",
    "trace",
    "traces",
    "user",
    "users",
]
