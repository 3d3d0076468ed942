"""Users: a project's users (root `user_id` metadata, OTLP `user.id`), and one user.

The list reads the user rollups (an index read on project, last seen); a
user's page shows their projects, threads and latest traces.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone

from dashboard.views.common import dashboard_view, find_project, page
from dashboard.views.threads import thread_url
from runs.models import Project, Run
from runs.query import users as q
from runs.query.filters import SINCE
from runs.query.threads import BadCursor
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
        context = {"missing": request.GET.get("project", "")}
        context["projects"] = Project.objects.only("id", "name")[:500]
        status = 404 if context["missing"] else 200
        return page(request, "dashboard/users_pick.html", context, status=status)
    params = {
        n: request.GET[n].strip() for n in LIST_PARAMS if request.GET.get(n, "").strip()
    }
    errors: dict[str, str] = {}
    where = q.UserFilter(search=params.get("search", "")[:255])
    where.errors = {"true": True, "false": False}.get(params.get("errors", ""))
    if params.get("since"):
        if params["since"] in SINCE:
            where.active_after = timezone.now() - SINCE[params["since"]]
        else:
            errors["since"] = f"Expected one of {', '.join(SINCE)}."
    rows, next_link = [], ""
    if not errors:
        try:
            result = q.list_users(
                project.id,
                where=where,
                cursor=request.GET.get("after") or None,
                limit=PAGE_SIZE,
            )
        except BadCursor:
            errors["after"] = "Not a valid page cursor."
        else:
            rows = result.items
            if result.next_cursor:
                next_link = "?" + urlencode({**params, "after": result.next_cursor})
    threads = q.thread_counts(project.id, [r.user_id for r in rows])
    for row in rows:
        row.url = user_url(row.user_id, project)
        row.threads = threads.get(row.user_id, 0)
    context = {
        "project": project,
        "rows": rows,
        "errors": errors,
        "form": params,
        "filtering": any(k != "project" for k in params),
        "since_choices": list(SINCE),
        "next_link": next_link,
        "first_link": "?" + urlencode(params),
        "first_page": not request.GET.get("after"),
    }
    return page(request, "dashboard/users.html", context, status=400 if errors else 200)


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
