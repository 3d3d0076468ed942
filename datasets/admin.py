"""Django admin for datasets and examples; example bodies are shown escaped."""

from __future__ import annotations

import json

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from datasets.models import ComparativeExperiment, Dataset, DatasetTag, Example
from datasets.selectors import with_counts


def _pretty(value: object) -> str:
    return format_html("<pre>{}</pre>", json.dumps(value, indent=2, ensure_ascii=False))


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin):
    list_display = ("name", "data_type", "example_count", "session_count", "created_at")
    search_fields = ("name",)
    readonly_fields = ("id", "created_at", "modified_at")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return with_counts(super().get_queryset(request))

    @admin.display(description="Examples")
    def example_count(self, obj: Dataset) -> int:
        return obj.example_count

    @admin.display(description="Experiments")
    def session_count(self, obj: Dataset) -> int:
        return obj.session_count


@admin.register(Example)
class ExampleAdmin(admin.ModelAdmin):
    """Every revision of every example; current ones have no "valid to"."""

    list_display = ("id", "dataset", "valid_from", "valid_to")
    list_filter = (("valid_to", admin.EmptyFieldListFilter),)
    list_select_related = ("dataset",)
    search_fields = ("id",)
    readonly_fields = (
        "id",
        "dataset",
        "inputs_pretty",
        "outputs_pretty",
        "metadata_pretty",
        "source_run_id",
        "created_at",
        "valid_from",
        "valid_to",
    )
    exclude = ("inputs", "outputs", "metadata", "splits_text")

    # Revisions are history: changed through the API, never edited in place.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.display(description="Inputs")
    def inputs_pretty(self, obj: Example) -> str:
        return _pretty(obj.inputs)

    @admin.display(description="Outputs")
    def outputs_pretty(self, obj: Example) -> str:
        return _pretty(obj.outputs)

    @admin.display(description="Metadata")
    def metadata_pretty(self, obj: Example) -> str:
        return _pretty(obj.metadata)


admin.site.register(DatasetTag)
admin.site.register(ComparativeExperiment)
