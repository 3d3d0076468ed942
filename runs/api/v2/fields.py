"""A run in the v2 shape: only the properties named in ``selects``.

The v2 API spells enums in upper case (``RUN_TYPE``: ``LLM``, ``STATUS``:
``SUCCESS`` / ``ERROR`` / ``PENDING``) and returns only ``id`` when nothing is
selected. Large bodies are read from the database only when selected.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

from django.db.models import QuerySet

from runs.api import links
from runs.models import Feedback, Run

SELECT_FIELDS = (
    "ID",
    "NAME",
    "RUN_TYPE",
    "STATUS",
    "START_TIME",
    "END_TIME",
    "LATENCY_SECONDS",
    "FIRST_TOKEN_TIME",
    "ERROR",
    "ERROR_PREVIEW",
    "EXTRA",
    "METADATA",
    "EVENTS",
    "INPUTS",
    "INPUTS_PREVIEW",
    "OUTPUTS",
    "OUTPUTS_PREVIEW",
    "MANIFEST",
    "PARENT_RUN_IDS",
    "PROJECT_ID",
    "TRACE_ID",
    "THREAD_ID",
    "DOTTED_ORDER",
    "IS_ROOT",
    "REFERENCE_EXAMPLE_ID",
    "REFERENCE_DATASET_ID",
    "TOTAL_TOKENS",
    "PROMPT_TOKENS",
    "COMPLETION_TOKENS",
    "TOTAL_COST",
    "PROMPT_COST",
    "COMPLETION_COST",
    "PROMPT_TOKEN_DETAILS",
    "COMPLETION_TOKEN_DETAILS",
    "PROMPT_COST_DETAILS",
    "COMPLETION_COST_DETAILS",
    "PRICE_MODEL_ID",
    "TAGS",
    "APP_PATH",
    "ATTACHMENTS",
    "THREAD_EVALUATION_TIME",
    "IS_IN_DATASET",
    "LAST_QUEUED_AT",
    "SHARE_URL",
    "FEEDBACK_STATS",
    "LS_USER_ID",
)
# Column each body-bearing select needs; the rest read only small columns.
_BODY_COLUMNS = {
    "EXTRA": "extra",
    "METADATA": "extra",
    "THREAD_ID": "extra",
    "EVENTS": "events",
    "INPUTS": "inputs",
    "INPUTS_PREVIEW": "inputs",
    "OUTPUTS": "outputs",
    "OUTPUTS_PREVIEW": "outputs",
    "MANIFEST": "serialized",
}
BODY_COLUMNS = ("inputs", "outputs", "extra", "events", "serialized")
PREVIEW_CHARS = 200
THREAD_KEYS = ("thread_id", "session_id", "conversation_id")
_STATUS = {"success": "SUCCESS", "error": "ERROR", "running": "PENDING"}
# Runs types of the v2 enum; others (LangChain's chat_model, ...) pass as is.
_RUN_TYPES = {"tool", "chain", "llm", "retriever", "embedding", "prompt", "parser"}


def only_needed(queryset: QuerySet, selects: list[str]) -> QuerySet:
    """Leave out the large bodies no select asks for."""
    wanted = {_BODY_COLUMNS[s] for s in selects if s in _BODY_COLUMNS}
    skipped = [c for c in BODY_COLUMNS if c not in wanted]
    return queryset.defer(*skipped) if skipped else queryset


def _preview(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dict) and len(value) == 1:
        value = next(iter(value.values()))
    text = value if isinstance(value, str) else str(value)
    return text[:PREVIEW_CHARS]


def _metadata(run: Run) -> dict[str, Any]:
    extra = run.extra if isinstance(run.extra, dict) else {}
    metadata = extra.get("metadata")
    return metadata if isinstance(metadata, dict) else {}


def _thread_id(run: Run) -> str | None:
    metadata = _metadata(run)
    for key in THREAD_KEYS:
        value = metadata.get(key)
        if value not in (None, ""):
            return str(value)
    return None


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _feedback_stats(run_ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    rows = Feedback.objects.filter(run_id__in=run_ids).values_list(
        "run_id", "key", "score", "value", "comment"
    )
    grouped: dict[uuid.UUID, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for run_id, key, score, value, comment in rows:
        grouped[run_id][key].append((score, value, comment))
    stats: dict[uuid.UUID, dict[str, Any]] = {}
    for run_id, keys in grouped.items():
        stats[run_id] = {}
        for key, points in keys.items():
            scores = [p[0] for p in points if p[0] is not None]
            values: dict[str, int] = defaultdict(int)
            for _, value, _ in points:
                if isinstance(value, str):
                    values[value] += 1
            stats[run_id][key] = {
                "n": len(points),
                "avg": sum(scores) / len(scores) if scores else None,
                "min": min(scores) if scores else None,
                "max": max(scores) if scores else None,
                "errors": 0,
                "values": dict(values),
                "comments": [p[2] for p in points if p[2]][:10],
            }
    return stats


class Context:
    """What the selects need beyond the run rows, read once per page."""

    def __init__(self, request: Any, runs: list[Run], selects: list[str]) -> None:
        self.request = request
        ids = [run.id for run in runs]
        self.attachments = (
            links.s3_urls(request, ids) if "ATTACHMENTS" in selects else {}
        )
        self.feedback = _feedback_stats(ids) if "FEEDBACK_STATS" in selects else {}
        self.shares = (
            links.shared_tokens(list({run.trace_id for run in runs}))
            if "SHARE_URL" in selects
            else {}
        )


def _value(select: str, run: Run, ctx: Context) -> tuple[str, Any]:
    match select:
        case "RUN_TYPE":
            kind = run.run_type
            return "run_type", kind.upper() if kind in _RUN_TYPES else kind
        case "STATUS":
            return "status", _STATUS.get(run.status, run.status.upper())
        case "START_TIME" | "END_TIME" | "FIRST_TOKEN_TIME":
            name = select.lower()
            return name, _iso(getattr(run, name))
        case "LATENCY_SECONDS":
            duration = run.duration
            return "latency_seconds", (
                duration.total_seconds() if duration is not None else None
            )
        case "ERROR_PREVIEW":
            return "error_preview", (run.error or None) and run.error[:PREVIEW_CHARS]
        case "EXTRA":
            return "extra", run.extra if isinstance(run.extra, dict) else {}
        case "METADATA":
            return "metadata", _metadata(run)
        case "EVENTS":
            return "events", run.events if isinstance(run.events, list) else []
        case "INPUTS" | "OUTPUTS":
            value = getattr(run, select.lower())
            return select.lower(), value if isinstance(value, dict) else None
        case "INPUTS_PREVIEW" | "OUTPUTS_PREVIEW":
            name = select.lower()
            return name, _preview(getattr(run, name.removesuffix("_preview")))
        case "MANIFEST":
            return "manifest", run.serialized
        case "PARENT_RUN_IDS":
            return "parent_run_ids", run.parent_run_ids
        case "PROJECT_ID":
            return "project_id", str(run.project_id) if run.project_id else None
        case "TRACE_ID":
            return "trace_id", str(run.trace_id)
        case "THREAD_ID":
            return "thread_id", _thread_id(run)
        case "IS_ROOT":
            return "is_root", run.parent_id is None
        case "REFERENCE_EXAMPLE_ID":
            ref = run.reference_example_id
            return "reference_example_id", str(ref) if ref else None
        case "TAGS":
            return "tags", run.tags if isinstance(run.tags, list) else []
        case "APP_PATH":
            return "app_path", links.trace_path(run.trace_id, run.id)
        case "ATTACHMENTS":
            urls = ctx.attachments.get(run.id, {})
            return "attachments", {
                key.removeprefix("attachment."): item["presigned_url"]
                for key, item in urls.items()
            }
        case "IS_IN_DATASET":
            return "is_in_dataset", False
        case "SHARE_URL":
            token = ctx.shares.get(run.trace_id)
            return "share_url", (
                links.share_url(ctx.request, token) if token is not None else None
            )
        case "FEEDBACK_STATS":
            return "feedback_stats", ctx.feedback.get(run.id, {})
        case "ID":
            return "id", str(run.id)
        case (
            "NAME"
            | "ERROR"
            | "DOTTED_ORDER"
            | "TOTAL_TOKENS"
            | "PROMPT_TOKENS"
            | "COMPLETION_TOKENS"
            | "TOTAL_COST"
            | "PROMPT_COST"
            | "COMPLETION_COST"
        ):
            return select.lower(), getattr(run, select.lower())
    # Token and cost details, datasets, queues, users: not recorded here.
    return select.lower(), None


def run_v2(run: Run, selects: list[str], ctx: Context) -> dict[str, Any]:
    """The run with ``id`` and each selected property."""
    body: dict[str, Any] = {"id": str(run.id)}
    for select in selects:
        key, value = _value(select, run, ctx)
        body[key] = value
    return body


def runs_v2(request: Any, runs: list[Run], selects: list[str]) -> list[dict]:
    ctx = Context(request, runs, selects)
    return [run_v2(run, selects, ctx) for run in runs]
