"""Who may see and write what: the one project-isolation rule of Agent Spy.

A caller is an ``Access``. An API key scoped to a project (``manage.py
create_api_key --project``) gives an ``Access`` limited to that project; every
other caller (an unscoped key, no key with ``REQUIRE_AUTH`` off, a Django login
on the dashboard or the admin, a ``manage.py`` command) gets ``EVERYTHING``.

The rule, for a scoped ``Access``:

* reads see the project's runs, the project itself, feedback filed under the
  project (or under none, on one of its runs) and attachments of its runs;
  anything else does not exist (the API answers 404, lists leave it out);
* writes may create runs only in the project, and may change a stored run,
  feedback or attachment only if it is stored in the project, whatever project
  the write names: it is the stored row that decides. A refused item is
  rejected on its own (403 naming it); the request's other items are stored.

Every read route limits its querysets through ``runs``/``projects``/
``feedback``/``attachments`` (or ``limit``); the ingest service asks
``project_denial``, ``stored_denial`` and ``foreign_runs`` for every item of
every wire format.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from django.db.models import Q, QuerySet

from runs.models import Attachment, Feedback, Project, Run

READ_ONLY = "This API key is read-only."


class Access:
    """What one caller may read and write (see the module's rule)."""

    def __init__(
        self,
        project: str | None = None,
        project_id: uuid.UUID | None = None,
        *,
        read_only: bool = False,
    ) -> None:
        self.project = project
        self._project_id = project_id
        self.read_only = read_only

    @property
    def project_id(self) -> uuid.UUID | None:
        """The scope's project id (looked up once when only its name was given)."""
        if self._project_id is None and self.project is not None:
            found = Project.objects.filter(name=self.project).values_list(
                "id", flat=True
            )
            # A project that does not exist yet holds nothing to see.
            self._project_id = found.first() or uuid.UUID(int=0)
        return self._project_id

    def __repr__(self) -> str:
        return f"<Access project={self.project!r} read_only={self.read_only}>"

    @property
    def scoped(self) -> bool:
        return self.project is not None

    # Reads -----------------------------------------------------------------

    def limit(self, queryset: QuerySet, field: str = "project__name") -> QuerySet:
        """Limit any queryset whose ``field`` names a run's project.

        ``field`` is a project-name lookup ("name" on projects,
        "project__name" on runs); the filter uses the id behind it, so a
        renamed project stays the key's project.
        """
        if not self.scoped:
            return queryset
        if field == "name":
            return queryset.filter(id=self.project_id)
        if field.endswith("__name"):
            return queryset.filter(**{f"{field[: -len('__name')]}_id": self.project_id})
        return queryset.filter(**{field: self.project})

    def runs(self, queryset: QuerySet | None = None) -> QuerySet:
        base = Run.objects.all() if queryset is None else queryset
        return base.filter(project_id=self.project_id) if self.scoped else base

    def projects(self, queryset: QuerySet | None = None) -> QuerySet:
        base = Project.objects.all() if queryset is None else queryset
        return base.filter(id=self.project_id) if self.scoped else base

    def feedback(self, queryset: QuerySet | None = None) -> QuerySet:
        base = Feedback.objects.all() if queryset is None else queryset
        if not self.scoped:
            return base
        return base.filter(
            Q(session_id=self.project_id)
            | Q(session_id__isnull=True, run_id__in=self.runs().values("id"))
        )

    def attachments(self, queryset: QuerySet | None = None) -> QuerySet:
        base = Attachment.objects.all() if queryset is None else queryset
        if not self.scoped:
            return base
        return base.filter(run_id__in=self.runs().values("id"))

    # Writes ----------------------------------------------------------------

    def project_denial(
        self, name: str | None, project_id: uuid.UUID | None
    ) -> str | None:
        """Why this caller may not write into that project, or None."""
        if self.read_only:
            return READ_ONLY
        if not self.scoped:
            return None
        if project_id is not None:
            if project_id == self.project_id:
                return None
        elif name == self.project:
            return None
        return f"This API key may only write to project {self.project!r}."

    # ``ProjectGuard`` shape, kept for callers of ``ingest(project_guard=...)``.
    __call__ = project_denial

    def stored_denial(self, project_id: uuid.UUID | None) -> str | None:
        """Why this caller may not change a row stored in that project, or None."""
        if self.read_only:
            return READ_ONLY
        if not self.scoped or project_id == self.project_id:
            return None
        return f"This run belongs to another project than {self.project!r}."

    def foreign_runs(self, run_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
        """The runs among these that are stored outside this caller's reach."""
        ids = set(run_ids)
        if not self.scoped or not ids:
            return set()
        return set(
            Run.objects.filter(id__in=ids)
            .exclude(project_id=self.project_id)
            .values_list("id", flat=True)
        )

    def foreign_feedback(self, feedback_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
        """Stored feedback among these ids that this caller may not overwrite."""
        ids = set(feedback_ids)
        if not self.scoped or not ids:
            return set()
        stored = set(Feedback.objects.filter(id__in=ids).values_list("id", flat=True))
        visible = set(
            self.feedback().filter(id__in=stored).values_list("id", flat=True)
        )
        return stored - visible


EVERYTHING = Access()


def access_of(request: Any) -> Access:
    """The ``Access`` of a request: its API key's, or everything.

    A DRF request carries the key's identity in ``request.auth``; a viewer
    signed in with a project limit (``runs.viewers``) sees that project; any
    other dashboard or admin login is an operator's and sees every project.
    """
    identity = getattr(request, "auth", None)
    access = getattr(identity, "access", None)
    if isinstance(access, Access):
        return access
    # A dashboard viewer given one project reads it as a scoped key would.
    from runs.viewers import viewer_project  # runs.viewers imports the models

    project = viewer_project(getattr(request, "user", None))
    if project is not None:
        return Access(project.name, project.id, read_only=True)
    return EVERYTHING
