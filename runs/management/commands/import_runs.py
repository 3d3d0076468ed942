"""manage.py import_runs FILE: load a JSONL export back, idempotently."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from runs.dumpfiles import open_for_reading
from runs.importing import ImportReport, import_jsonl
from runs.management.cli import plural

SHOWN_ERRORS = 50


class Command(BaseCommand):
    help = (
        "Import runs from a JSONL file written by export_runs (.gz and .zst are "
        "decompressed; '-' reads stdin). Lines go through the same validation "
        "and merge as ingestion, so importing a file twice changes nothing. "
        "Rejected lines are listed by number and make the exit status 1."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="JSONL file (.jsonl, .jsonl.gz, .jsonl.zst).")
        parser.add_argument(
            "--batch-size",
            type=int,
            default=500,
            help="Lines per transaction (default 500).",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Validate and count, store nothing.",
        )

    def handle(
        self, *, file: str, batch_size: int, dry_run: bool, **options: Any
    ) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        started = time.monotonic()
        try:
            with open_for_reading(file) as stream:
                report = import_jsonl(
                    stream,
                    chunk_size=batch_size,
                    dry_run=dry_run,
                    progress=self._progress_checked if dry_run else self._progress,
                )
        except OSError as exc:
            # Missing files and corrupt .gz/.zst streams both end here.
            raise CommandError(f"Cannot read {file!r}: {exc}") from exc
        if report.lines:
            self.stdout.write("")
        elapsed = max(time.monotonic() - started, 1e-9)
        verb = "Would import" if dry_run else "Imported"
        self.stdout.write(
            self.style.SUCCESS(
                f"{verb} {plural(report.imported, 'run')} ({report.new:,} new, "
                f"{report.imported - report.new:,} already present) from "
                f"{plural(report.lines, 'line')} in {elapsed:.1f}s, "
                f"{report.imported / elapsed:,.0f} runs/s."
            )
        )
        if report.rejected:
            for error in report.rejected[:SHOWN_ERRORS]:
                self.stderr.write(f"line {error.line}: {error.message}")
            if len(report.rejected) > SHOWN_ERRORS:
                self.stderr.write(f"... and {len(report.rejected) - SHOWN_ERRORS} more")
            raise CommandError(f"{plural(len(report.rejected), 'line')} rejected.")

    def _progress(self, report: ImportReport, verb: str = "imported") -> None:
        self.stdout.write(
            f"\r{plural(report.lines, 'line')} read, "
            f"{plural(report.imported, 'run')} {verb}",
            ending="",
        )
        self.stdout.flush()

    def _progress_checked(self, report: ImportReport) -> None:
        # A dry run stores nothing: its progress must not say "imported".
        self._progress(report, verb="valid")
