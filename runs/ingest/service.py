"""The one write path for runs: merge creates and patches with what is stored.

Every wire format (LangSmith JSON batch, multipart, single create/patch, OTLP)
ends here as a ``Batch``. Merge rules (see docs: LangSmith protocol §5):

* a create fills fields that are absent or empty; a patch overwrites with each
  value it carries (nulls were dropped by the decoder: null means "not given");
* creates and patches commute, so a patch that arrives before its create, in
  the same request or another, gives the same row as the two in order;
* status, tokens, model, first-token time, trace id and dotted order are
  derived from the merged row every time.

The merge is a read-modify-write, so writers of the same run are serialised:
SQLite takes its write lock at BEGIN (IMMEDIATE), PostgreSQL takes an advisory
lock per run id. One short transaction per request; 2xx means committed.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.utils import timezone

from runs.ingest import extract, store
from runs.ingest.batch import Batch, Rejection
from runs.ingest.normalize import (
    InvalidField,
    RunOp,
    parse_time,
    parse_uuid,
    segment,
    start_time_from_dotted_order,
    strip_nul,
    trace_id_from_dotted_order,
)
from runs.models import Attachment, Feedback, Project

logger = logging.getLogger(__name__)

DEFAULT_PROJECT = "default"
# Values a create may fill in but never overwrite.
_EMPTY = (None, "", {}, [])
# Fields a create always knows and a patch-only row can only guess.
_TREE_KEYS = frozenset({"trace_id", "parent_run_id", "dotted_order", "start_time"})


@dataclass
class IngestResult:
    accepted: list[uuid.UUID] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    feedback: int = 0
    attachments: int = 0
    projects: set[str] = field(default_factory=set)

    def as_dict(self) -> dict[str, Any]:
        return {
            "accepted": len(self.accepted),
            "rejected": [r.as_dict() for r in self.rejected],
            "feedback": self.feedback,
            "attachments": self.attachments,
        }


ProjectGuard = Callable[[str | None, uuid.UUID | None], str | None]


def ingest(batch: Batch, *, project_guard: ProjectGuard | None = None) -> IngestResult:
    """Store a request's runs, feedback and attachments in one transaction.

    ``project_guard(name, id)`` may return an error message to reject a run
    aimed at a project the caller may not write to.
    """
    result = IngestResult(rejected=list(batch.rejected))
    creates, patches = _fold(batch.ops)
    files = _save_files(batch)
    try:
        with transaction.atomic():
            # Attachments replace by (run, name), so their runs are locked too.
            store.lock_runs(
                creates.keys()
                | patches.keys()
                | {attachment.run_id for attachment in files}
            )
            stored = store.load_runs(creates.keys() | patches.keys())
            projects = _ProjectResolver(batch.default_project)
            rows = []
            for run_id in _ordered_ids(batch.ops):
                try:
                    row = _merge(
                        stored.get(run_id),
                        creates.get(run_id, {}),
                        patches.get(run_id, {}),
                    )
                    row["id"] = run_id
                    projects.assign(row, project_guard)
                except InvalidField as exc:
                    result.rejected.append(
                        Rejection("run", exc.field, exc.message, run_id=str(run_id))
                    )
                    continue
                rows.append(row)
            _derive_tree(rows, stored)
            projects.resolve()
            now = timezone.now()
            for row in rows:
                row["project_id"] = projects.id_for(row)
                row["updated_at"] = now
                row.setdefault("created_at", now)
            store.upsert_runs(rows)
            result.accepted = [row["id"] for row in rows]
            result.projects = projects.names()
            result.feedback = _store_feedback(batch.feedback, result)
            result.attachments = _store_attachments(files)
    except BaseException:
        for attachment in files:
            attachment.file.delete(save=False)
        raise
    return result


def _ordered_ids(ops: Iterable[RunOp]) -> list[uuid.UUID]:
    return list(dict.fromkeys(op.id for op in ops))


def _fold(
    ops: list[RunOp],
) -> tuple[dict[uuid.UUID, dict[str, Any]], dict[uuid.UUID, dict[str, Any]]]:
    """Fold the request's ops into one create and one patch per run."""
    creates: dict[uuid.UUID, dict[str, Any]] = {}
    patches: dict[uuid.UUID, dict[str, Any]] = {}
    for op in ops:
        if op.kind == "post":
            create = creates.setdefault(op.id, {})
            for key, value in op.values.items():
                if create.get(key) in _EMPTY:
                    create[key] = value
        else:
            patches.setdefault(op.id, {}).update(op.values)
    return creates, patches


def _merge(
    stored: dict[str, Any] | None, create: dict[str, Any], patch: dict[str, Any]
) -> dict[str, Any]:
    row: dict[str, Any] = dict(stored) if stored else {}
    # A row stored from a patch alone has an empty dotted order: its tree
    # fields and start time were placeholders, and the create's replace them.
    tree_known = bool(stored and stored.get("dotted_order"))
    for key, value in create.items():
        if row.get(key) in _EMPTY or (key in _TREE_KEYS and not tree_known):
            row[key] = value
    row.update(patch)
    created = bool(create) or tree_known
    row["_created"] = created
    if not row.get("run_type") and created:
        row["run_type"] = "chain"
    if row.get("start_time") is None:
        row["start_time"] = (
            start_time_from_dotted_order(row.get("dotted_order") or "")
            or row.get("end_time")
            or timezone.now()
        )
    end_time = row.get("end_time")
    if row.get("error"):
        row["status"] = "error"
    elif end_time is not None:
        row["status"] = "success"
    else:
        row["status"] = "running"
    counts = extract.tokens(row.get("outputs"), row.get("extra"))
    if counts:
        row["prompt_tokens"], row["completion_tokens"], row["total_tokens"] = counts
    name, provider = extract.model(row.get("extra"))
    if name or not row.get("model_name"):
        row["model_name"] = name or row.get("model_name") or ""
    if provider or not row.get("model_provider"):
        row["model_provider"] = provider or row.get("model_provider") or ""
    first = extract.first_token_time(row.get("events"))
    if first is not None:
        row["first_token_time"] = first
    return row


def _derive_tree(rows: list[dict[str, Any]], stored: dict[uuid.UUID, dict]) -> None:
    """Fill trace_id, parent and dotted_order where a client left them out."""
    by_id = {row["id"]: row for row in rows}
    missing_parents = {
        row["parent_run_id"]
        for row in rows
        if row.get("parent_run_id")
        and row["parent_run_id"] not in by_id
        and not (row.get("trace_id") and row.get("dotted_order"))
    }
    parents = store.load_tree_fields(missing_parents) if missing_parents else {}

    def resolve(row: dict[str, Any], depth: int = 0) -> None:
        dotted = row.get("dotted_order") or ""
        if not row.get("parent_run_id") and dotted.count(".") >= 1:
            parent_seg = dotted.split(".")[-2]
            row["parent_run_id"] = parse_uuid(parent_seg[-36:], "dotted_order")
        parent_id = row.get("parent_run_id")
        parent = by_id.get(parent_id) or parents.get(parent_id) if parent_id else None
        if parent is not None and parent is not row and depth < 64:
            if parent_id in by_id and not parent.get("_tree_done"):
                resolve(parent, depth + 1)
        if not row.get("trace_id"):
            row["trace_id"] = (
                trace_id_from_dotted_order(dotted)
                if dotted
                else (parent or {}).get("trace_id")
                if parent_id
                else row["id"]
            ) or row["id"]
        if not dotted and row.get("_created"):
            # A patch alone does not place a run; its create will.
            own = segment(row["start_time"], row["id"])
            parent_dotted = (parent or {}).get("dotted_order")
            row["dotted_order"] = f"{parent_dotted}.{own}" if parent_dotted else own
        row["_tree_done"] = True

    for row in rows:
        if not row.get("_tree_done"):
            resolve(row)


class _ProjectResolver:
    """Maps each run to a project id, creating projects on first sight."""

    def __init__(self, default_project: str | None) -> None:
        self.default = default_project or DEFAULT_PROJECT
        self.by_name: dict[str, uuid.UUID | None] = {}
        self.by_id: dict[uuid.UUID, str | None] = {}

    def assign(self, row: dict[str, Any], guard: ProjectGuard | None) -> None:
        session_id = row.pop("session_id", None)
        name = row.pop("session_name", None)
        if session_id is not None:
            row["_project"] = ("id", session_id, name)
            self.by_id.setdefault(session_id, name)
        elif name:
            row["_project"] = ("name", name)
            self.by_name.setdefault(name, None)
        elif row.get("project_id") is None:
            row["_project"] = ("name", self.default)
            self.by_name.setdefault(self.default, None)
        if guard is not None:
            target = row.get("_project")
            if target is None:
                message = guard(None, row.get("project_id"))
            elif target[0] == "id":
                message = guard(target[2], target[1])
            else:
                message = guard(target[1], None)
            if message:
                raise InvalidField("session_name", message)

    def resolve(self) -> None:
        if self.by_id:
            known = set(
                Project.objects.filter(id__in=self.by_id).values_list("id", flat=True)
            )
            for pid, name in self.by_id.items():
                if pid not in known:
                    taken = name and Project.objects.filter(name=name).exists()
                    Project.objects.get_or_create(
                        id=pid,
                        defaults={"name": str(pid) if not name or taken else name},
                    )
        if self.by_name:
            found = dict(
                Project.objects.filter(name__in=self.by_name).values_list("name", "id")
            )
            missing = [name for name in self.by_name if name not in found]
            if missing:
                Project.objects.bulk_create(
                    [Project(name=name) for name in missing], ignore_conflicts=True
                )
                found.update(
                    Project.objects.filter(name__in=missing).values_list("name", "id")
                )
            self.by_name.update(found)

    def id_for(self, row: dict[str, Any]) -> uuid.UUID | None:
        target = row.pop("_project", None)
        if target is None:
            return row.get("project_id")
        if target[0] == "id":
            return target[1]
        return self.by_name[target[1]]

    def names(self) -> set[str]:
        return set(self.by_name)


def _store_feedback(items: list[tuple[str, Any]], result: IngestResult) -> int:
    rows = []
    for item, raw in items:
        try:
            rows.append(feedback_from_payload(raw))
        except InvalidField as exc:
            run_id = raw.get("run_id") if isinstance(raw, dict) else None
            result.rejected.append(
                Rejection(
                    item,
                    exc.field,
                    exc.message,
                    run_id=str(run_id) if run_id is not None else None,
                )
            )
    if rows:
        Feedback.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["id"],
            update_fields=[
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
                "modified_at",
            ],
        )
    return len(rows)


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

    source = raw.get("feedback_source") or raw.get("source")
    return Feedback(
        id=opt_uuid("id") or uuid.uuid4(),
        run_id=opt_uuid("run_id"),
        trace_id=opt_uuid("trace_id"),
        session_id=opt_uuid("session_id"),
        key=key[:255],
        score=score,
        value=raw.get("value"),
        comment=_optional_text(raw.get("comment"), "comment"),
        correction=raw.get("correction"),
        source=source if isinstance(source, dict) else None,
        extra=raw.get("extra") if isinstance(raw.get("extra"), dict) else None,
        created_at=opt_time("created_at"),
        modified_at=opt_time("modified_at"),
    )


def _optional_text(value: Any, name: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise InvalidField(name, "expected a string")


def _save_files(batch: Batch) -> list[Attachment]:
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


def _store_attachments(files: list[Attachment]) -> int:
    for attachment in files:
        old = Attachment.objects.filter(
            run_id=attachment.run_id, name=attachment.name
        ).first()
        if old is not None:
            transaction.on_commit(lambda f=old.file: f.delete(save=False))
            old.delete()
        attachment.save()
    return len(files)


def vendor() -> str:
    return connection.vendor
