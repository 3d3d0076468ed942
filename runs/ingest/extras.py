"""Feedback and attachments that ride along with runs in a multipart request."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction

from runs.access import EVERYTHING, Access
from runs.ingest.batch import Batch, Rejection
from runs.ingest.normalize import InvalidField, parse_time, parse_uuid, strip_nul
from runs.models import Attachment, Feedback

FEEDBACK_UPDATE_FIELDS = [
    "run_id",
    "trace_id",
    "session_id",
    "key",
    "score",
    "value",
    "comment",
    "correction",
    "source",
    "extra",
    "comparative_experiment_id",
    "feedback_group_id",
    "modified_at",
]


def store_feedback(
    items: list[tuple[str, Any]],
    rejected: list[Rejection],
    access: Access = EVERYTHING,
) -> int:
    """Upsert the request's feedback objects; a bad one is rejected by its part.

    A scoped caller's feedback is filed under its project; feedback on a run,
    or re-using the id of feedback, stored in another project is refused.
    """
    built: list[tuple[str, Feedback]] = []
    for item, raw in items:
        try:
            built.append((item, feedback_from_payload(raw)))
        except InvalidField as exc:
            run_id = raw.get("run_id") if isinstance(raw, dict) else None
            rejected.append(
                Rejection(
                    item,
                    exc.field,
                    exc.message,
                    run_id=str(run_id) if run_id is not None else None,
                )
            )
    rows = _allowed_feedback(built, rejected, access)
    if rows:
        Feedback.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["id"],
            update_fields=FEEDBACK_UPDATE_FIELDS,
        )
    return len(rows)


def _allowed_feedback(
    built: list[tuple[str, Feedback]], rejected: list[Rejection], access: Access
) -> list[Feedback]:
    if not access.scoped:
        return [feedback for _, feedback in built]
    foreign_runs = access.foreign_runs(f.run_id for _, f in built if f.run_id)
    foreign_ids = access.foreign_feedback(f.id for _, f in built)
    rows = []
    for item, feedback in built:
        if feedback.session_id is None:
            feedback.session_id = access.project_id
        if feedback.run_id in foreign_runs:
            field, what = "run_id", f"Run {feedback.run_id}"
        elif feedback.id in foreign_ids:
            field, what = "id", f"Feedback {feedback.id}"
        elif feedback.session_id != access.project_id:
            field, what = "session_id", f"Project {feedback.session_id}"
        else:
            field = ""
        if field:
            rejected.append(
                Rejection(
                    item,
                    field,
                    f"{what} belongs to another project than {access.project!r}.",
                    run_id=str(feedback.run_id) if feedback.run_id else None,
                    forbidden=True,
                )
            )
        else:
            rows.append(feedback)
    return rows


def withhold_foreign_attachments(
    files: list[Attachment], rejected: list[Rejection], access: Access
) -> list[Attachment]:
    """The attachments the caller may write; the others' files are deleted."""
    foreign = access.foreign_runs(attachment.run_id for attachment in files)
    if not foreign:
        return files
    kept = []
    for attachment in files:
        if attachment.run_id in foreign:
            rejected.append(
                Rejection(
                    f"attachment.{attachment.run_id}.{attachment.name}",
                    "run_id",
                    f"Run {attachment.run_id} belongs to another project than "
                    f"{access.project!r}.",
                    run_id=str(attachment.run_id),
                    forbidden=True,
                )
            )
            attachment.file.delete(save=False)
        else:
            kept.append(attachment)
    return kept


def feedback_from_payload(raw: Any) -> Feedback:
    """Build (not save) a Feedback from a LangSmith feedback object."""
    if not isinstance(raw, dict):
        raise InvalidField("feedback", "expected an object")
    raw = strip_nul(raw)
    key = raw.get("key")
    if not isinstance(key, str) or not key:
        raise InvalidField("key", "is required and must be a string")
    score = raw.get("score")
    if isinstance(score, bool):
        score = float(score)
    if score is not None and not isinstance(score, int | float):
        raise InvalidField("score", "expected a number")
    now = datetime.now(UTC)

    def opt_uuid(name: str) -> uuid.UUID | None:
        value = raw.get(name)
        return None if value is None else parse_uuid(value, name)

    def opt_time(name: str) -> datetime:
        value = raw.get(name)
        return now if value is None else parse_time(value, name)

    comment = raw.get("comment")
    if comment is not None and not isinstance(comment, str):
        raise InvalidField("comment", "expected a string")
    source = raw.get("feedback_source") or raw.get("source")
    return Feedback(
        id=opt_uuid("id") or uuid.uuid4(),
        run_id=opt_uuid("run_id"),
        trace_id=opt_uuid("trace_id"),
        session_id=opt_uuid("session_id"),
        key=key[:255],
        score=score,
        value=raw.get("value"),
        comment=comment,
        correction=raw.get("correction"),
        source=source if isinstance(source, dict) else None,
        extra=raw.get("extra") if isinstance(raw.get("extra"), dict) else None,
        comparative_experiment_id=opt_uuid("comparative_experiment_id"),
        feedback_group_id=opt_uuid("feedback_group_id"),
        created_at=opt_time("created_at"),
        modified_at=opt_time("modified_at"),
    )


def save_files(batch: Batch) -> list[Attachment]:
    """Write attachment bytes to storage before the transaction opens."""
    saved = []
    for part in batch.attachments:
        attachment = Attachment(
            run_id=uuid.UUID(part.run_id),
            name=part.name[:255],
            content_type=part.content_type[:255] or "application/octet-stream",
            size=len(part.data),
        )
        attachment.file.save(part.name, ContentFile(part.data), save=False)
        saved.append(attachment)
    return saved


def store_attachments(files: list[Attachment]) -> int:
    """Save the rows; a resent (run, name) replaces the old row and its file."""
    for attachment in files:
        old = Attachment.objects.filter(
            run_id=attachment.run_id, name=attachment.name
        ).first()
        if old is not None:
            transaction.on_commit(lambda f=old.file: f.delete(save=False))
            old.delete()
        attachment.save()
    return len(files)
