"""What every dashboard page shares: the login rule, the project limit of a
viewer given one project (``runs.viewers``), the layout's context."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from runs.models import Project
from runs.viewers import can_read, viewer_project

SWITCHER_PROJECTS = 500

View = Callable[..., HttpResponse]


def dashboard_view(view: View) -> View:
    """With REQUIRE_AUTH=true, a page needs a login of staff or a viewer;
    otherwise it is open. A viewer limited to a project sees only that one."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if settings.REQUIRE_AUTH:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not can_read(request.user):
                return render(request, "dashboard/forbidden.html", status=403)
        request.project_limit = viewer_project(request.user)
        return view(request, *args, **kwargs)

    return wrapper


def project_limit(request: HttpRequest) -> Project | None:
    """The one project this visitor may see, or None for every project."""
    return getattr(request, "project_limit", None)


def limit_to_project(
    request: HttpRequest, queryset: QuerySet, field: str = "project"
) -> QuerySet:
    """``queryset`` narrowed to the visitor's project, if they are limited to one."""
    limit = project_limit(request)
    return queryset.filter(**{field: limit.pk}) if limit is not None else queryset


def find_project(value: str) -> Project | None:
    """A project named by its name or its id (as the query layer accepts)."""
    if not value:
        return None
    try:
        project_id = uuid.UUID(value)
    except ValueError:
        return Project.objects.filter(name=value).first()
    return (
        Project.objects.filter(id=project_id).first()
        or Project.objects.filter(name=value).first()
    )


def endpoint(request: HttpRequest) -> str:
    """The LANGCHAIN_ENDPOINT a client should use to reach this server."""
    return f"{request.scheme}://{request.get_host()}{settings.API_PREFIX}"


def page(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    """Render a page with the layout's context (project switcher, setup hints)."""
    project_name = request.GET.get("project", "")
    project = context.get("project")
    if isinstance(project, Project):
        project_name = project.name
    projects = limit_to_project(request, Project.objects.only("id", "name"), "pk")
    base = {
        "all_projects": projects[:SWITCHER_PROJECTS],
        "project_name": project_name,
        "endpoint": endpoint(request),
        # OTLP exporters append /v1/traces to the server's base URL.
        "otlp_endpoint": f"{request.scheme}://{request.get_host()}",
        "require_auth": settings.REQUIRE_AUTH,
    }
    return render(request, template, {**base, **context}, status=status)
