"""Web pages for browsing traces."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from runs.models import Run


def traces(request: HttpRequest) -> HttpResponse:
    roots = (
        Run.objects.filter(parent__isnull=True)
        .select_related("project")
        .order_by("-start_time")[:50]
    )
    return render(request, "dashboard/traces.html", {"roots": roots})
