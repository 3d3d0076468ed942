"""Filling annotation queues and moving through them."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone

from review.models import Queue, QueueItem

MAX_ADD = 500
NAME_CHARS = 255


def parse_ids(values: Iterable[str]) -> list[uuid.UUID]:
    """The valid trace ids among ``values``, in order, at most ``MAX_ADD``."""
    out: list[uuid.UUID] = []
    for value in values:
        try:
            out.append(uuid.UUID(value))
        except ValueError:
            continue
        if len(out) == MAX_ADD:
            break
    return out


def add_traces(queue: Queue, trace_ids: list[uuid.UUID], runs: QuerySet) -> int:
    """Append the traces (their root runs visible in ``runs``) not yet queued;
    the number added. Traces whose root is not stored are skipped."""
    wanted = list(dict.fromkeys(trace_ids))[:MAX_ADD]
    roots = (
        runs.filter(trace_id__in=wanted, parent_id__isnull=True)
        .values("id", "trace_id", "project_id", "name")
        .order_by("start_time", "id")
    )
    with transaction.atomic():
        # Lock the queue row so two concurrent adds cannot share positions.
        Queue.objects.select_for_update().filter(pk=queue.pk).first()
        queued = set(
            QueueItem.objects.filter(queue=queue, trace_id__in=wanted).values_list(
                "trace_id", flat=True
            )
        )
        last = QueueItem.objects.filter(queue=queue).aggregate(m=Max("position"))["m"]
        position = last or 0
        items = []
        for root in roots:
            if root["trace_id"] in queued or root["id"] != root["trace_id"]:
                continue
            queued.add(root["trace_id"])
            position += 1
            items.append(
                QueueItem(
                    queue=queue,
                    project_id=root["project_id"],
                    trace_id=root["trace_id"],
                    run_id=root["id"],
                    name=(root["name"] or "")[:NAME_CHARS],
                    position=position,
                )
            )
        QueueItem.objects.bulk_create(items)
    return len(items)


def queues_with_progress(items: QuerySet) -> list[Queue]:
    """Every queue with ``total`` and ``done`` counted over ``items`` (the
    items a visitor may see)."""
    counts = {
        row["queue_id"]: row
        for row in items.values("queue_id").annotate(
            total=Count("id"), done=Count("id", filter=Q(done_at__isnull=False))
        )
    }
    queues = list(Queue.objects.all())
    for queue in queues:
        row = counts.get(queue.pk, {})
        queue.total = row.get("total", 0)
        queue.done = row.get("done", 0)
    return queues


def mark_done(item: QueueItem) -> None:
    if item.done_at is None:
        item.done_at = timezone.now()
        item.save(update_fields=["done_at"])


def next_item(items: QuerySet, after: int) -> QueueItem | None:
    """The first item not done after position ``after``, else from the start."""
    pending = items.filter(done_at__isnull=True)
    return (
        pending.filter(position__gt=after).order_by("position").first()
        or pending.order_by("position").first()
    )
