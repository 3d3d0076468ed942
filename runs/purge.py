"""Deleting whole traces: by age, project and status, or by retention policy.

A trace is chosen by its root run (the run without a parent) and then deleted
whole: every run with its trace id, their feedback and their attachments
(rows and files), so no child is ever left without its tree. Work goes in
batches of short transactions so that ingestion, which needs the same write
lock on SQLite, keeps flowing between them.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from runs.models import Attachment, Feedback, Project, Run

STATUSES = (*Run.Status.values, "stale")


class PurgeError(ValueError):
    """Criteria that cannot be applied (an unknown project, ...)."""


@dataclass(frozen=True)
class Criteria:
    """Traces whose root started before ``before``, optionally narrowed."""

    before: datetime
    projects: tuple[Project, ...] = ()
    status: str | None = None

    def describe(self) -> str:
        text = f"started before {self.before:%Y-%m-%d %H:%M:%S} UTC"
        if self.projects:
            text += " in " + ", ".join(repr(p.name) for p in self.projects)
        if self.status:
            text += f" with status {self.status}"
        return text


def resolve_projects(names: Iterable[str]) -> tuple[Project, ...]:
    names = list(dict.fromkeys(names))
    found = {p.name: p for p in Project.objects.filter(name__in=names)}
    unknown = [n for n in names if n not in found]
    if unknown:
        raise PurgeError(f"unknown project {', '.join(map(repr, unknown))}.")
    return tuple(found[n] for n in names)


def retention_criteria(projects: Iterable[Project] = ()) -> list[Criteria]:
    """One Criteria per project with a retention period (its own, else the default)."""
    now = timezone.now()
    chosen = list(projects) or list(Project.objects.all())
    plans = []
    for project in chosen:
        days = project.retention_days or settings.RETENTION_DAYS
        if days:
            plans.append(
                Criteria(before=now - timedelta(days=days), projects=(project,))
            )
    return plans


def root_runs(criteria: Criteria) -> QuerySet[Run]:
    roots = Run.objects.filter(parent__isnull=True, start_time__lt=criteria.before)
    if criteria.projects:
        roots = roots.filter(project__in=criteria.projects)
    if criteria.status == "stale":
        roots = roots.filter(Run.stale_q())
    elif criteria.status:
        roots = roots.filter(status=criteria.status)
    return roots


@dataclass
class Plan:
    traces: int
    runs: int


def plan(criteria: Criteria) -> Plan:
    """What a purge with these criteria would delete now."""
    roots = root_runs(criteria)
    trace_ids = roots.values("trace_id")
    return Plan(
        traces=roots.count(), runs=Run.objects.filter(trace_id__in=trace_ids).count()
    )


@dataclass
class Outcome:
    traces: int = 0
    runs: int = 0
    feedback: int = 0
    attachments: int = 0
    row_bytes: int = 0  # PostgreSQL only: pg_column_size of the deleted runs
    batches: int = 0
    files: list[str] = field(default_factory=list, repr=False)

    def add(self, other: Outcome) -> None:
        self.traces += other.traces
        self.runs += other.runs
        self.feedback += other.feedback
        self.attachments += other.attachments
        self.row_bytes += other.row_bytes
        self.batches += other.batches


def delete_traces(trace_ids: list[uuid.UUID]) -> Outcome:
    """Delete these traces whole, in one transaction; files go after commit."""
    outcome = Outcome(traces=len(trace_ids), batches=1)
    with transaction.atomic():
        runs = Run.objects.filter(trace_id__in=trace_ids)
        run_ids = runs.values("id")
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT coalesce(sum(pg_column_size(r.*)), 0) "  # noqa: S608
                    f"FROM {Run._meta.db_table} r WHERE r.trace_id = ANY(%s)",
                    [trace_ids],
                )
                outcome.row_bytes = int(cursor.fetchone()[0])
        outcome.feedback = Feedback.objects.filter(
            Q(trace_id__in=trace_ids) | Q(run_id__in=run_ids)
        ).delete()[0]
        attachments = Attachment.objects.filter(
            Q(trace_id__in=trace_ids) | Q(run_id__in=run_ids)
        )
        outcome.files = [name for name in attachments.values_list("file", flat=True)]
        outcome.attachments = attachments.delete()[0]
        outcome.runs = runs.delete()[0]
        files = list(outcome.files)
        transaction.on_commit(lambda: _delete_files(files))
    return outcome


def _delete_files(names: list[str]) -> None:
    for name in names:
        if name:
            default_storage.delete(name)


Progress = Callable[[Outcome, int], None]


def purge(
    criteria: Criteria,
    *,
    batch_size: int = 200,
    pause: float = 0.0,
    progress: Progress | None = None,
    total: int = 0,
) -> Outcome:
    """Delete every trace matching, ``batch_size`` traces per transaction.

    Each pass takes the first matching roots again rather than walking a
    cursor over rows being deleted. ``pause`` seconds between batches leave
    the write lock to other writers.
    """
    done = Outcome()
    roots = root_runs(criteria).values_list("trace_id", flat=True)
    while batch := list(dict.fromkeys(roots[:batch_size])):
        step = delete_traces(batch)
        done.add(step)
        if progress is not None:
            progress(done, total)
        if step.runs == 0:  # nothing matched after all: never spin
            break
        if pause:
            time.sleep(pause)
    return done


@dataclass(frozen=True)
class Usage:
    """Database space as the database itself reports it."""

    total_bytes: int
    free_bytes: int  # SQLite: pages on the free list; PostgreSQL: not known

    @property
    def used_bytes(self) -> int:
        return self.total_bytes - self.free_bytes


def usage() -> Usage:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA page_size")
            page = cursor.fetchone()[0]
            cursor.execute("PRAGMA page_count")
            pages = cursor.fetchone()[0]
            cursor.execute("PRAGMA freelist_count")
            free = cursor.fetchone()[0]
            return Usage(total_bytes=pages * page, free_bytes=free * page)
        cursor.execute("SELECT pg_database_size(current_database())")
        return Usage(total_bytes=int(cursor.fetchone()[0]), free_bytes=0)
