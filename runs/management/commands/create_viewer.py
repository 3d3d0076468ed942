"""manage.py create_viewer NAME [--email E] [--project P]"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from runs.management.cli import unknown_project
from runs.models import Project
from runs.viewers import create_viewer


class Command(BaseCommand):
    help = (
        "Invite a read-only viewer: a user who may sign in at /login/ and read "
        "every dashboard page and the API's read routes, but no admin page. "
        "A new account's password is printed once, alone on stdout; an existing "
        "user keeps theirs and becomes a viewer."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="The user name to sign in with.")
        parser.add_argument("--email", default="", help="The viewer's email.")
        parser.add_argument(
            "--project",
            help="Only this project (as a project-scoped API key); every "
            "project when absent.",
        )

    def handle(
        self, *, name: str, email: str, project: str | None, **options: Any
    ) -> None:
        name = name.strip()
        if not name:
            raise CommandError("A viewer needs a non-empty name.")
        scope = None
        if project is not None:
            scope = Project.objects.filter(name=project.strip()).first()
            if scope is None:
                raise CommandError(unknown_project([project]))
        new = create_viewer(username=name, email=email, project=scope)
        where = f"project {scope.name!r}" if scope else "every project"
        if new.password is None:
            self.stderr.write(
                self.style.SUCCESS(f"{name!r} is now a viewer of {where}.")
            )
            return
        self.stderr.write(
            self.style.SUCCESS(
                f"Created viewer {name!r} ({where}). Sign in at /login/ with the "
                "password below (shown once; change it with: python3 dev.py manage "
                f"changepassword {name})."
            )
        )
        self.stdout.write(new.password)
