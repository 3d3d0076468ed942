"""The feedback admin."""

from __future__ import annotations

import json

from django.contrib import admin
from django.utils.safestring import SafeString

from runs.admin.common import (
    FastChangelistMixin,
    pretty_json,
    run_link,
)
from runs.models import Feedback


@admin.register(Feedback)
class FeedbackAdmin(FastChangelistMixin, admin.ModelAdmin):
    list_display = ["key", "score", "short_value", "run", "created_at"]
    list_filter = ["key"]
    search_fields = ["key", "comment"]
    ordering = ["-created_at"]
    readonly_fields = ["run", "value_pretty", "source_pretty", "created_at"]
    exclude = ["value", "source", "correction", "extra"]

    @admin.display(description="Value")
    def short_value(self, feedback: Feedback) -> str:
        text = "" if feedback.value is None else json.dumps(feedback.value)
        return text[:80]

    @admin.display(description="Run")
    def run(self, feedback: Feedback) -> SafeString | str:
        return run_link(feedback.run_id)

    @admin.display(description="Value")
    def value_pretty(self, feedback: Feedback) -> SafeString:
        return pretty_json(feedback.value)

    @admin.display(description="Source")
    def source_pretty(self, feedback: Feedback) -> SafeString:
        return pretty_json(feedback.source)
