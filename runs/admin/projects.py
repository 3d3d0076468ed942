"""The project admin."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from runs.admin.common import (
    FastChangelistMixin,
)
from runs.models import Project, Run


@admin.register(Project)
class ProjectAdmin(FastChangelistMixin, admin.ModelAdmin):
    list_display = ["name", "retention_days", "created_at", "links"]
    search_fields = ["name", "description"]
    list_filter = ["retention_days"]
    readonly_fields = ["id", "created_at", "links"]

    @admin.display(description="Dashboard")
    def links(self, project: Project) -> SafeString:
        query = f"?project={quote(project.name)}"
        return format_html(
            '<a href="{}">Traces</a> · <a href="{}">Overview</a>',
            reverse("dashboard:traces") + query,
            reverse("dashboard:overview") + query,
        )

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        # The default lists every run of the project, loading them all; a count
        # says the same. (The delete itself is one DELETE: runs cascade fast.)
        projects = list(objs)
        summary = [format_html("Project: {}", p.name) for p in projects]
        runs = Run.objects.filter(project__in=projects).count()
        return summary, {"projects": len(projects), "runs": runs}, set(), []
