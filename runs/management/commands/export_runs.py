"""manage.py export_runs: runs as JSONL, JSON or CSV, with the API's filters."""

from __future__ import annotations

import codecs
import time
import uuid
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q

from runs.dumpfiles import open_for_writing
from runs.export import stream_export
from runs.management.cli import TIME_FORMATS, parse_time, plural, unknown_project
from runs.models import Project, Run
from runs.query.filters import SINCE, InvalidFilter, filter_runs

# Command option -> RunFilter parameter. The filters themselves live in
# RunFilter only; this maps names and nothing else.
FILTER_OPTIONS = {
    "project": "project",
    "status": "status",
    "run_type": "run_type",
    "start_time_gte": "start_time_gte",
    "start_time_lte": "start_time_lte",
    "since": "since",
    "trace_ids": "trace_ids",
    "search": "search",
    "tags": "tags",
    "model": "model",
    "has_error": "has_error",
    "filter": "filter",
    "trace_filter": "trace_filter",
    "tree_filter": "tree_filter",
}
FORMATS = ("jsonl", "json", "csv")
PROGRESS_EVERY = 1 << 20  # bytes between progress lines


class Command(BaseCommand):
    help = (
        "Export runs as JSONL (one complete run per line, the format import_runs "
        "reads back), JSON or CSV, filtered like the API. Writes to --output "
        "(compressed when the name ends in .gz or .zst) or to stdout, streaming "
        "in constant memory."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=FORMATS, default="jsonl")
        parser.add_argument(
            "--output",
            "-o",
            help="File to write (.gz / .zst compress); stdout when absent or '-'.",
        )
        filters = parser.add_argument_group("filters (as in the API)")
        filters.add_argument("--project", help="Project name or id.")
        filters.add_argument(
            "--status",
            help="running, success, error, or stale (still running after "
            "STALE_AFTER_MINUTES).",
        )
        filters.add_argument("--run-type", help="chain, llm, tool, ...")
        filters.add_argument(
            "--start-time-gte",
            metavar="TIME",
            help=f"Started at or after: {TIME_FORMATS}.",
        )
        filters.add_argument(
            "--start-time-lte",
            metavar="TIME",
            help=f"Started at or before: {TIME_FORMATS}.",
        )
        filters.add_argument("--since", choices=list(SINCE), help="Recent window.")
        filters.add_argument(
            "--trace-ids", metavar="IDS", help="Comma-separated trace ids."
        )
        filters.add_argument("--search", help="Text in names, inputs, outputs, errors.")
        filters.add_argument("--tags", help="Comma-separated; all must be present.")
        filters.add_argument("--model", help="Traces with a run of this model.")
        filters.add_argument("--has-error", choices=["true", "false"])
        filters.add_argument(
            "--filter",
            metavar="EXPR",
            help='LangSmith filter language, e.g. \'and(eq(run_type, "llm"), '
            "gt(latency, 5))'.",
        )
        filters.add_argument(
            "--trace-filter", metavar="EXPR", help="Filter language on trace roots."
        )
        filters.add_argument(
            "--tree-filter",
            metavar="EXPR",
            help="Filter language on any run of a trace.",
        )

    def handle(self, *, format: str, output: str | None, **options: Any) -> None:
        queryset = self._queryset(options)
        total = queryset.count()
        to_stdout = output in (None, "-")
        started = time.monotonic()
        written = 0
        if to_stdout:
            decoder = codecs.getincrementaldecoder("utf-8")()
            for chunk in stream_export(queryset, format):
                self.stdout.write(decoder.decode(chunk), ending="")
                written += len(chunk)
            self.stdout.write(decoder.decode(b"", final=True), ending="")
        else:
            next_report = PROGRESS_EVERY
            try:
                stream = open_for_writing(output)
                with stream as out:
                    for chunk in stream_export(queryset, format):
                        out.write(chunk)
                        written += len(chunk)
                        if written >= next_report:
                            next_report += PROGRESS_EVERY
                            self._progress(written, started)
            except OSError as exc:
                raise CommandError(f"--output: cannot write {output!r}: {exc}") from exc
            self.stderr.write("\n" if written >= PROGRESS_EVERY else "", ending="")
        elapsed = max(time.monotonic() - started, 1e-9)
        self.stderr.write(
            self.style.SUCCESS(
                f"Exported {plural(total, 'run')} ({written / 1e6:,.1f} MB {format} "
                f"before compression) in {elapsed:.1f}s, {total / elapsed:,.0f} runs/s."
            )
        )

    def _progress(self, written: int, started: float) -> None:
        elapsed = time.monotonic() - started
        self.stderr.write(
            f"\r{written / 1e6:,.1f} MB written in {elapsed:.0f}s", ending=""
        )
        self.stderr.flush()

    def _queryset(self, options: dict[str, Any]) -> Any:
        params = {
            param: options[opt]
            for opt, param in FILTER_OPTIONS.items()
            if options.get(opt) not in (None, "")
        }
        for name in ("start_time_gte", "start_time_lte"):
            if name in params:
                option = f"--{name.replace('_', '-')}"
                params[name] = parse_time(params[name], option=option).isoformat()
        base = Run.objects.all()
        if params.get("status") == "stale":
            # Stale is derived from the time, not stored: see Run.stale_q.
            base = base.filter(Run.stale_q())
            del params["status"]
        project = params.get("project")
        if project and not Project.objects.filter(_by_name_or_id(project)).exists():
            raise CommandError(unknown_project([project]))
        try:
            return filter_runs(params, base)
        except InvalidFilter as exc:
            raise CommandError(
                "; ".join(
                    f"--{name.replace('_', '-')}: {' '.join(messages)}"
                    for name, messages in exc.errors.items()
                )
            ) from exc


def _by_name_or_id(value: str) -> Q:
    try:
        return Q(id=uuid.UUID(value)) | Q(name=value)
    except ValueError:
        return Q(name=value)
