"""The projects page: every project with its counts, error rate, last activity."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from dashboard.views.common import dashboard_view, limit_to_project, page
from runs.models import Project
from runs.query.stats import project_stats


@dashboard_view
def projects(request: HttpRequest) -> HttpResponse:
    return page(
        request,
        "dashboard/projects.html",
        {"projects": project_stats(limit_to_project(request, Project.objects, "pk"))},
    )
