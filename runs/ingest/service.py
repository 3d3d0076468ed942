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

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from runs import pricing
from runs.access import EVERYTHING, Access
from runs.ingest import extract, placement, store, thread_locks
from runs.ingest.batch import MAX_LISTED_REJECTIONS, Batch, Rejection
from runs.ingest.extras import (
    feedback_from_payload,
    save_files,
    store_attachments,
    store_feedback,
    withhold_foreign_attachments,
)
from runs.ingest.normalize import (
    InvalidField,
    RunOp,
    parse_uuid,
    segment,
    start_time_from_dotted_order,
    trace_id_from_dotted_order,
)
from runs.ingest.projects import (
    DEFAULT_PROJECT,
    Forbidden,
    ProjectGuard,
    ProjectResolver,
)

__all__ = ["DEFAULT_PROJECT", "IngestResult", "feedback_from_payload", "ingest"]

# Values a create may fill in but never overwrite.
_EMPTY = (None, "", {}, [])
# Fields a create always knows and a patch-only row can only guess.
_COSTS = ("prompt_cost", "completion_cost", "total_cost")
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
            "rejected": [r.as_dict() for r in self.rejected[:MAX_LISTED_REJECTIONS]],
            "rejected_count": len(self.rejected),
            "feedback": self.feedback,
            "attachments": self.attachments,
        }


def ingest(
    batch: Batch,
    *,
    project_guard: ProjectGuard | Access | None = None,
    access: Access | None = None,
) -> IngestResult:
    """Store a request's runs, feedback and attachments in one transaction.

    ``access`` (``runs.access``) decides, item by item, against the stored
    rows: a run, feedback or attachment the caller may not write is rejected
    (``forbidden``) and the others are stored. A bare ``project_guard(name,
    id)`` only checks the project a run is sent to.
    """
    if access is None:
        access = project_guard if isinstance(project_guard, Access) else EVERYTHING
    guard = project_guard if project_guard is not None else access.project_denial
    result = IngestResult(rejected=list(batch.rejected))
    files = save_files(batch)
    try:
        plan = _Plan(batch, guard, access)
        with transaction.atomic():
            # Attachments replace by (run, name), so their runs are locked too.
            store.lock_runs({*plan.ids, *(attachment.run_id for attachment in files)})
            plan.write()
            result.accepted = plan.accepted()
            result.rejected.extend(plan.rejected.values())
            result.projects = plan.projects.names()
            result.feedback = store_feedback(batch.feedback, result.rejected, access)
            files = withhold_foreign_attachments(files, result.rejected, access)
            result.attachments = store_attachments(files)
    except BaseException:
        for attachment in files:
            attachment.file.delete(save=False)
        raise
    return result


class _Plan:
    """The rows of one request, merged before any lock is taken.

    They are merged as if none of the runs were stored yet; inside the write
    transaction only the runs found stored (usually none: an SDK request
    mostly carries new runs) are merged again. SQLite holds one write lock for
    the whole database, so the work done inside it bounds ingestion.
    """

    def __init__(self, batch: Batch, guard: ProjectGuard, access: Access) -> None:
        self.creates, self.patches = _fold(batch.ops)
        self.ids = _ordered_ids(batch.ops)
        self.guard = guard
        self.access = access
        self.projects = ProjectResolver(batch.default_project)
        self.rejected: dict[uuid.UUID, Rejection] = {}
        self.rows = self._merge(self.ids, {})
        self.parents = placement.load_parents(placement.outside_parents(self.rows, {}))
        self._refuse_cycles(self.rows, {})
        _derive_tree(list(self.rows.values()), parents=self.parents)
        self.projects.resolve()
        self.now = timezone.now()
        # A run without a project nor a create goes to the default project
        # only if it turns out not to be stored: its values wait for the lock.
        self.params = {
            rid: self._params(row)
            for rid, row in self.rows.items()
            if not self.projects.is_lazy(row)
        }

    def _merge(
        self, ids: list[uuid.UUID], stored: dict[uuid.UUID, dict[str, Any]]
    ) -> dict[uuid.UUID, dict[str, Any]]:
        rows: dict[uuid.UUID, dict[str, Any]] = {}
        for run_id in ids:
            create = self.creates.get(run_id, {})
            before = stored.get(run_id)
            try:
                if before is not None:
                    # The stored row's project decides, not the one sent.
                    denial = self.access.stored_denial(before.get("project_id"))
                    if denial:
                        raise Forbidden("id", denial)
                patch = self.patches.get(run_id, {})
                row = _merge(before, create, patch)
                row["id"] = run_id
                placement.check_placement(row, before, create, patch)
                self.projects.assign(row, self.guard, lazy_default=not create)
            except InvalidField as exc:
                self.rejected[run_id] = Rejection(
                    "run",
                    exc.field,
                    exc.message,
                    run_id=str(run_id),
                    forbidden=isinstance(exc, Forbidden),
                )
                continue
            rows[run_id] = row
        return rows

    def _refuse_cycles(
        self,
        rows: dict[uuid.UUID, dict[str, Any]],
        placed: dict[uuid.UUID, dict[str, Any]],
    ) -> None:
        for rid in placement.closing_cycles(rows, placed, self.parents):
            del rows[rid]
            cycle = placement.CYCLE
            self.rejected[rid] = Rejection(
                "run", cycle.field, cycle.message, run_id=str(rid)
            )

    def _params(self, row: dict[str, Any]) -> list[Any]:
        row["project_id"] = self.projects.id_for(row)
        row["updated_at"] = self.now
        row.setdefault("created_at", self.now)
        return store.row_params(row)

    def write(self) -> None:
        """Check which runs are stored, merge those again, upsert every row."""
        existing = store.existing_ids(self.ids)
        if existing:
            # Runs placed under a stored run by derivation are placed again.
            redo = [
                rid
                for rid in self.ids
                if rid in existing or self.rows.get(rid, {}).get("_derived")
            ]
            for rid in redo:
                self.rows.pop(rid, None)
                self.params.pop(rid, None)
                self.rejected.pop(rid, None)
            again = self._merge(redo, store.load_runs(existing))
            missing = placement.outside_parents(again, self.rows) - set(self.parents)
            self.parents.update(placement.load_parents(missing))
            self._refuse_cycles(again, self.rows)
            _derive_tree(list(again.values()), placed=self.rows, parents=self.parents)
            self.rows.update(again)
        for rid, row in self.rows.items():
            if rid not in self.params:
                self.params[rid] = self._params(row)
        accepted = self.accepted()
        thread_locks.lock_threads(self.rows[rid] for rid in accepted)
        # Trace order: the rollup rows the triggers update are locked in it.
        accepted.sort(key=lambda rid: str(self.rows[rid].get("trace_id")))
        store.upsert_params([self.params[rid] for rid in accepted])
        store.update_trace_costs(self.costed_traces())

    def costed_traces(self) -> set[uuid.UUID]:
        """Traces whose total cost may have changed: an LLM run or a root came."""
        return {
            row["trace_id"]
            for row in self.rows.values()
            if row.get("run_type") == "llm" or not row.get("parent_run_id")
        }

    def accepted(self) -> list[uuid.UUID]:
        return [rid for rid in self.ids if rid in self.rows]


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
    name, provider = extract.model(row.get("extra"))
    if name or not row.get("model_name"):
        row["model_name"] = name or row.get("model_name") or ""
    if provider or not row.get("model_provider"):
        row["model_provider"] = provider or row.get("model_provider") or ""
    # Own tokens and cost belong to LLM calls only, as in LangSmith: a chain
    # that returns an AIMessage carries its child's usage, and counting it
    # again would double every trace total and summary.
    if row.get("run_type") == "llm":
        usage = extract.usage(row.get("outputs"), row.get("extra"))
        if usage:
            row["prompt_tokens"], row["completion_tokens"], row["total_tokens"] = usage[
                :3
            ]
        _price(row, usage, sent=any(key in create or key in patch for key in _COSTS))
    else:
        row["prompt_tokens"] = row["completion_tokens"] = row["total_tokens"] = 0
        row.update(dict.fromkeys(_COSTS), price_source="")
    first = extract.first_token_time(row.get("events"))
    if first is not None:
        row["first_token_time"] = first
    return row


def _price(row: dict[str, Any], usage: extract.Usage | None, *, sent: bool) -> None:
    """Cost of an LLM run: sent by the client (kept as sent), or priced."""
    if sent:  # LangSmith's own prompt_cost / completion_cost / total_cost
        if row.get("total_cost") is None:
            row["total_cost"] = (row.get("prompt_cost") or 0.0) + (
                row.get("completion_cost") or 0.0
            )
        row["price_source"] = pricing.CLIENT
        return
    cost = (
        pricing.price_usage(usage, row["model_name"], row["model_provider"])
        if usage
        else None
    )
    if row.get("price_source") == pricing.CLIENT and (
        cost is None or cost.source != pricing.CLIENT
    ):
        return  # sent with an earlier request; this one sends no cost
    if cost is None:
        row.update(dict.fromkeys(_COSTS), price_source="")
        return
    row["prompt_cost"], row["completion_cost"], row["total_cost"] = cost[:3]
    row["price_source"] = cost.source


def _derive_tree(
    rows: list[dict[str, Any]],
    placed: dict[uuid.UUID, dict[str, Any]] | None = None,
    parents: dict[uuid.UUID, dict[str, Any]] | None = None,
) -> None:
    """Fill trace_id, parent and dotted_order where a client left them out.

    ``placed`` are rows of the same request whose tree is already known;
    ``parents`` stored runs already read.
    """
    by_id = {**(placed or {}), **{row["id"]: row for row in rows}}
    missing_parents = {
        row["parent_run_id"]
        for row in rows
        if row.get("parent_run_id")
        and row["parent_run_id"] not in by_id
        and not (row.get("trace_id") and row.get("dotted_order"))
    }
    parents = dict(parents or {})
    missing_parents -= set(parents)
    if missing_parents:
        parents.update(store.load_tree_fields(missing_parents))

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
            row["_derived"] = True
            row["trace_id"] = (
                trace_id_from_dotted_order(dotted)
                if dotted
                else (parent or {}).get("trace_id")
                if parent_id
                else row["id"]
            ) or row["id"]
        if not dotted and row.get("_created"):
            # A patch alone does not place a run; its create will.
            row["_derived"] = True
            own = segment(row["start_time"], row["id"])
            parent_dotted = (parent or {}).get("dotted_order")
            row["dotted_order"] = f"{parent_dotted}.{own}" if parent_dotted else own
        row["_tree_done"] = True

    for row in rows:
        if not row.get("_tree_done"):
            resolve(row)
