"""The one write path for feedback rows: the LangSmith API and the dashboard.

Both build a ``Feedback`` from a LangSmith feedback object
(``runs.ingest.extras.feedback_from_payload``) and save it here, where the
run's trace and project are filled in. Feedback left on the dashboard has the
source ``{"type": "app", "user_id": ..., "user_name": ...}``; its author may
edit and delete it.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction
from django.utils import timezone

from runs.models import Feedback

ANONYMOUS = "anonymous"


def save_feedback(feedback: Feedback, run: dict[str, Any] | None) -> Feedback:
    """Insert a new feedback row; ``run`` has the run's trace and project ids.

    Raises ``IntegrityError`` when a row with the same id exists.
    """
    if run is not None:
        feedback.trace_id = feedback.trace_id or run["trace_id"]
        feedback.session_id = feedback.session_id or run["project_id"]
    with transaction.atomic():
        feedback.save(force_insert=True)
    return feedback


def app_source(user_id: str | None, user_name: str) -> dict[str, Any]:
    """The ``feedback_source`` of feedback given on the dashboard."""
    return {"type": "app", "metadata": {}, "user_id": user_id, "user_name": user_name}


def is_authored_by(feedback: Feedback, user_id: str | None, user_name: str) -> bool:
    source = feedback.source if isinstance(feedback.source, dict) else {}
    return (
        source.get("type") == "app"
        and source.get("user_name") == user_name
        and source.get("user_id") == user_id
    )


def update_feedback(
    feedback: Feedback, *, score: float | None, comment: str | None
) -> Feedback:
    feedback.score = score
    feedback.comment = comment
    feedback.modified_at = timezone.now()
    feedback.save(update_fields=["score", "comment", "modified_at"])
    return feedback


def feedback_of_runs(run_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Feedback]]:
    """Feedback rows naming these runs, newest first, per run."""
    out: dict[uuid.UUID, list[Feedback]] = {}
    for row in Feedback.objects.filter(run_id__in=run_ids).order_by("-created_at"):
        out.setdefault(row.run_id, []).append(row)
    return out
