"""manage.py list_api_keys [--all]"""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from runs.models import ApiKey


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"


class Command(BaseCommand):
    help = "List API keys stored in the database (never the keys themselves)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--all",
            action="store_true",
            dest="include_revoked",
            help="Include revoked keys.",
        )

    def handle(self, *, include_revoked: bool, **options: Any) -> None:
        keys = ApiKey.objects.select_related("project").order_by("created_at")
        if not include_revoked:
            keys = keys.filter(revoked_at__isnull=True)
        rows = [("NAME", "PREFIX", "PROJECT", "ACCESS", "CREATED", "LAST USED")]
        if include_revoked:
            rows[0] += ("REVOKED",)
        for key in keys:
            row = (
                key.name,
                key.prefix + "…",
                key.project.name if key.project else "*",
                "read-only" if key.read_only else "read-write",
                _when(key.created_at),
                _when(key.last_used_at),
            )
            rows.append(row + ((_when(key.revoked_at),) if include_revoked else ()))
        if len(rows) == 1:
            self.stdout.write(
                "No API keys." if include_revoked else "No active API keys."
            )
            return
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        for row in rows:
            line = "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True))
            self.stdout.write(line.rstrip())
