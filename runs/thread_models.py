"""Rollups of traces into threads (conversations) and users, kept by triggers.

A thread is the traces of one project whose root runs share the metadata key
``thread_id`` (else ``session_id``, else ``conversation_id``); a user is the
root's ``user_id`` metadata. Triggers (``runs.rollup_triggers``, created by
migrations 0017, 0018 and 0021) keep one ``TraceRollup`` row per trace and one
``ThreadRollup``/``UserRollup`` row per thread/user exact under inserts,
replays, patches and deletes (ingest, ORM, purge alike), so a page of threads
is an index read however many runs are stored.
"""

from __future__ import annotations

from typing import Any

from django.db import models

THREAD_KEYS = ("thread_id", "session_id", "conversation_id")


def thread_key(extra: Any) -> str:
    """The thread a run's metadata names (as the triggers read it), or ""."""
    metadata = extra.get("metadata") if isinstance(extra, dict) else None
    if not isinstance(metadata, dict):
        return ""
    for key in THREAD_KEYS:
        value = metadata.get(key)
        if value not in (None, ""):
            return str(value)[:255]
    return ""


class TraceRollup(models.Model):
    """One trace: its root's fields and keys, and sums over all its runs."""

    trace_id = models.UUIDField(primary_key=True)
    project_id = models.UUIDField(null=True, blank=True)
    # Null until the root run is stored (children may arrive first).
    root_id = models.UUIDField(null=True, blank=True)
    thread_id = models.CharField(max_length=255, default="", blank=True)
    user_id = models.CharField(max_length=255, default="", blank=True)
    start_time = models.DateTimeField(null=True, blank=True)
    end_time = models.DateTimeField(null=True, blank=True)
    # The root's latency, null while it runs.
    latency_ms = models.FloatField(null=True, blank=True)
    status = models.CharField(max_length=16, default="", blank=True)
    # Runs of the trace that failed (a failed tool under a successful root).
    error_runs = models.IntegerField(default=0)
    prompt_tokens = models.BigIntegerField(default=0)
    completion_tokens = models.BigIntegerField(default=0)
    total_tokens = models.BigIntegerField(default=0)
    # Runs of the trace with a cost, and the sum of their costs: null while
    # none is priced, as the root's ``trace_cost`` (never a made-up $0).
    priced_runs = models.IntegerField(default=0)
    total_cost = models.FloatField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["project_id", "thread_id", "start_time"],
                name="trace_rollup_thread",
                condition=~models.Q(thread_id=""),
            ),
            models.Index(
                fields=["project_id", "user_id", "start_time"],
                name="trace_rollup_user",
                condition=~models.Q(user_id=""),
            ),
        ]

    def __str__(self) -> str:
        return f"trace {self.trace_id} ({self.thread_id or 'no thread'})"


def keyed(key: str, prefix: str) -> list[models.BaseConstraint]:
    """One row per (project, key)."""
    return [models.UniqueConstraint(fields=["project_id", key], name=f"{prefix}_key")]


def latest_first(prefix: str) -> list[models.Index]:
    """A project's rows, latest activity first: the list pages (``keyset``)."""
    return [
        models.Index(fields=["project_id", "-last_start", "-id"], name=f"{prefix}_last")
    ]


class GroupRollup(models.Model):
    """Traces of one project grouped by a key of their root, and their sums.

    ``KEY``, ``COUNT`` and ``ERRORS`` name the subclass's own columns, so
    filters and pages serve threads and users alike.
    """

    KEY: str
    COUNT: str
    ERRORS: str

    project_id = models.UUIDField()
    first_start = models.DateTimeField()
    last_start = models.DateTimeField()
    # Sum of the finished traces' latencies.
    latency_ms = models.FloatField(default=0)
    prompt_tokens = models.BigIntegerField(default=0)
    completion_tokens = models.BigIntegerField(default=0)
    total_tokens = models.BigIntegerField(default=0)
    # Priced runs beneath the row; the cost is null while there is none.
    priced_runs = models.IntegerField(default=0)
    total_cost = models.FloatField(null=True, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.key} ({self.count} {self.COUNT})"

    @property
    def key(self) -> str:
        return getattr(self, self.KEY)

    @property
    def count(self) -> int:
        return getattr(self, self.COUNT)

    @property
    def errors(self) -> int:
        return getattr(self, self.ERRORS)


class ThreadRollup(GroupRollup):
    """One thread of a project: its turns (traces) and their sums."""

    KEY, COUNT, ERRORS = "thread_id", "turns", "error_turns"

    thread_id = models.CharField(max_length=255)
    turns = models.IntegerField(default=0)
    # Turns with at least one failed run.
    error_turns = models.IntegerField(default=0)

    class Meta:
        constraints = keyed("thread_id", "thread_rollup")
        indexes = latest_first("thread_rollup")


class UserRollup(GroupRollup):
    """One user of a project (the roots' ``user_id``): their traces and sums."""

    KEY, COUNT, ERRORS = "user_id", "traces", "error_traces"

    user_id = models.CharField(max_length=255)
    traces = models.IntegerField(default=0)
    # Traces with at least one failed run.
    error_traces = models.IntegerField(default=0)

    class Meta:
        constraints = keyed("user_id", "user_rollup")
        indexes = [
            *latest_first("user_rollup"),
            # One user across projects.
            models.Index(fields=["user_id"], name="user_rollup_user"),
        ]
