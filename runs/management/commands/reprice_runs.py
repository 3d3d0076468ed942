"""manage.py reprice_runs [--model M] [--since 2026-11-01] [--batch-size N]"""

from datetime import UTC, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from runs.pricing.reprice import BATCH_SIZE, RepriceResult, count_runs, reprice_runs


def _since(value: str) -> datetime:
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--since: {value!r} is not an ISO date or time") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


class Command(BaseCommand):
    help = (
        "Recompute the stored cost of LLM runs from the current prices (after a "
        "price change), and every trace total and summary built on it. Costs sent "
        "by clients stay as sent. Runs in short batches; safe while ingesting."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--model", help="Only runs of this exact model name.")
        parser.add_argument(
            "--since", type=_since, help="Only runs started at or after this time."
        )
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)

    def handle(
        self,
        *,
        model: str | None,
        since: datetime | None,
        batch_size: int,
        **options: Any,
    ) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        total = count_runs(model=model, since=since)
        self.stdout.write(f"{total:,} LLM runs to reprice.")

        def progress(done: RepriceResult) -> None:
            self.stdout.write(
                f"\r{done.scanned:,}/{total:,} runs, {done.changed:,} changed",
                ending="",
            )
            self.stdout.flush()

        result = reprice_runs(
            model=model, since=since, batch_size=batch_size, progress=progress
        )
        if result.scanned:
            self.stdout.write("")
        self.stdout.write(
            self.style.SUCCESS(
                f"Repriced {result.scanned:,} runs: {result.changed:,} changed, "
                f"{result.unpriced:,} without a price."
            )
        )
