"""manage.py list_model_prices"""

from typing import Any

from django.core.management.base import BaseCommand

from runs.models import ModelPrice


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


class Command(BaseCommand):
    help = (
        "List the local model prices (US dollars per million tokens); every "
        "other model is priced from genai-prices."
    )

    def handle(self, **options: Any) -> None:
        rows = [("MODEL", "PROVIDER", "INPUT", "OUTPUT", "CACHE READ", "CACHE WRITE")]
        for price in ModelPrice.objects.all():
            rows.append(
                (
                    f"/{price.model}/" if price.is_pattern else price.model,
                    price.provider or "*",
                    _rate(price.input_per_mtok),
                    _rate(price.output_per_mtok),
                    _rate(price.cache_read_per_mtok),
                    _rate(price.cache_write_per_mtok),
                )
            )
        if len(rows) == 1:
            self.stdout.write("No local prices: every model is priced by genai-prices.")
            return
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        for row in rows:
            line = "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True))
            self.stdout.write(line.rstrip())
