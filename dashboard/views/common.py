"""What every dashboard page shares: the login rule, the layout's context."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from runs.models import Project

SWITCHER_PROJECTS = 500

View = Callable[..., HttpResponse]


def dashboard_view(view: View) -> View:
    """With REQUIRE_AUTH=true, a page needs a Django login; otherwise it is open."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if settings.REQUIRE_AUTH and not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return wrapper


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
    base = {
        "all_projects": Project.objects.only("id", "name")[:SWITCHER_PROJECTS],
        "project_name": project_name,
        "endpoint": endpoint(request),
        # OTLP exporters append /v1/traces to the server's base URL.
        "otlp_endpoint": f"{request.scheme}://{request.get_host()}",
        "require_auth": settings.REQUIRE_AUTH,
    }
    return render(request, template, {**base, **context}, status=status)
