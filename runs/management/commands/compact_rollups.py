"""manage.py compact_rollups [--every SECONDS]: fold the statistics' deltas.

Ingestion appends one rollup delta per run write; summaries read faster once
they are folded (``runs.query.rollups``). A summary folds them itself when too
many wait, which after a busy hour costs that request seconds; this command
does it beforehand, once or every ``--every`` seconds (``dev.py serve`` runs it
beside the web server).
"""

from __future__ import annotations

import signal
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from runs.query import rollups


class Command(BaseCommand):
    help = "Fold the hourly statistics' deltas (once, or every --every seconds)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--every",
            type=float,
            default=0,
            metavar="SECONDS",
            help="Keep running, folding whenever deltas wait (0: once, then exit).",
        )

    def handle(self, *, every: float, **options: Any) -> None:
        if every <= 0:
            rollups.compact()
            self.stdout.write("Rollups folded.")
            return
        stopping: list[int] = []
        signal.signal(signal.SIGTERM, lambda signum, frame: stopping.append(signum))
        self.stdout.write(f"Folding rollups every {every:g}s (SIGTERM stops).")
        self.stdout.flush()
        while not stopping:
            close_old_connections()
            rollups.compact_if_needed()
            deadline = time.monotonic() + every
            while not stopping and time.monotonic() < deadline:
                time.sleep(min(0.5, every))
