"""What the threads and users lists share: the project pick, the filters every
rollup list has (search, errors, active since) and the keyset paging links.

Each list names its own query (``runs.query.threads`` / ``users``) and adds its
own filters and columns; the template ``dashboard/_rollup_list.html`` is the
page both extend.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, QueryDict
from django.utils import timezone

from dashboard.views.common import page
from runs.models import Project
from runs.query.filters import SINCE
from runs.query.keyset import BadCursor, Page, RollupFilter


def pick_project(request: HttpRequest, template: str) -> HttpResponse:
    """The list asks for a project (and names one that does not exist)."""
    missing = request.GET.get("project", "")
    context = {
        "missing": missing,
        "projects": Project.objects.only("id", "name")[:500],
    }
    return page(request, template, context, status=404 if missing else 200)


def list_params(query: QueryDict, names: Sequence[str]) -> dict[str, str]:
    """The filters given (stripped, empty ones dropped), for links and the form."""
    return {n: query.get(n, "").strip() for n in names if query.get(n, "").strip()}


def read_filter(params: dict[str, str], where: RollupFilter) -> dict[str, str]:
    """Sets the shared filters on ``where``; returns the errors by parameter."""
    errors: dict[str, str] = {}
    where.search = params.get("search", "")[:255]
    where.errors = {"true": True, "false": False}.get(params.get("errors", ""))
    since = params.get("since", "")
    if since:
        if since in SINCE:
            where.active_after = timezone.now() - SINCE[since]
        else:
            errors["since"] = f"Expected one of {', '.join(SINCE)}."
    return errors


def list_page(
    request: HttpRequest,
    project: Project,
    fetch: Callable[..., Page],
    *,
    where: RollupFilter,
    params: dict[str, str],
    errors: dict[str, str],
    limit: int,
) -> dict[str, Any]:
    """One page of the list and its context (rows, links, form), errors kept."""
    rows: list[Any] = []
    next_link = ""
    if not errors:
        try:
            result = fetch(
                project.id,
                where=where,
                cursor=request.GET.get("after") or None,
                limit=limit,
            )
        except BadCursor:
            errors["after"] = "Not a valid page cursor."
        else:
            rows = result.items
            if result.next_cursor:
                next_link = "?" + urlencode({**params, "after": result.next_cursor})
    return {
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
