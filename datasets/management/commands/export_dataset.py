"""Write a dataset's examples (current, or as of a version) as JSONL or CSV."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from datasets.models import Dataset
from datasets.selectors import example_to_dict, examples_at
from datasets.versions import UnknownVersion, resolve_as_of
from datasets.wire import to_csv, to_jsonl


class Command(BaseCommand):
    help = "Export a dataset's examples as JSONL (default) or CSV."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("dataset", help="Dataset name or id.")
        parser.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
        parser.add_argument("--output", "-o", default="-", help="File (- = stdout).")
        parser.add_argument("--as-of", default=None, help="ISO time or tag.")

    def handle(
        self,
        *,
        dataset: str,
        format: str,
        output: str,
        as_of: str | None,
        **options: Any,
    ) -> None:
        found = _find(dataset)
        try:
            when = resolve_as_of(found.pk, as_of)
        except UnknownVersion as exc:
            raise CommandError(str(exc)) from None
        rows = (
            example_to_dict(e)
            for e in examples_at(dataset_id=found.pk, when=when).iterator(
                chunk_size=500
            )
        )
        count = 0
        target = sys.stdout.buffer if output == "-" else open(output, "wb")  # noqa: SIM115
        try:
            chunks = (
                to_jsonl(rows)
                if format == "jsonl"
                else (s.encode() for s in to_csv(rows))
            )
            for chunk in chunks:
                target.write(chunk)
                count += 1
        finally:
            if output != "-":
                target.close()
        lines = count if format == "jsonl" else max(count - 1, 0)
        self.stderr.write(
            self.style.SUCCESS(f"Exported {lines} examples of {found.name}.")
        )


def _find(value: str) -> Dataset:
    found = Dataset.objects.filter(name=value).first()
    if found is None:
        try:
            found = Dataset.objects.filter(pk=value).first()
        except Exception:  # noqa: BLE001 - not a UUID
            found = None
    if found is None:
        raise CommandError(f"No dataset named or with id {value!r}.")
    return found
