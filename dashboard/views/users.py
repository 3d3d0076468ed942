"""Users: a project's users (root `user_id` metadata, OTLP `user.id`), and one user.

The list reads the user rollups (an index read on project, last seen); a
user's page shows their projects, threads and latest traces.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from dashboard.views import rollup_lists as lists
from dashboard.views.common import dashboard_view, find_project, page
from dashboard.views.threads import thread_url
from runs.models import Project, Run
from runs.query import users as q
from runs.query.turn_text import preview, user_input

PAGE_SIZE = 50
LIST_PARAMS = ("project", "search", "errors", "since")


def user_url(user_id: str, project: Project | None = None) -> str:
    url = f"{reverse('dashboard:users')}/{quote(user_id, safe='')}"
    return f"{url}?{urlencode({'project': project.name})}" if project else url


@dashboard_view
def users(request: HttpRequest) -> HttpResponse:
    project = find_project(request.GET.get("project", ""))
    if project is None:
        return lists.pick_project(request, "dashboard/users_pick.html")
    params = lists.list_params(request.GET, LIST_PARAMS)
    where = q.UserFilter()
    errors = lists.read_filter(params, where)
    context = lists.list_page(
        request,
        project,
        q.list_users,
        where=where,
        params=params,
        errors=errors,
        limit=PAGE_SIZE,
    )
    context.update(list_url=reverse("dashboard:users"), noun="user", since_label="Seen")
    rows = context["rows"]
    threads = q.thread_counts(project.id, [r.user_id for r in rows])
    for row in rows:
        row.url = user_url(row.user_id, project)
        row.threads = threads.get(row.user_id, 0)
    status = 400 if context["errors"] else 200
    return page(request, "dashboard/users.html", context, status=status)


@dashboard_view
def user(request: HttpRequest, user_id: str) -> HttpResponse:
    seen = q.user_projects(user_id)
    project = find_project(request.GET.get("project", ""))
    if project is None and seen:
        project = Project.objects.filter(id=seen[0].project_id).first()
    row = next((r for r in seen if project and r.project_id == project.id), None)
    if row is None:
        context = {"user_id": user_id, "project": project}
        return page(request, "dashboard/user_missing.html", context, status=404)
    names = dict(
        Project.objects.filter(id__in=[r.project_id for r in seen]).values_list(
            "id", "name"
        )
    )
    projects = [
        {
            "name": names.get(r.project_id, "?"),
            "row": r,
            "current": r.project_id == project.id,
            "url": f"{reverse('dashboard:users')}/{quote(user_id, safe='')}?"
            + urlencode({"project": names.get(r.project_id, "")}),
        }
        for r in seen
    ]
    threads = q.user_threads(project.id, user_id)
    for thread in threads:
        thread.url = thread_url(project, thread.thread_id)
    traces = q.user_traces(project.id, user_id)
    roots = {
        r.id: r
        for r in Run.objects.filter(id__in=[t.root_id for t in traces]).only(
            "id", "name", "inputs"
        )
    }
    for trace in traces:
        root = roots.get(trace.root_id)
        trace.name = root.name if root else ""
        trace.question = preview(user_input(root.inputs), 160) if root else ""
    context = {
        "project": project,
        "user_id": user_id,
        "row": row,
        "projects": projects,
        "threads": threads,
        "traces": traces,
        "users_link": f"{reverse('dashboard:users')}?"
        + urlencode({"project": project.name}),
    }
    return page(request, "dashboard/user.html", context)
