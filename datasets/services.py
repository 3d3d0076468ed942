"""Writes to datasets and examples: each call is one short transaction.

Every change of examples happens at one ``now``: the rows it closes end at
that time and the rows it opens start at it, so a bulk call is one dataset
version.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from datasets.models import Dataset, Example, ExampleAttachment, encode_splits
from runs.ingest.normalize import InvalidField, parse_time, parse_uuid, strip_nul
from runs.models import Run

MAX_EXAMPLES_PER_REQUEST = 10_000


class Conflict(Exception):
    """The write would duplicate a name or an id."""


class Missing(Exception):
    """Ids that name no current example."""

    def __init__(self, ids: list[str]) -> None:
        super().__init__(f"No such example(s): {', '.join(ids[:20])}")
        self.ids = ids


@dataclass
class AttachmentPart:
    name: str
    content_type: str
    data: bytes


@dataclass
class ExampleInput:
    """One example to create or update; ``given`` lists the keys sent."""

    id: uuid.UUID
    dataset_id: uuid.UUID | None = None
    inputs: dict[str, Any] | None = None
    outputs: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    split: list[str] | None = None
    source_run_id: uuid.UUID | None = None
    use_source_run_io: bool = False
    created_at: datetime | None = None
    attachments: list[AttachmentPart] = field(default_factory=list)
    # {"rename": {old: new}, "retain": [name, ...]} on updates.
    attachments_operations: dict[str, Any] | None = None
    given: frozenset[str] = frozenset()


def _object(raw: Any, name: str, *, nullable: bool) -> dict[str, Any] | None:
    if raw is None and nullable:
        return None
    if not isinstance(raw, dict):
        raise InvalidField(name, "expected a JSON object")
    return strip_nul(raw)


def _split(raw: Any) -> list[str] | None:
    if raw is None:
        return None
    if isinstance(raw, str):
        return [raw]
    if isinstance(raw, list) and all(isinstance(s, str) for s in raw):
        return list(raw)
    raise InvalidField("split", "expected a string or a list of strings")


def parse_example(raw: Any, *, creating: bool) -> ExampleInput:
    """Validate one LangSmith example object (create or update form)."""
    if not isinstance(raw, dict):
        raise InvalidField("example", "expected a JSON object")
    given = frozenset(k for k, v in raw.items() if v is not None)
    example = ExampleInput(
        id=parse_uuid(raw["id"], "id") if raw.get("id") else uuid.uuid4(),
        given=given,
    )
    if creating and raw.get("id") is None:
        example.given = given | {"id"}
    if raw.get("dataset_id") is not None:
        example.dataset_id = parse_uuid(raw["dataset_id"], "dataset_id")
    use_io = bool(raw.get("use_source_run_io"))
    if creating and raw.get("inputs") is None and not use_io:
        raise InvalidField("inputs", "is required (a JSON object)")
    if raw.get("inputs") is not None:
        example.inputs = _object(raw["inputs"], "inputs", nullable=False)
    outputs = raw.get("outputs", raw.get("reference_outputs"))
    example.outputs = _object(outputs, "outputs", nullable=True)
    if "reference_outputs" in raw and raw["reference_outputs"] is not None:
        example.given = example.given | {"outputs"}
    example.metadata = _object(raw.get("metadata"), "metadata", nullable=True)
    example.split = _split(raw.get("split"))
    if raw.get("source_run_id") is not None:
        example.source_run_id = parse_uuid(raw["source_run_id"], "source_run_id")
    example.use_source_run_io = use_io
    if raw.get("created_at") is not None:
        example.created_at = parse_time(raw["created_at"], "created_at")
    ops = raw.get("attachments_operations")
    if ops is not None and not isinstance(ops, dict):
        raise InvalidField("attachments_operations", "expected a JSON object")
    example.attachments_operations = ops
    return example


def _metadata(metadata: dict[str, Any] | None, split: list[str] | None) -> dict:
    out = dict(metadata or {})
    if split is not None:
        out["dataset_split"] = split
    elif not isinstance(out.get("dataset_split"), list):
        out["dataset_split"] = ["base"]
    return out


@transaction.atomic
def create_dataset(**fields: Any) -> Dataset:
    """Create a dataset; ``Conflict`` when its name (or id) is taken."""
    if Dataset.objects.filter(name=fields["name"]).exists():
        raise Conflict(f"Dataset {fields['name']!r} already exists.")
    dataset = Dataset(**fields)
    try:
        with transaction.atomic():
            dataset.save(force_insert=True)
    except IntegrityError:
        raise Conflict("A dataset with this name or id already exists.") from None
    return dataset


def _source_io(examples: list[ExampleInput]) -> None:
    ids = [e.source_run_id for e in examples if e.use_source_run_io and e.source_run_id]
    if not ids:
        return
    runs = {r.id: r for r in Run.objects.filter(id__in=ids).only("inputs", "outputs")}
    for example in examples:
        run = runs.get(example.source_run_id) if example.use_source_run_io else None
        if example.use_source_run_io and run is None:
            raise InvalidField("source_run_id", f"no run {example.source_run_id}")
        if run is not None:
            example.inputs = run.inputs if isinstance(run.inputs, dict) else {}
            example.outputs = run.outputs if isinstance(run.outputs, dict) else None
    for example in examples:
        if example.inputs is None:
            raise InvalidField("inputs", "is required (a JSON object)")


def _save_files(example_id: uuid.UUID, parts: list[AttachmentPart]) -> list[Any]:
    """Write attachment bytes before the transaction opens."""
    saved = []
    for part in parts:
        row = ExampleAttachment(
            example_id=example_id,
            name=part.name[:255],
            content_type=part.content_type[:255] or "application/octet-stream",
            size=len(part.data),
        )
        row.file.save(part.name, ContentFile(part.data), save=False)
        saved.append(row)
    return saved


def create_examples(dataset: Dataset, examples: list[ExampleInput]) -> list[Example]:
    """Add examples to a dataset as one version; ``Conflict`` on a taken id."""
    _source_io(examples)
    files = {e.id: _save_files(e.id, e.attachments) for e in examples}
    now = timezone.now()
    rows = [
        Example(
            id=e.id,
            dataset=dataset,
            inputs=e.inputs or {},
            outputs=e.outputs,
            metadata=_metadata(e.metadata, e.split),
            splits_text=encode_splits(_metadata(e.metadata, e.split)),
            source_run_id=e.source_run_id,
            # Distinct creation times keep a bulk's order in listings.
            created_at=e.created_at or now - timedelta(microseconds=len(examples) - i),
            valid_from=now,
        )
        for i, e in enumerate(examples)
    ]
    with transaction.atomic():
        taken = list(
            Example.objects.filter(
                id__in=[r.id for r in rows], valid_to__isnull=True
            ).values_list("id", flat=True)[:20]
        )
        if taken:
            raise Conflict(f"Example(s) already exist: {', '.join(map(str, taken))}")
        try:
            with transaction.atomic():
                Example.objects.bulk_create(rows)
        except IntegrityError:
            # The same id sent twice at once: one request wins.
            raise Conflict("An example with one of these ids already exists.") from None
        _attach(rows, files)
        Dataset.objects.filter(pk=dataset.pk).update(modified_at=now)
    return rows


def _attach(rows: list[Example], files: dict[uuid.UUID, list[Any]]) -> None:
    # bulk_create sets primary keys on both databases Agent Spy supports.
    saved = Example.objects.filter(
        id__in=[r.id for r in rows], valid_to__isnull=True
    ).values_list("id", "revision")
    revision_of = dict(saved)
    attachments = []
    for example_id, parts in files.items():
        for part in parts:
            part.revision_id = revision_of[example_id]
            attachments.append(part)
    ExampleAttachment.objects.bulk_create(attachments)


def update_examples(
    updates: list[ExampleInput], *, dataset: Dataset | None = None
) -> list[Example]:
    """Apply updates (a key not sent stays as it was) as one new version."""
    _source_io([u for u in updates if u.use_source_run_io])
    moved_to = {u.dataset_id for u in updates if u.dataset_id}
    if len(moved_to) > Dataset.objects.filter(pk__in=moved_to).count():
        raise InvalidField("dataset_id", "no such dataset")
    files = {u.id: _save_files(u.id, u.attachments) for u in updates}
    now = timezone.now()
    with transaction.atomic():
        current = Example.objects.select_for_update().filter(
            id__in=[u.id for u in updates], valid_to__isnull=True
        )
        if dataset is not None:
            current = current.filter(dataset=dataset)
        by_id = {row.id: row for row in current}
        missing = [str(u.id) for u in updates if u.id not in by_id]
        if missing:
            raise Missing(missing)
        old_files = {row.id: list(row.attachments.all()) for row in by_id.values()}
        Example.objects.filter(
            revision__in=[r.revision for r in by_id.values()]
        ).update(valid_to=now)
        rows = [_revised(by_id[u.id], u, now) for u in updates]
        if len({r.id for r in rows}) != len(rows):
            raise InvalidField("id", "an example is updated twice in one request")
        Example.objects.bulk_create(rows)
        for update in updates:
            files[update.id] = _kept_files(
                old_files[update.id], update.attachments_operations, files[update.id]
            )
        _attach(rows, files)
        touched = {row.dataset_id for row in rows} | {
            row.dataset_id for row in by_id.values()
        }
        Dataset.objects.filter(pk__in=touched).update(modified_at=now)
    return rows


def _revised(old: Example, update: ExampleInput, now: datetime) -> Example:
    given = update.given
    metadata = update.metadata if "metadata" in given else old.metadata
    split = update.split if "split" in given else None
    if "metadata" in given and split is None:
        split = old.splits
    metadata = _metadata(metadata, split)
    return Example(
        id=old.id,
        dataset_id=update.dataset_id or old.dataset_id,
        inputs=update.inputs if "inputs" in given else old.inputs,
        outputs=update.outputs if "outputs" in given else old.outputs,
        metadata=metadata,
        splits_text=encode_splits(metadata),
        source_run_id=old.source_run_id,
        created_at=old.created_at,
        valid_from=now,
    )


def _kept_files(
    old: list[ExampleAttachment], ops: dict[str, Any] | None, new: list[Any]
) -> list[Any]:
    """The old revision's files the update keeps (renamed), then the new ones."""
    renames = (ops or {}).get("rename") or {}
    retain = set((ops or {}).get("retain") or [])
    new_names = {n.name for n in new}
    kept = []
    for row in old:
        if ops is not None and row.name not in renames and row.name not in retain:
            continue
        name = renames.get(row.name, row.name)
        if name in new_names:
            continue
        kept.append(
            ExampleAttachment(
                example_id=row.example_id,
                name=name,
                content_type=row.content_type,
                size=row.size,
                file=row.file.name,
            )
        )
    return kept + new


@transaction.atomic
def delete_examples(ids: list[uuid.UUID], *, dataset: Dataset | None = None) -> int:
    """Close the current revision of each example (past versions keep it)."""
    now = timezone.now()
    current = Example.objects.filter(id__in=ids, valid_to__isnull=True)
    if dataset is not None:
        current = current.filter(dataset=dataset)
    datasets = set(current.values_list("dataset_id", flat=True))
    closed = current.update(valid_to=now)
    Dataset.objects.filter(pk__in=datasets).update(modified_at=now)
    return closed


def delete_dataset(dataset: Dataset) -> None:
    """Delete a dataset, its examples and their files."""
    names = set(
        ExampleAttachment.objects.filter(revision__dataset=dataset).values_list(
            "file", flat=True
        )
    )
    with transaction.atomic():
        dataset.delete()
        transaction.on_commit(lambda: _delete_files(names))


def _delete_files(names: set[str]) -> None:
    from django.core.files.storage import default_storage

    for name in names:
        if name:
            default_storage.delete(name)


def set_splits(
    dataset: Dataset, ids: list[uuid.UUID], split: str, *, remove: bool
) -> int:
    """Add examples to (or remove them from) a split, as one new version."""
    current = Example.objects.filter(dataset=dataset, id__in=ids, valid_to__isnull=True)
    updates = []
    for row in current:
        splits = [s for s in row.splits if s != split]
        if not remove:
            splits.append(split)
        if splits == row.splits:
            continue
        metadata = dict(row.metadata or {})
        updates.append(
            ExampleInput(
                id=row.id, metadata=metadata, split=splits, given=frozenset({"split"})
            )
        )
    if updates:
        update_examples(updates, dataset=dataset)
    return len(updates)
