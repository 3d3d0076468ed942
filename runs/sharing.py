"""Sharing a trace: a token that opens it, read-only, without login."""

from __future__ import annotations

import uuid

from django.db import IntegrityError, transaction

from runs.models import Run, SharedTrace


def share_trace(run: Run, token: uuid.UUID | None = None) -> SharedTrace:
    """Share the trace of ``run`` (a child shares its trace); idempotent."""
    existing = SharedTrace.objects.filter(trace_id=run.trace_id).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return SharedTrace.objects.create(
                token=token or uuid.uuid4(),
                trace_id=run.trace_id,
                project_id=run.project_id,
            )
    except IntegrityError:
        # Shared concurrently, or the token the client chose is taken.
        existing = SharedTrace.objects.filter(trace_id=run.trace_id).first()
        if existing is not None:
            return existing
        return SharedTrace.objects.create(
            trace_id=run.trace_id, project_id=run.project_id
        )


def unshare_trace(trace_id: uuid.UUID) -> None:
    SharedTrace.objects.filter(trace_id=trace_id).delete()


def shared(token: uuid.UUID | str) -> SharedTrace | None:
    try:
        token = uuid.UUID(str(token))
    except ValueError:
        return None
    return SharedTrace.objects.filter(token=token).first()


def shared_runs(share: SharedTrace):  # noqa: ANN201 - a Run queryset
    """The runs a share token opens: its trace's runs in the shared project.

    A trace may hold runs of other projects (a child traced elsewhere); a
    share opens only the project it was made in, so a key scoped to that
    project cannot read another project's runs through its own share link.
    """
    runs = Run.objects.filter(trace_id=share.trace_id)
    if share.project_id is not None:
        runs = runs.filter(project_id=share.project_id)
    return runs


def shared_root(share: SharedTrace) -> Run | None:
    runs = shared_runs(share)
    return (
        runs.filter(parent__isnull=True).first()
        or runs.order_by("start_time", "dotted_order").first()
    )
