"""Django admin for alert rules and their deliveries (read-only: a record)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html

from alerts.models import AlertDelivery, AlertRule


class DeliveryInline(admin.TabularInline):
    model = AlertDelivery
    extra = 0
    can_delete = False
    fields = ["created_at", "event", "status", "attempt_count", "http_status"]
    readonly_fields = fields
    ordering = ["-created_at", "-id"]
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "project",
        "condition",
        "enabled",
        "state",
        "last_value",
        "last_evaluated_at",
    ]
    list_filter = ["enabled", "firing", "metric"]
    search_fields = ["name", "project__name"]
    autocomplete_fields = ["project"]
    readonly_fields = ["firing", "fired_at", "last_value", "last_evaluated_at"]
    inlines = [DeliveryInline]

    @admin.display(description="state")
    def state(self, rule: AlertRule) -> str:
        if not rule.enabled:
            return "disabled"
        return format_html("<strong>{}</strong>", "firing") if rule.firing else "ok"


@admin.register(AlertDelivery)
class AlertDeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "rule",
        "event",
        "status",
        "attempt_count",
        "http_status",
    ]
    list_filter = ["status", "event"]
    list_select_related = ["rule"]
    readonly_fields = [
        "rule",
        "event",
        "status",
        "url",
        "payload",
        "attempts",
        "attempt_count",
        "http_status",
        "last_error",
        "created_at",
        "delivered_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
