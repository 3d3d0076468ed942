"""Annotation queues: ``/queues`` (list, create), ``/queues/<id>`` (review).

Traces are added from the traces table, picked or "all matching the
filter" (at most ``review.services.MAX_ADD``). A reviewer steps through the
items with the keyboard (static/agentspy/queue.js); feedback goes through the
page's one write path (``record_feedback``) and marks the item done.
"""

from __future__ import annotations

import uuid

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.decorators.http import require_POST

from dashboard.compare import as_text
from dashboard.trace_params import filter_params
from dashboard.views.common import dashboard_view, limit_to_project, page
from dashboard.views.feedback import author, feedback_rows, record_feedback, refuse
from review import services
from review.models import Queue, QueueItem
from review.services import (
    add_traces,
    mark_done,
    next_item,
    parse_ids,
    queues_with_progress,
)
from runs.models import Run
from runs.query.filters import InvalidFilter, filter_runs
from runs.query.roots import root_runs
from runs.query.trees import run_io
from runs.viewers import may_manage

MAX_NAME = 200
TEXT_CHARS = 20_000


def _items(request: HttpRequest, queue: Queue):
    return limit_to_project(request, QueueItem.objects.filter(queue=queue))


def _queue_url(queue: Queue, position: int | None = None) -> str:
    url = reverse("dashboard:queue", args=[queue.pk])
    return f"{url}?item={position}" if position else url


def _named(queue: Queue, name: str) -> Queue | dict[str, str]:
    """``queue`` saved under ``name``, or why not."""
    name = name.strip()
    if not name:
        return {"name": "A queue needs a name."}
    if len(name) > MAX_NAME:
        return {"name": f"At most {MAX_NAME} characters."}
    queue.name = name
    try:
        with transaction.atomic():
            queue.save()
    except IntegrityError:
        return {"name": "A queue with this name exists."}
    return queue


def _new_queue(request: HttpRequest, name: str) -> Queue | dict[str, str]:
    return _named(Queue(created_by=author(request)[1]), name)


@dashboard_view
def queues(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        queue = _new_queue(request, request.POST.get("name", ""))
        if isinstance(queue, dict):
            return refuse(request, queue)
        return HttpResponseRedirect(_queue_url(queue))
    items = limit_to_project(request, QueueItem.objects.all())
    context = {"queues": queues_with_progress(items), "max_add": services.MAX_ADD}
    return page(request, "dashboard/queues.html", context)


def _picked_ids(request: HttpRequest, runs) -> list[uuid.UUID] | dict[str, str]:
    if request.POST.get("scope") != "matching":
        return parse_ids(request.POST.getlist("trace_ids"))
    params = filter_params(QueryDict(request.POST.get("filter_query", "")))
    try:
        matching = filter_runs(params, runs)
        rows = root_runs(matching, limit=services.MAX_ADD).runs
    except (InvalidFilter, ValueError):
        return {"filter": "The traces filter is not valid."}
    return parse_ids(str(row["trace_id"]) for row in rows)


@require_POST
@dashboard_view
def queue_add(request: HttpRequest) -> HttpResponse:
    """Add the picked traces, or those matching the table's filter, to a queue
    (an existing one, or a new one named in the form)."""
    if request.POST.get("new_queue", "").strip():
        queue = _new_queue(request, request.POST["new_queue"])
        if isinstance(queue, dict):
            return refuse(request, queue)
    else:
        try:
            pk = int(request.POST.get("queue", ""))
        except ValueError:
            return refuse(request, {"queue": "Pick a queue or name a new one."})
        queue = Queue.objects.filter(pk=pk).first()
        if queue is None:
            return refuse(request, {"queue": "No such queue."})
    runs = limit_to_project(request, Run.objects.all())
    ids = _picked_ids(request, runs)
    if isinstance(ids, dict):
        return refuse(request, ids)
    if not ids:
        return refuse(request, {"trace_ids": "Pick at least one trace."})
    add_traces(queue, ids, runs)
    return HttpResponseRedirect(_queue_url(queue))


def _current(request: HttpRequest, items) -> QueueItem | None:
    try:
        position = int(request.GET.get("item", ""))
    except ValueError:
        return next_item(items, 0) or items.order_by("position").first()
    return items.filter(position=position).first()


def _managed(request: HttpRequest, pk: int) -> Queue | HttpResponse:
    """The queue, or the refusal for a visitor who may not change it."""
    queue = get_object_or_404(Queue, pk=pk)
    if not may_manage(request.user):
        errors = {"queue": "Viewers may not rename or delete queues."}
        return refuse(request, errors, "Queue not changed", status=403)
    return queue


@require_POST
@dashboard_view
def queue_rename(request: HttpRequest, pk: int) -> HttpResponse:
    queue = _managed(request, pk)
    if isinstance(queue, HttpResponse):
        return queue
    renamed = _named(queue, request.POST.get("name", ""))
    if isinstance(renamed, dict):
        return refuse(request, renamed, "Queue not renamed")
    return HttpResponseRedirect(_queue_url(renamed))


@require_POST
@dashboard_view
def queue_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete the queue and its items; feedback given from it stays on the runs."""
    queue = _managed(request, pk)
    if isinstance(queue, HttpResponse):
        return queue
    if request.POST.get("confirm") != "yes":
        return refuse(request, {"confirm": "Confirm the deletion."}, "Queue kept")
    queue.delete()
    return HttpResponseRedirect(reverse("dashboard:queues"))


@dashboard_view
def queue(request: HttpRequest, pk: int) -> HttpResponse:
    queue = get_object_or_404(Queue, pk=pk)
    items = _items(request, queue)
    total = items.count()
    done = items.filter(done_at__isnull=False).count()
    item = _current(request, items) if total else None
    context = {
        "queue": queue,
        "total": total,
        "done": done,
        "item": item,
        "anonymous": author(request)[0] is None,
        "may_manage": may_manage(request.user),
    }
    if item is not None:
        before = items.filter(position__lt=item.position).order_by("-position")
        after = items.filter(position__gt=item.position).order_by("position")
        previous, following = before.first(), after.first()
        io = run_io(item.run_id, queryset=limit_to_project(request, Run.objects))
        context.update(
            {
                "index": before.count() + 1,
                "prev_url": _queue_url(queue, previous.position) if previous else "",
                "next_url": _queue_url(queue, following.position) if following else "",
                "inputs_text": as_text((io or {}).get("inputs"))[:TEXT_CHARS],
                "outputs_text": as_text((io or {}).get("outputs"))[:TEXT_CHARS],
                "feedback": feedback_rows(request, [item.run_id]).get(item.run_id),
                "here": _queue_url(queue, item.position),
            }
        )
    elif request.GET.get("item"):
        return page(request, "dashboard/queue.html", context, status=404)
    return page(request, "dashboard/queue.html", context)


@require_POST
@dashboard_view
def queue_feedback(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    """Feedback on an item's root run, then the next item still to review."""
    queue = get_object_or_404(Queue, pk=pk)
    item = get_object_or_404(_items(request, queue), pk=item_pk)
    errors = record_feedback(request, str(item.run_id))
    if errors:
        return refuse(request, errors)
    mark_done(item)
    following = next_item(_items(request, queue), item.position)
    return HttpResponseRedirect(
        _queue_url(queue, following.position if following else item.position)
    )
