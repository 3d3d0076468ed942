"""Template helpers of the dataset pages."""

from __future__ import annotations

import json
from typing import Any

from django import template

from datasets.models import Dataset

register = template.Library()

PREVIEW_CHARS = 300


@register.filter
def score(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


@register.filter
def preview(value: Any) -> str:
    """Compact JSON of an input or output, cut short (escaped by the template)."""
    if value is None:
        return ""
    text = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    if len(text) > PREVIEW_CHARS:
        return text[:PREVIEW_CHARS] + "…"
    return text


@register.filter
def get(mapping: dict, key: str) -> Any:
    return mapping.get(key) if isinstance(mapping, dict) else None


@register.inclusion_tag("datasets/_add_to_dataset.html", takes_context=True)
def add_to_dataset_form(context: dict, run: Any) -> dict[str, Any]:
    """The "Add to dataset" form of a run panel."""
    return {
        "run": run,
        "datasets": Dataset.objects.order_by("name").only("id", "name")[:500],
        "csrf_token": context.get("csrf_token"),
    }
