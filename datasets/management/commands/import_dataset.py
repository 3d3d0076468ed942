"""Create (or extend) a dataset from a JSONL or CSV file."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from datasets import services
from datasets.models import Dataset
from datasets.wire import csv_examples, jsonl_examples
from runs.ingest.normalize import InvalidField

BATCH = 1000


class Command(BaseCommand):
    help = (
        "Import examples into a dataset (created if missing) from JSONL "
        '({"inputs", "outputs"?, "metadata"?, "split"?} per line) or CSV '
        "(--input-keys/--output-keys name the columns)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("dataset", help="Dataset name.")
        parser.add_argument("file", help="A .jsonl or .csv file.")
        parser.add_argument("--format", choices=["jsonl", "csv"], default=None)
        parser.add_argument("--input-keys", default="", help="CSV: comma-separated.")
        parser.add_argument("--output-keys", default="", help="CSV: comma-separated.")
        parser.add_argument("--description", default="")
        parser.add_argument(
            "--keep-ids",
            action="store_true",
            help="Keep the file's example ids (to restore a dataset elsewhere).",
        )

    def handle(
        self,
        *,
        dataset: str,
        file: str,
        format: str | None,
        input_keys: str,
        output_keys: str,
        description: str,
        keep_ids: bool,
        **options: Any,
    ) -> None:
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No file {file}.")
        kind = format or ("csv" if path.suffix.lower() == ".csv" else "jsonl")
        try:
            if kind == "csv":
                inputs = [k.strip() for k in input_keys.split(",") if k.strip()]
                if not inputs:
                    raise CommandError("CSV needs --input-keys.")
                outputs = [k.strip() for k in output_keys.split(",") if k.strip()]
                examples = csv_examples(path.read_bytes(), inputs, outputs)
            else:
                with path.open("rb") as lines:
                    examples = jsonl_examples(lines)
        except InvalidField as exc:
            raise CommandError(f"{exc.field}: {exc.message}") from None
        if not keep_ids:
            # An exported file re-imported beside its source gets new ids.
            for example in examples:
                example.id = uuid.uuid4()
        target = Dataset.objects.filter(name=dataset).first()
        if target is None:
            target = services.create_dataset(name=dataset, description=description)
        for start in range(0, len(examples), BATCH):
            try:
                services.create_examples(target, examples[start : start + BATCH])
            except services.Conflict as exc:
                raise CommandError(str(exc)) from None
            self.stdout.write(
                f"\r{min(start + BATCH, len(examples))}/{len(examples)}", ending=""
            )
        self.stdout.write("")
        self.stdout.write(
            self.style.SUCCESS(f"Imported {len(examples)} examples into {target.name}.")
        )
