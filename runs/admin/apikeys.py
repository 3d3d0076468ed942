"""The API key admin."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from runs.models import ApiKey


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are made with ``manage.py create_api_key`` (it shows the key once)."""

    list_display = [
        "name",
        "prefix",
        "project",
        "read_only",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = ["read_only", "project"]
    search_fields = ["name", "prefix"]
    fields = [
        "name",
        "prefix",
        "project",
        "read_only",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    readonly_fields = ["prefix", "created_at", "last_used_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
