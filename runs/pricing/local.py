"""Local model prices: the writes shared by the admin and ``set_model_price``."""

from __future__ import annotations

import shlex

from django.utils import timezone

from runs.models import ModelPrice
from runs.pricing.prices import invalidate


def apply_hint(price: ModelPrice) -> str:
    """How to bring stored runs to a changed price (new runs have it at once)."""
    target = "" if price.is_pattern else f" --model {shlex.quote(price.model)}"
    return (
        "Runs stored before the change keep their cost until repriced: "
        f"python manage.py reprice_runs{target}"
    )


def set_model_price(
    *,
    model: str,
    input_per_mtok: float,
    output_per_mtok: float,
    cache_read_per_mtok: float | None = None,
    cache_write_per_mtok: float | None = None,
    provider: str = "",
    is_pattern: bool = False,
) -> tuple[ModelPrice, bool]:
    """Create or replace the local price of (model, provider)."""
    price = ModelPrice.objects.filter(model=model, provider=provider).first()
    created = price is None
    price = price or ModelPrice(model=model, provider=provider)
    price.is_pattern = is_pattern
    price.input_per_mtok = input_per_mtok
    price.output_per_mtok = output_per_mtok
    price.cache_read_per_mtok = cache_read_per_mtok
    price.cache_write_per_mtok = cache_write_per_mtok
    price.updated_at = timezone.now()
    price.full_clean(validate_unique=False)
    price.save()
    invalidate()
    return price, created
