"""Threads: a project's conversations, and one conversation turn by turn.

Both pages read the thread rollups (``runs.query.threads``): the list is a
keyset page on (project, last activity); a thread's turns an index range on
(project, thread, start), with their roots loaded for the turn texts.
Thread ids may hold any character: links quote every one of them (a "/" too).
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote, urlencode

from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from dashboard.views import rollup_lists as lists
from dashboard.views.common import dashboard_view, find_project, page
from dashboard.views.feedback import author, feedback_rows
from runs.models import Project, Run
from runs.query import threads as q
from runs.query.turn_text import final_answer, user_input
from runs.thread_models import TraceRollup

PAGE_SIZE = 50
# Turns per page: a page costs the same however long the conversation grows.
TURNS_PAGE = 50
# Failed runs named per errored turn.
FAILED_SHOWN = 5
LIST_PARAMS = ("project", "search", "errors", "since", "min_turns")


def thread_url(project: Project, thread_id: str) -> str:
    base = reverse("dashboard:threads")
    return f"{base}/{quote(thread_id, safe='')}?{urlencode({'project': project.name})}"


def _where(params: dict[str, str]) -> tuple[q.ThreadFilter, dict[str, str]]:
    where = q.ThreadFilter()
    errors = lists.read_filter(params, where)
    turns = params.get("min_turns", "")
    if turns:
        if turns.isdigit() and int(turns) <= 1_000_000:
            where.min_turns = int(turns)
        else:
            errors["min_turns"] = "Expected a whole number of turns."
    return where, errors


def feedback_list(stats: dict[str, q.FeedbackStats]) -> list[dict[str, Any]]:
    return [
        {"key": key, "avg": s.avg, "n": s.n, "values": s.values}
        for key, s in sorted(stats.items())
    ]


@dashboard_view
def threads(request: HttpRequest) -> HttpResponse:
    project = find_project(request.GET.get("project", ""))
    if project is None:
        return lists.pick_project(request, "dashboard/threads_pick.html")
    params = lists.list_params(request.GET, LIST_PARAMS)
    where, errors = _where(params)
    context = lists.list_page(
        request,
        project,
        q.list_threads,
        where=where,
        params=params,
        errors=errors,
        limit=PAGE_SIZE,
    )
    context.update(
        list_url=reverse("dashboard:threads"), noun="thread", since_label="Active"
    )
    rows = context["rows"]
    feedback = q.feedback_by_thread(project.id, [r.thread_id for r in rows])
    for row in rows:
        row.url = thread_url(project, row.thread_id)
        row.feedback = feedback_list(feedback.get(row.thread_id, {}))
    status = 400 if context["errors"] else 200
    return page(request, "dashboard/threads.html", context, status=status)


def load_turns(
    request: HttpRequest, turns: list[TraceRollup], first_number: int
) -> list:
    """Each turn's texts, failed runs and feedback, for one page of turns."""
    roots = {
        r.id: r
        for r in Run.objects.filter(id__in=[t.root_id for t in turns]).only(
            "id", "name", "inputs", "outputs", "error", "status", "start_time"
        )
    }
    errored = [t.trace_id for t in turns if t.error_runs]
    failed: dict[uuid.UUID, list[dict[str, Any]]] = {}
    if errored:
        rows = (
            Run.objects.filter(trace_id__in=errored, status=Run.Status.ERROR)
            .order_by("trace_id", "dotted_order")
            .values("id", "trace_id", "name", "run_type", "error")
        )
        for row in rows[: FAILED_SHOWN * len(errored)]:
            shown = failed.setdefault(row["trace_id"], [])
            if len(shown) < FAILED_SHOWN:
                shown.append(row)
    feedback = q.feedback_by_trace(turns)
    rows = feedback_rows(request, [t.root_id for t in turns if t.root_id])
    out = []
    for number, turn in enumerate(turns, start=first_number):
        root = roots.get(turn.root_id)
        out.append(
            {
                "number": number,
                "turn": turn,
                "root": root,
                "question": user_input(root.inputs) if root else "",
                "answer": final_answer(root.outputs) if root else "",
                "failed": failed.get(turn.trace_id, []),
                "feedback": feedback_list(feedback.get(turn.trace_id, {})),
                "rows": rows.get(turn.root_id, []),
                "next": f"{request.get_full_path()}#turn-{number}",
            }
        )
    return out


@dashboard_view
def thread(request: HttpRequest, thread_id: str) -> HttpResponse:
    project = find_project(request.GET.get("project", ""))
    found = q.get_thread(project.id, thread_id) if project else None
    if found is None:
        context = {"thread_id": thread_id, "project": project}
        return page(request, "dashboard/thread_missing.html", context, status=404)
    cursor = request.GET.get("after") or None
    try:
        result = q.list_turns(project.id, thread_id, cursor=cursor, limit=TURNS_PAGE)
    except q.BadCursor:
        context = {"thread_id": thread_id, "project": project, "bad_cursor": True}
        return page(request, "dashboard/thread_missing.html", context, status=400)
    numbers = q.turn_numbers(project.id, result.items) if cursor else [1]
    turns = load_turns(request, result.items, numbers[0] if numbers else 1)
    base = thread_url(project, thread_id)
    context = {
        "project": project,
        "thread": found,
        "turns": turns,
        "feedback": feedback_list(
            q.feedback_by_thread(project.id, [thread_id]).get(thread_id, {})
        ),
        "duration": found.last_start - found.first_start,
        "next_link": f"{base}&{urlencode({'after': result.next_cursor})}"
        if result.next_cursor
        else "",
        "first_link": base if cursor else "",
        "anonymous": author(request)[0] is None,
        "threads_link": f"{reverse('dashboard:threads')}?"
        + urlencode({"project": project.name}),
    }
    return page(request, "dashboard/thread.html", context)
