"""The attachment admin."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from runs.admin.common import (
    FastChangelistMixin,
    run_link,
)
from runs.models import Attachment


@admin.register(Attachment)
class AttachmentAdmin(FastChangelistMixin, admin.ModelAdmin):
    list_display = ["name", "content_type", "size", "run", "created_at", "download"]
    list_filter = ["content_type"]
    search_fields = ["name"]
    ordering = ["-created_at"]
    fields = [
        "name",
        "content_type",
        "size",
        "run",
        "trace_id",
        "created_at",
        "download",
    ]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="Run")
    def run(self, attachment: Attachment) -> SafeString | str:
        return run_link(attachment.run_id)

    @admin.display(description="File")
    def download(self, attachment: Attachment) -> SafeString:
        return format_html(
            '<a href="{}">Download</a>',
            reverse("dashboard:attachment", args=[attachment.pk]),
        )
