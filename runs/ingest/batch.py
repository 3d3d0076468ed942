"""What one request asks the ingest service to store, collected by a decoder."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from runs.ingest.normalize import InvalidField, RunOp, clean_op

# What one request may carry: runs (creates and patches), feedback and
# attachments together. SDKs send at most a few hundred; more is refused (413)
# before any of it is stored.
MAX_ITEMS = 10_000
# JSON objects and arrays one body may hold (each costs ~60 bytes once parsed).
MAX_JSON_CONTAINERS = 1_000_000
# Rejections listed in a response; the rest are counted.
MAX_LISTED_REJECTIONS = 100


@dataclass
class Rejection:
    """An item of a request that was not stored, and why."""

    item: str
    field: str
    message: str
    run_id: str | None = None
    # Refused by the caller's project access (403) rather than invalid (422).
    forbidden: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "item": self.item,
            "run_id": self.run_id,
            "field": self.field,
            "error": self.message,
        }


@dataclass
class AttachmentPart:
    run_id: str
    name: str
    content_type: str
    data: bytes


@dataclass
class Batch:
    """Creates, patches, feedback and attachments of one request, in wire order."""

    ops: list[RunOp] = field(default_factory=list)
    # (item name for error messages, raw LangSmith feedback object)
    feedback: list[tuple[str, Any]] = field(default_factory=list)
    attachments: list[AttachmentPart] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    default_project: str | None = None

    def add_run(self, kind: str, raw: Any, *, item: str, run_id: Any = None) -> None:
        try:
            self.ops.append(clean_op(kind, raw, run_id=run_id))
        except InvalidField as exc:
            rid = raw.get("id", run_id) if isinstance(raw, dict) else run_id
            self.reject(item, exc.field, exc.message, run_id=rid)

    def add_feedback(self, raw: Any, *, item: str) -> None:
        self.feedback.append((item, raw))

    def reject(
        self,
        item: str,
        field_name: str,
        message: str,
        *,
        run_id: Any = None,
        forbidden: bool = False,
    ) -> None:
        self.rejected.append(
            Rejection(
                item=item,
                field=field_name,
                message=message,
                run_id=str(run_id) if run_id is not None else None,
                forbidden=forbidden,
            )
        )

    def __len__(self) -> int:
        return len(self.ops) + len(self.feedback) + len(self.attachments)
