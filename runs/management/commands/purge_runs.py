"""manage.py purge_runs: delete whole traces by age, project, status or retention."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.utils import timezone

from runs import purge
from runs.management.cli import AGE_FORMATS, TIME_FORMATS, parse_age, parse_time, plural
from runs.purge import Criteria, Outcome, PurgeError


def megabytes(size: int) -> str:
    return f"{size / 1_000_000:,.1f} MB"


class Command(BaseCommand):
    help = (
        "Delete whole traces (every run of the trace, with its feedback and "
        "attachments) whose root run started before a cutoff: --older-than 30d, "
        "--before 2026-01-01, or --retention for each project's retention period "
        "(its own, else RETENTION_DAYS; projects with neither are kept). Narrow "
        "with --project and --status. Works in short transactions of --batch-size "
        "traces so ingestion keeps flowing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        when = parser.add_argument_group("cutoff (exactly one)")
        when.add_argument(
            "--older-than",
            metavar="AGE",
            help=f"Root started more than AGE ago: {AGE_FORMATS}.",
        )
        when.add_argument(
            "--before",
            metavar="TIME",
            help=f"Root started before TIME: {TIME_FORMATS}.",
        )
        when.add_argument(
            "--retention",
            action="store_true",
            help="Apply every project's retention period.",
        )
        parser.add_argument(
            "--project",
            action="append",
            default=[],
            help="Only this project (repeat for several).",
        )
        parser.add_argument(
            "--status",
            choices=purge.STATUSES,
            help="Only traces whose root has this status "
            "(stale = still running after STALE_AFTER_MINUTES).",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=200,
            help="Traces per transaction (default 200).",
        )
        parser.add_argument(
            "--pause",
            type=float,
            default=0.05,
            help="Seconds to wait between batches, leaving the database to "
            "ingestion (default 0.05).",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Report what would be deleted and delete nothing.",
        )

    def handle(
        self,
        *,
        older_than: str | None,
        before: str | None,
        retention: bool,
        project: list[str],
        status: str | None,
        batch_size: int,
        pause: float,
        dry_run: bool,
        **options: Any,
    ) -> None:
        if [older_than is not None, before is not None, retention].count(True) != 1:
            raise CommandError(
                "Give exactly one of --older-than AGE, --before DATE or --retention."
            )
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        if pause < 0:
            raise CommandError("--pause must not be negative.")
        try:
            projects = purge.resolve_projects(project)
        except PurgeError as exc:
            raise CommandError(f"--project: {exc}") from exc
        if retention:
            plans = [
                Criteria(before=c.before, projects=c.projects, status=status)
                for c in purge.retention_criteria(projects)
            ]
            if not plans:
                self.stdout.write(
                    "No project has a retention period and RETENTION_DAYS is "
                    "empty: nothing to purge."
                )
                return
        else:
            if older_than is not None:
                cutoff = timezone.now() - parse_age(older_than, option="--older-than")
            else:
                cutoff = parse_time(before or "", option="--before")
            plans = [Criteria(before=cutoff, projects=projects, status=status)]

        if dry_run:
            self._dry_run(plans)
        else:
            self._purge(plans, batch_size=batch_size, pause=pause)

    def _dry_run(self, plans: list[Criteria]) -> None:
        traces = runs = 0
        for criteria in plans:
            planned = purge.plan(criteria)
            traces += planned.traces
            runs += planned.runs
            self.stdout.write(
                f"Would delete {plural(planned.traces, 'trace')} "
                f"({plural(planned.runs, 'run')}) {criteria.describe()}."
            )
        if len(plans) > 1:
            self.stdout.write(
                f"Would delete {plural(traces, 'trace')} ({plural(runs, 'run')}) "
                "in all."
            )

    def _purge(self, plans: list[Criteria], *, batch_size: int, pause: float) -> None:
        before = purge.usage()
        started = time.monotonic()
        total = Outcome()
        for criteria in plans:
            expected = purge.plan(criteria).traces
            self.stdout.write(
                f"Deleting {plural(expected, 'trace')} {criteria.describe()} "
                f"in batches of {batch_size:,}"
            )
            done = purge.purge(
                criteria,
                batch_size=batch_size,
                pause=pause,
                progress=self._progress,
                total=expected,
            )
            if done.batches:
                self.stdout.write("")  # end the progress line
            total.add(done)
        elapsed = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Deleted {plural(total.traces, 'trace')} "
                f"({plural(total.runs, 'run')}, {total.feedback:,} feedback, "
                f"{plural(total.attachments, 'attachment')}) "
                f"in {elapsed:.1f}s."
            )
        )
        self.stdout.write(self._space_report(before, purge.usage(), total))

    def _progress(self, done: Outcome, total: int) -> None:
        self.stdout.write(
            f"\r{done.traces:,}/{max(total, done.traces):,} traces, "
            f"{done.runs:,} runs deleted",
            ending="",
        )
        self.stdout.flush()

    def _space_report(
        self, before: purge.Usage, after: purge.Usage, done: Outcome
    ) -> str:
        if connection.vendor == "sqlite":
            return (
                f"Space: SQLite pages in use {megabytes(before.used_bytes)} -> "
                f"{megabytes(after.used_bytes)} "
                f"({megabytes(max(before.used_bytes - after.used_bytes, 0))} "
                "reclaimed into the free list, reused by new runs; the file stays "
                f"{megabytes(after.total_bytes)} until VACUUM)."
            )
        return (
            f"Space: {megabytes(done.row_bytes)} of run rows deleted "
            "(sum of pg_column_size), reusable once autovacuum has passed; "
            f"database {megabytes(after.total_bytes)} (pg_database_size; it "
            "shrinks only with VACUUM FULL)."
        )
