"""manage.py create_api_key NAME [--project P [--create-project]] [--read-only]"""

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from runs.apikeys import ApiKeyError, UnknownProject, create_api_key
from runs.management.cli import unknown_project


class Command(BaseCommand):
    help = (
        "Create an API key and print it once (only its SHA-256 digest is stored). "
        "Send it as the x-api-key header or as Authorization: Bearer."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="A label to tell the key apart, e.g. ci-bot.")
        parser.add_argument(
            "--project",
            help="Scope the key to this project: it then writes and reads only "
            "that project. A project that does not exist is created only after "
            "you confirm (or with --create-project).",
        )
        parser.add_argument(
            "--create-project",
            action="store_true",
            help="Create the --project if it does not exist, without asking.",
        )
        parser.add_argument(
            "--read-only",
            action="store_true",
            help="The key may read but not ingest or change data.",
        )

    def handle(
        self,
        *,
        name: str,
        project: str | None,
        read_only: bool,
        create_project: bool,
        **options: Any,
    ) -> None:
        try:
            try:
                new = create_api_key(
                    name=name,
                    project=project,
                    read_only=read_only,
                    create_project=create_project,
                )
            except UnknownProject as exc:
                if not self._confirm_new_project(exc.name):
                    raise CommandError(
                        f"{unknown_project([exc.name])} Check the name, or pass "
                        "--create-project to create it."
                    ) from exc
                new = create_api_key(
                    name=name, project=project, read_only=read_only, create_project=True
                )
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

    def _confirm_new_project(self, project: str) -> bool:
        """Ask on a terminal; without one (scripts) the answer is no."""
        if not sys.stdin.isatty():
            return False
        self.stderr.write(
            f"Project {project!r} does not exist. Create it? [y/N] ", ending=""
        )
        self.stderr.flush()
        return input().strip().lower() in ("y", "yes")
