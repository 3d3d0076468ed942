"""manage.py set_model_price MODEL --input-per-mtok X --output-per-mtok Y ..."""

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from runs.pricing.local import apply_hint, set_model_price


class Command(BaseCommand):
    help = (
        "Set the local price of a model in US dollars per million tokens; it "
        "overrides genai-prices for new runs. Stored runs keep their cost until "
        "reprice_runs."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("model", help="The exact model name (or --pattern).")
        parser.add_argument("--input-per-mtok", type=float, required=True)
        parser.add_argument("--output-per-mtok", type=float, required=True)
        parser.add_argument("--cache-read-per-mtok", type=float, default=None)
        parser.add_argument("--cache-write-per-mtok", type=float, default=None)
        parser.add_argument(
            "--provider", default="", help="Only this provider (default: any)."
        )
        parser.add_argument(
            "--pattern",
            action="store_true",
            help="MODEL is a regular expression matching whole model names.",
        )

    def handle(
        self,
        *,
        model: str,
        input_per_mtok: float,
        output_per_mtok: float,
        cache_read_per_mtok: float | None,
        cache_write_per_mtok: float | None,
        provider: str,
        pattern: bool,
        **options: Any,
    ) -> None:
        try:
            price, created = set_model_price(
                model=model,
                input_per_mtok=input_per_mtok,
                output_per_mtok=output_per_mtok,
                cache_read_per_mtok=cache_read_per_mtok,
                cache_write_per_mtok=cache_write_per_mtok,
                provider=provider,
                is_pattern=pattern,
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        verb = "Added" if created else "Updated"
        self.stdout.write(self.style.SUCCESS(f"{verb} the price of {price}."))
        self.stdout.write(apply_hint(price))
