"""The local model price admin."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils import timezone

from runs.models import ModelPrice
from runs.pricing import invalidate as invalidate_prices
from runs.pricing.local import apply_hint


@admin.register(ModelPrice)
class ModelPriceAdmin(admin.ModelAdmin):
    """Local prices, which override genai-prices for new runs at once."""

    list_display = [
        "model",
        "is_pattern",
        "provider",
        "input_per_mtok",
        "output_per_mtok",
        "cache_read_per_mtok",
        "cache_write_per_mtok",
        "updated_at",
    ]
    search_fields = ["model", "provider"]
    readonly_fields = ["updated_at"]

    def save_model(
        self, request: HttpRequest, obj: ModelPrice, form: Any, change: bool
    ) -> None:
        obj.updated_at = timezone.now()
        super().save_model(request, obj, form, change)
        invalidate_prices()
        self.message_user(request, apply_hint(obj), messages.WARNING)

    def delete_model(self, request: HttpRequest, obj: ModelPrice) -> None:
        super().delete_model(request, obj)
        invalidate_prices()
        self.message_user(request, apply_hint(obj), messages.WARNING)
