"""``manage.py evaluate_alerts``: evaluate every enabled alert rule once.

``--loop --interval N`` keeps doing it every N seconds as a long-running
process; SIGTERM or SIGINT lets the pass in progress finish, then exits.
"""

from __future__ import annotations

import signal
import threading
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections

from alerts.services import evaluate_rules


class Command(BaseCommand):
    help = "Evaluate the enabled alert rules and send their webhook notifications."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--loop", action="store_true", help="keep evaluating every --interval"
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=60.0,
            help="seconds between passes with --loop (default 60)",
        )

    def handle(self, *, loop: bool, interval: float, **options: Any) -> None:
        if interval <= 0:
            raise CommandError("--interval must be a positive number of seconds.")
        if not loop:
            self._pass()
            return
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        self.stdout.write(f"Evaluating alert rules every {interval:g}s")
        self.stdout.flush()
        while not stop.is_set():
            began = time.monotonic()
            try:
                self._pass()
            except Exception as exc:  # a database hiccup must not end the loop
                self.stderr.write(f"evaluation pass failed: {exc!r}")
            finally:
                close_old_connections()
            stop.wait(max(0.0, interval - (time.monotonic() - began)))
        self.stdout.write(self.style.SUCCESS("Alert evaluation stopped."))

    def _pass(self) -> None:
        evaluations = evaluate_rules()
        changed = [e for e in evaluations if e.event]
        for evaluation in changed:
            delivery = evaluation.delivery
            self.stdout.write(
                f"rule {evaluation.rule_id} {evaluation.event}: value "
                f"{evaluation.value}; delivery {delivery.status} after "
                f"{delivery.attempt_count} attempt(s)"
            )
        self.stdout.write(
            f"{len(evaluations)} rule(s) evaluated, {len(changed)} notification(s)"
        )
        self.stdout.flush()
