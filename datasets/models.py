"""Datasets of examples, kept as revisions so any past version can be read.

An example is a chain of ``Example`` rows sharing one ``id``: each change
closes the current row (``valid_to``) and opens a new one, and a delete only
closes it. The examples of a dataset "as of" a time are the rows valid then,
which is what ``list_examples(as_of=...)`` and an experiment's
``dataset_version`` read. Experiments themselves are ``runs.Project`` rows with
``reference_dataset_id``; their scores are ``runs.Feedback``.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone

from runs.models import UnicodeJSONEncoder


class Dataset(models.Model):
    class DataType(models.TextChoices):
        KV = "kv"
        LLM = "llm"
        CHAT = "chat"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    name = models.CharField(max_length=255, unique=True)
    description = models.TextField(blank=True, default="")
    data_type = models.CharField(
        max_length=16, choices=DataType.choices, default=DataType.KV
    )
    metadata = models.JSONField(default=dict, blank=True)
    inputs_schema = models.JSONField(null=True, blank=True)
    outputs_schema = models.JSONField(null=True, blank=True)
    transformations = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    modified_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Example(models.Model):
    """One revision of an example; the current one has no ``valid_to``."""

    revision = models.BigAutoField(primary_key=True)
    id = models.UUIDField(default=uuid.uuid4)
    dataset = models.ForeignKey(
        Dataset, on_delete=models.CASCADE, related_name="examples"
    )
    inputs = models.JSONField(encoder=UnicodeJSONEncoder, default=dict, blank=True)
    outputs = models.JSONField(encoder=UnicodeJSONEncoder, null=True, blank=True)
    # Holds the splits too, as LangSmith does: metadata["dataset_split"].
    metadata = models.JSONField(encoder=UnicodeJSONEncoder, default=dict, blank=True)
    # The splits again as "|base|test|": a substring filter works on both
    # databases, where JSON array containment does not exist on SQLite.
    splits_text = models.CharField(max_length=1024, default="|base|", blank=True)
    source_run_id = models.UUIDField(null=True, blank=True)
    # When the example was first created (kept across revisions).
    created_at = models.DateTimeField(default=timezone.now)
    # This revision's time: the example's modified_at while it is current.
    valid_from = models.DateTimeField(default=timezone.now)
    valid_to = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["dataset", "created_at", "id"],
                name="example_current",
                condition=models.Q(valid_to__isnull=True),
            ),
            models.Index(fields=["id", "valid_from"], name="example_revisions"),
            models.Index(fields=["dataset", "valid_from"], name="example_versions"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["id"],
                condition=models.Q(valid_to__isnull=True),
                name="example_one_current",
            )
        ]

    def __str__(self) -> str:
        return f"{self.id} @ {self.valid_from:%Y-%m-%d %H:%M:%S}"

    @property
    def splits(self) -> list[str]:
        return splits_of(self.metadata)


def splits_of(metadata: dict | None) -> list[str]:
    split = (metadata or {}).get("dataset_split")
    if isinstance(split, list):
        return [s for s in split if isinstance(s, str)]
    return ["base"]


def encode_splits(metadata: dict | None) -> str:
    return "|" + "|".join(s.replace("|", "") for s in splits_of(metadata)) + "|"


def _attachment_path(instance: ExampleAttachment, filename: str) -> str:
    return f"example-attachments/{instance.example_id}/{uuid.uuid4().hex}"


class ExampleAttachment(models.Model):
    """A file of one example revision; a new revision re-points to the same file."""

    revision = models.ForeignKey(
        Example, on_delete=models.CASCADE, related_name="attachments"
    )
    example_id = models.UUIDField()
    name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=255, default="application/octet-stream")
    size = models.BigIntegerField(default=0)
    file = models.FileField(upload_to=_attachment_path, max_length=512)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["revision", "name"], name="example_attachment_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.content_type}, {self.size} bytes)"


class DatasetTag(models.Model):
    """A named version of a dataset (``update_dataset_tag``)."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="tags")
    tag = models.CharField(max_length=255)
    as_of = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["dataset", "tag"], name="dataset_tag_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.dataset_id}:{self.tag}"


class ComparativeExperiment(models.Model):
    """Two or more experiments of one dataset judged side by side."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    name = models.CharField(max_length=255, blank=True, default="")
    description = models.TextField(blank=True, default="")
    reference_dataset = models.ForeignKey(
        Dataset, on_delete=models.CASCADE, related_name="comparisons"
    )
    experiment_ids = models.JSONField(default=list)
    extra = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    modified_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name or str(self.id)
