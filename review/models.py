"""Annotation queues: named lists of traces that people step through and judge.

An item names a trace and its root run (the run that receives the item's
feedback); it is done once feedback has been left on it from the queue.
"""

from __future__ import annotations

from django.db import models


class Queue(models.Model):
    name = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=150, blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name


class QueueItem(models.Model):
    queue = models.ForeignKey(Queue, on_delete=models.CASCADE, related_name="items")
    # The project, for viewers limited to one: they see only its items.
    project = models.ForeignKey(
        "runs.Project", on_delete=models.CASCADE, related_name="+"
    )
    trace_id = models.UUIDField()
    run_id = models.UUIDField(help_text="The trace's root run, judged by reviewers.")
    name = models.CharField(max_length=255, blank=True, default="")
    position = models.PositiveIntegerField()
    added_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["queue", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["queue", "trace_id"], name="review_item_once_per_queue"
            ),
        ]
        indexes = [models.Index(fields=["queue", "position"])]

    def __str__(self) -> str:
        return f"{self.queue} #{self.position}"
