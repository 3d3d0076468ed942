"""The traces table's "Add to queue" control lists the newest queues."""

from __future__ import annotations

from django import template

from review.models import Queue

register = template.Library()
QUEUES_LISTED = 100


@register.simple_tag
def queue_choices() -> list[Queue]:
    return list(Queue.objects.only("id", "name")[:QUEUES_LISTED])
