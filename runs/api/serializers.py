"""Input serializers of the API; the JSON output shapes live in ``runs.shape``."""

from __future__ import annotations

from rest_framework import serializers

from runs.query.roots import DEFAULT_LIMIT, MAX_LIMIT, OPTIONAL_FIELDS

# The output shapes, re-exported for the views that build responses.
from runs.shape import (
    feedback_to_dict,
    project_to_dict,
    run_to_dict,
    with_trace_totals,
)

__all__ = ["feedback_to_dict", "project_to_dict", "run_to_dict", "with_trace_totals"]


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
    # Client.read_thread asks for "asc" (a conversation, oldest first).
    order = serializers.ChoiceField(choices=["asc", "desc"], default="desc")
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
