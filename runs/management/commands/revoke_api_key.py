"""manage.py revoke_api_key NAME_OR_PREFIX [--all] [--dry-run]"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from runs.apikeys import ApiKeyError, keys_to_revoke, revoke_api_keys


class Command(BaseCommand):
    help = (
        "Revoke an API key by its name or by the start of the key (its prefix, "
        "as list_api_keys shows it). Revoked keys are refused at once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("key", help="The key's name, or its first characters.")
        parser.add_argument(
            "--all",
            action="store_true",
            dest="allow_many",
            help="Revoke every active key matching (several keys may share a name).",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Show what the same command without --dry-run would revoke.",
        )

    def handle(
        self, *, key: str, allow_many: bool, dry_run: bool, **options: Any
    ) -> None:
        # A dry run goes through the same checks, so it refuses what the real
        # run refuses (several keys matching without --all, say).
        action = keys_to_revoke if dry_run else revoke_api_keys
        try:
            keys = action(name_or_prefix=key, allow_many=allow_many)
        except ApiKeyError as exc:
            raise CommandError(str(exc)) from exc
        if dry_run:
            for api_key in keys:
                self.stdout.write(f"Would revoke {api_key.name} ({api_key.prefix}…)")
            return
        revoked = keys
        for api_key in revoked:
            self.stdout.write(
                self.style.SUCCESS(f"Revoked {api_key.name} ({api_key.prefix}…)")
            )
