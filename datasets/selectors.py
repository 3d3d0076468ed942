"""Reads of datasets and examples, shared by the API, the pages and commands."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.core import signing
from django.db.models import Count, Max, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from datasets.models import Dataset, Example, ExampleAttachment
from datasets.versions import valid_at
from runs.models import TENANT_ID, Project

ATTACHMENT_SALT = "agentspy.example-attachment"


def with_counts(datasets: QuerySet) -> QuerySet:
    """Datasets annotated with current examples and experiments, by subqueries."""
    examples = (
        Example.objects.filter(dataset=OuterRef("pk"), valid_to__isnull=True)
        .order_by()
        .values("dataset")
        .annotate(n=Count("revision"))
        .values("n")
    )
    sessions = (
        Project.objects.filter(reference_dataset_id=OuterRef("pk"))
        .order_by()
        .values("reference_dataset_id")
        .annotate(n=Count("id"), last=Max("created_at"))
    )
    return datasets.annotate(
        example_count=Coalesce(Subquery(examples), 0),
        session_count=Coalesce(Subquery(sessions.values("n")), 0),
        last_session_start_time=Subquery(sessions.values("last")),
    )


def dataset_to_dict(dataset: Dataset) -> dict[str, Any]:
    last = getattr(dataset, "last_session_start_time", None)
    return {
        "id": str(dataset.id),
        "name": dataset.name,
        "description": dataset.description or None,
        "data_type": dataset.data_type,
        "created_at": dataset.created_at.isoformat(),
        "modified_at": dataset.modified_at.isoformat(),
        "example_count": getattr(dataset, "example_count", None),
        "session_count": getattr(dataset, "session_count", None),
        "last_session_start_time": last.isoformat() if last else None,
        "inputs_schema_definition": dataset.inputs_schema,
        "outputs_schema_definition": dataset.outputs_schema,
        "transformations": dataset.transformations,
        "metadata": dataset.metadata or None,
        "tenant_id": str(TENANT_ID),
    }


def metadata_filter(
    queryset: QuerySet, metadata: dict[str, Any], field: str
) -> QuerySet:
    """Rows whose metadata holds every given key with the given value."""
    for key, value in metadata.items():
        queryset = queryset.filter(**{f"{field}__{key}": value})
    return queryset


def examples_at(
    *,
    dataset_id: uuid.UUID | None,
    when: datetime | None,
    ids: list[uuid.UUID] | None = None,
    splits: list[str] | None = None,
    metadata: dict[str, Any] | None = None,
    search: str = "",
) -> QuerySet:
    """The example revisions current at ``when``, oldest first."""
    rows = Example.objects.all()
    if dataset_id is not None:
        rows = rows.filter(dataset_id=dataset_id)
    rows = valid_at(rows, when)
    if ids:
        rows = rows.filter(id__in=ids)
    if splits:
        wanted = Q()
        for split in splits:
            wanted |= Q(splits_text__contains=f"|{split}|")
        rows = rows.filter(wanted)
    if metadata:
        rows = metadata_filter(rows, metadata, "metadata")
    if search:
        rows = rows.filter(Q(inputs__icontains=search) | Q(outputs__icontains=search))
    return rows.order_by("created_at", "id")


def attachment_token(attachment: ExampleAttachment) -> str:
    return signing.dumps(attachment.pk, salt=ATTACHMENT_SALT)


def attachment_from_token(token: str) -> ExampleAttachment | None:
    try:
        pk = signing.loads(token, salt=ATTACHMENT_SALT)
    except signing.BadSignature:
        return None
    return ExampleAttachment.objects.filter(pk=pk).first()


def example_to_dict(
    example: Example, attachments: dict[str, str] | None = None
) -> dict[str, Any]:
    """A LangSmith Example; ``attachments`` maps names to download URLs."""
    out = {
        "id": str(example.id),
        "dataset_id": str(example.dataset_id),
        "inputs": example.inputs,
        "outputs": example.outputs,
        "metadata": example.metadata,
        "created_at": example.created_at.isoformat(),
        "modified_at": example.valid_from.isoformat(),
        "source_run_id": str(example.source_run_id) if example.source_run_id else None,
        "name": f"#{str(example.id)[:4]}",
    }
    if attachments is not None:
        out["attachment_urls"] = attachments
    return out


def attachment_urls(
    examples: list[Example], build_url: Any
) -> dict[int, dict[str, dict[str, str]]]:
    """Per revision, LangSmith's ``attachment_urls`` (signed, no key needed)."""
    out: dict[int, dict[str, dict[str, str]]] = {e.revision: {} for e in examples}
    rows = ExampleAttachment.objects.filter(revision__in=list(out)).order_by("name")
    for row in rows:
        out[row.revision_id][f"attachment.{row.name}"] = {
            "presigned_url": build_url(attachment_token(row)),
            "mime_type": row.content_type,
        }
    return out
