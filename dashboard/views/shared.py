"""Shared traces: a read-only trace page anyone with the link can open.

No login is asked, even with REQUIRE_AUTH=true: the share token is the
credential, and it opens that one trace only (its runs; never another trace,
project names or any other page). Unsharing deletes the token, so the link
stops working. Sharing and unsharing from the trace page need the dashboard's
login like every other page.
"""

from __future__ import annotations

import uuid

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from dashboard.views.common import dashboard_view, limit_to_project
from dashboard.views.trace import flatten, panel_context
from runs import sharing
from runs.api import links
from runs.models import Run, SharedTrace
from runs.query.trees import trace_tree


def _missing(request: HttpRequest) -> HttpResponse:
    return render(request, "dashboard/shared_missing.html", status=404)


def _shared_run(share: SharedTrace, run_id: uuid.UUID) -> Run:
    """A run the share opens (its trace, its project), bodies left for the panel."""
    run = (
        sharing.shared_runs(share)
        .select_related("project")
        .defer("inputs", "outputs", "extra", "events", "serialized")
        .filter(id=run_id)
        .first()
    )
    if run is None:
        raise Http404("No such run in this shared trace.")
    return run


def shared_trace(request: HttpRequest, token: uuid.UUID) -> HttpResponse:
    share = sharing.shared(token)
    root = sharing.shared_root(share) if share else None
    tree = (
        trace_tree(root.id, light=True, queryset=sharing.shared_runs(share))
        if root
        else None
    )
    if tree is None or tree["trace_id"] != str(share.trace_id):
        return _missing(request)
    data = flatten(tree)
    ids = {row[0] for row in data["rows"]}
    wanted = request.GET.get("run", "")
    selected = wanted if wanted in ids else data["rows"][0][0]
    run = _shared_run(share, uuid.UUID(selected))
    page_url = reverse("shared-trace", args=[token])
    context = {
        "shared": True,
        "trace_id": str(share.trace_id),
        "panel_base": f"{page_url}/runs/",
        "tree": tree,
        "root": data["rows"][0],
        "data": {**data, "selected": selected, "trace_id": str(share.trace_id)},
        **panel_context(run),
        "permalink": f"{page_url}?run={run.id}",
    }
    return render(request, "dashboard/shared_trace.html", context)


def shared_run_panel(
    request: HttpRequest, token: uuid.UUID, run_id: uuid.UUID
) -> HttpResponse:
    share = sharing.shared(token)
    if share is None:
        raise Http404("This link is not shared.")
    # Only the share's runs: never another trace's, nor another project's.
    run = _shared_run(share, run_id)
    page_url = reverse("shared-trace", args=[token])
    context = {
        **panel_context(run),
        "shared": True,
        "permalink": f"{page_url}?run={run.id}",
    }
    return render(request, "dashboard/_run_panel.html", context)


@require_POST
@dashboard_view
def share(request: HttpRequest, trace_id: uuid.UUID) -> HttpResponse:
    runs = limit_to_project(request, Run.objects.filter(trace_id=trace_id))
    run = runs.order_by("start_time").first()
    if run is None:
        raise Http404("No such trace.")
    sharing.share_trace(run)
    return redirect(reverse("dashboard:trace", args=[trace_id]))


@require_POST
@dashboard_view
def unshare(request: HttpRequest, trace_id: uuid.UUID) -> HttpResponse:
    # A visitor limited to one project unshares only that project's traces.
    if not limit_to_project(request, Run.objects.filter(trace_id=trace_id)).exists():
        raise Http404("No such trace.")
    sharing.unshare_trace(trace_id)
    return redirect(reverse("dashboard:trace", args=[trace_id]))


@dashboard_view
def langsmith_run(
    request: HttpRequest, tenant: str, project_id: uuid.UUID, run_id: uuid.UUID
) -> HttpResponse:
    """LangSmith's run URL (``client.get_run_url``): the run's trace page."""
    trace_id = Run.objects.filter(id=run_id).values_list("trace_id", flat=True).first()
    if trace_id is None:
        raise Http404("No such run.")
    return redirect(links.trace_path(trace_id, run_id))


@dashboard_view
def langsmith_project(
    request: HttpRequest, tenant: str, project_id: uuid.UUID
) -> HttpResponse:
    """LangSmith's project URL (``TracerSession.url``): the project's traces."""
    return redirect(f"{reverse('dashboard:traces')}?project={project_id}")
