"""Runs and projects in LangSmith's JSON shapes (see docs: LangSmith protocol §6)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from runs.models import TENANT_ID, Feedback, Project, Run
from runs.query.roots import DEFAULT_LIMIT, MAX_LIMIT, OPTIONAL_FIELDS


def run_to_dict(run: Run, *, child_run_ids: list[str] | None = None) -> dict[str, Any]:
    """A LangSmith ``Run``: every key present, none of the required ones null."""
    return {
        "id": str(run.id),
        "name": run.name,
        "run_type": run.run_type,
        "start_time": run.start_time.isoformat(),
        "end_time": run.end_time.isoformat() if run.end_time else None,
        "trace_id": str(run.trace_id),
        "dotted_order": run.dotted_order,
        "parent_run_id": str(run.parent_id) if run.parent_id else None,
        "session_id": str(run.project_id) if run.project_id else None,
        "inputs": run.inputs if isinstance(run.inputs, dict) else {},
        "outputs": run.outputs,
        "error": run.error,
        "extra": run.extra or {},
        "events": run.events or [],
        "serialized": run.serialized,
        "tags": run.tags or [],
        "reference_example_id": str(run.reference_example_id)
        if run.reference_example_id
        else None,
        "status": run.status,
        "child_run_ids": child_run_ids if child_run_ids is not None else [],
        "parent_run_ids": run.parent_run_ids,
        "prompt_tokens": run.prompt_tokens,
        "completion_tokens": run.completion_tokens,
        "total_tokens": run.total_tokens,
        "first_token_time": run.first_token_time.isoformat()
        if run.first_token_time
        else None,
        "feedback_stats": None,
        "app_path": f"/traces/{run.trace_id}?run={run.id}",
        "in_dataset": False,
        "model_name": run.model_name or None,
        "model_provider": run.model_provider or None,
    }


def project_to_dict(project: Project, **stats: Any) -> dict[str, Any]:
    """A LangSmith ``TracerSession``."""
    return {
        "id": str(project.id),
        "name": project.name,
        "description": project.description or None,
        "start_time": project.created_at.isoformat(),
        "end_time": project.end_time.isoformat() if project.end_time else None,
        "extra": {"metadata": project.metadata} if project.metadata else None,
        "tenant_id": str(TENANT_ID),
        "reference_dataset_id": str(project.reference_dataset_id)
        if project.reference_dataset_id
        else None,
        "default_dataset_id": None,
        "trace_tier": "longlived",
        "retention_days": project.retention_days,
        **stats,
    }


def feedback_to_dict(feedback: Feedback) -> dict[str, Any]:
    return {
        "id": str(feedback.id),
        "created_at": feedback.created_at.isoformat(),
        "modified_at": feedback.modified_at.isoformat(),
        "run_id": str(feedback.run_id) if feedback.run_id else None,
        "trace_id": str(feedback.trace_id) if feedback.trace_id else None,
        "session_id": str(feedback.session_id) if feedback.session_id else None,
        "key": feedback.key,
        "score": feedback.score,
        "value": feedback.value,
        "comment": feedback.comment,
        "correction": feedback.correction,
        "feedback_source": feedback.source,
        "extra": feedback.extra,
        "comparative_experiment_id": str(feedback.comparative_experiment_id)
        if feedback.comparative_experiment_id
        else None,
        "feedback_group_id": str(feedback.feedback_group_id)
        if feedback.feedback_group_id
        else None,
    }


# --- Input serializers of the read API (validation + OpenAPI schema) ---------


class PageParams(serializers.Serializer):
    limit = serializers.IntegerField(
        min_value=1, max_value=MAX_LIMIT, default=DEFAULT_LIMIT
    )
    offset = serializers.IntegerField(min_value=0, max_value=10**9, default=0)


class RootsParams(PageParams):
    fields = serializers.CharField(
        required=False,
        default="",
        help_text="Comma-separated extra fields: " + ", ".join(OPTIONAL_FIELDS),
    )

    def validate_fields(self, value: str) -> tuple[str, ...]:
        names = tuple(f.strip() for f in value.split(",") if f.strip())
        unknown = [n for n in names if n not in OPTIONAL_FIELDS]
        if unknown:
            raise serializers.ValidationError(
                f"Unknown field(s) {', '.join(unknown)}; "
                f"choose from {', '.join(OPTIONAL_FIELDS)}."
            )
        return names


class HierarchyParams(serializers.Serializer):
    light = serializers.BooleanField(
        default=False, help_text="Leave inputs, outputs, extra and events out."
    )


class SessionParams(serializers.Serializer):
    name = serializers.CharField(required=False, max_length=255)
    name_contains = serializers.CharField(required=False, max_length=255)
    id = serializers.ListField(child=serializers.UUIDField(), required=False)
    reference_dataset = serializers.ListField(
        child=serializers.UUIDField(), required=False
    )
    reference_dataset_name = serializers.CharField(required=False, max_length=255)
    reference_free = serializers.BooleanField(required=False, allow_null=True)
    limit = serializers.IntegerField(min_value=1, max_value=1000, default=100)
    offset = serializers.IntegerField(min_value=0, max_value=10**9, default=0)
    include_stats = serializers.BooleanField(required=False, default=True)


class SessionInput(serializers.Serializer):
    id = serializers.UUIDField(required=False)
    name = serializers.CharField(max_length=255)
    description = serializers.CharField(
        required=False, allow_null=True, allow_blank=True
    )
    extra = serializers.DictField(required=False, allow_null=True)
    end_time = serializers.DateTimeField(required=False, allow_null=True)
    retention_days = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=100_000
    )
    reference_dataset_id = serializers.UUIDField(required=False, allow_null=True)


class SessionPatch(SessionInput):
    # evaluate() ends an experiment with "name": null, meaning unchanged.
    name = serializers.CharField(max_length=255, required=False, allow_null=True)


class RunsQueryInput(serializers.Serializer):
    """``POST /runs/query``: LangSmith's body; null values count as absent."""

    session = serializers.ListField(
        child=serializers.UUIDField(), required=False, max_length=100
    )
    session_id = serializers.UUIDField(required=False)
    id = serializers.ListField(
        child=serializers.UUIDField(), required=False, max_length=1000
    )
    trace = serializers.UUIDField(required=False)
    parent_run = serializers.UUIDField(required=False)
    is_root = serializers.BooleanField(required=False)
    run_type = serializers.CharField(required=False, max_length=64)
    error = serializers.BooleanField(required=False)
    start_time = serializers.DateTimeField(required=False)
    end_time = serializers.DateTimeField(required=False)
    query = serializers.CharField(required=False, max_length=500, allow_blank=True)
    select = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False
    )
    limit = serializers.IntegerField(min_value=1, max_value=1000, default=100)
    cursor = serializers.CharField(required=False, max_length=200)
    filter = serializers.CharField(required=False, allow_blank=True)
    trace_filter = serializers.CharField(required=False, allow_blank=True)
    tree_filter = serializers.CharField(required=False, allow_blank=True)
    reference_example = serializers.ListField(
        child=serializers.UUIDField(), required=False
    )

    def to_internal_value(self, data):
        if isinstance(data, dict):
            data = {k: v for k, v in data.items() if v is not None}
        return super().to_internal_value(data)

    def validate(self, attrs):
        for name in ("filter", "trace_filter", "tree_filter"):
            if attrs.get(name):
                raise serializers.ValidationError(
                    {name: "The LangSmith filter language is not supported here."}
                )
        if attrs.get("reference_example"):
            raise serializers.ValidationError(
                {"reference_example": "Datasets are not supported here."}
            )
        return attrs


class FeedbackParams(serializers.Serializer):
    run = serializers.ListField(child=serializers.UUIDField(), required=False)
    key = serializers.ListField(
        child=serializers.CharField(max_length=255), required=False
    )
    session = serializers.ListField(child=serializers.UUIDField(), required=False)
    comparative_experiment_id = serializers.UUIDField(required=False)
    level = serializers.ChoiceField(choices=["run", "session"], required=False)
    limit = serializers.IntegerField(min_value=1, max_value=1000, default=100)
    offset = serializers.IntegerField(min_value=0, max_value=10**9, default=0)


class FeedbackPatch(serializers.Serializer):
    score = serializers.FloatField(required=False, allow_null=True)
    value = serializers.JSONField(required=False, allow_null=True)
    comment = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    correction = serializers.JSONField(required=False, allow_null=True)
    feedback_source = serializers.DictField(required=False, allow_null=True)
    key = serializers.CharField(required=False, max_length=255)


class ExportParams(serializers.Serializer):
    format = serializers.ChoiceField(choices=["jsonl", "json", "csv"], default="jsonl")
