"""manage.py create_api_key NAME [--project P] [--read-only]"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from runs.apikeys import ApiKeyError, create_api_key


class Command(BaseCommand):
    help = (
        "Create an API key and print it once (only its SHA-256 digest is stored). "
        "Send it as the x-api-key header or as Authorization: Bearer."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="A label to tell the key apart, e.g. ci-bot.")
        parser.add_argument(
            "--project",
            help="Scope the key to this project (created if missing): it then "
            "writes and reads only that project.",
        )
        parser.add_argument(
            "--read-only",
            action="store_true",
            help="The key may read but not ingest or change data.",
        )

    def handle(
        self, *, name: str, project: str | None, read_only: bool, **options: Any
    ) -> None:
        try:
            new = create_api_key(name=name, project=project, read_only=read_only)
        except ApiKeyError as exc:
            raise CommandError(str(exc)) from exc
        if new.project_created:
            self.stderr.write(f"Created project {project!r}.")
        scope = f"project {new.api_key.project.name!r}" if project else "all projects"
        mode = "read-only" if read_only else "read-write"
        self.stderr.write(
            self.style.SUCCESS(
                f"Created API key {new.api_key.name!r} ({mode}, {scope}). "
                "Store it now: it cannot be shown again."
            )
        )
        # The key alone on stdout, so scripts can capture it.
        self.stdout.write(new.key)
