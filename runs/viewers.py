"""Dashboard viewers: people who may read traces, but change nothing.

A viewer is a Django user in the ``Viewers`` group (view permissions on runs,
projects, feedback and attachments), neither staff nor superuser: the
dashboard and the API's read routes let them in (with a session login), the
admin does not. A viewer given a project (``ViewerScope``) reads only that
project, as a project-scoped API key does; ``viewer_project`` is the one
place that rule is decided.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction

from runs.models import Project, ViewerScope

VIEWERS_GROUP = "Viewers"
VIEWED_MODELS = ("run", "project", "feedback", "attachment")


def viewers_group() -> Group:
    """The group, with exactly the view permissions (made on first use)."""
    group, _ = Group.objects.get_or_create(name=VIEWERS_GROUP)
    wanted = Permission.objects.filter(
        content_type__app_label="runs",
        codename__in=[f"view_{model}" for model in VIEWED_MODELS],
    )
    group.permissions.set(wanted)
    return group


def is_viewer(user: Any) -> bool:
    return bool(
        user is not None
        and user.is_authenticated
        and user.groups.filter(name=VIEWERS_GROUP).exists()
    )


def can_read(user: Any) -> bool:
    """May this logged-in user read the dashboard and the API's read routes?"""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return user.is_staff or user.is_superuser or is_viewer(user)


def may_manage(user: Any) -> bool:
    """May this visitor rename or delete what the team shares (annotation
    queues)? Staff may, viewers may not; with login off, any other visitor may."""
    if user is not None and user.is_authenticated and user.is_staff:
        return True
    return not is_viewer(user)


def viewer_project(user: Any) -> Project | None:
    """The project a viewer is limited to; None means every project.

    Staff are never limited. The dashboard and the API route their project
    limit through here (as ``runs.api.auth.project_scope`` does for keys).
    """
    if user is None or not user.is_authenticated or user.is_staff:
        return None
    scope = ViewerScope.objects.select_related("project").filter(user=user).first()
    return scope.project if scope else None


@dataclass(frozen=True)
class NewViewer:
    user: Any
    password: str | None  # set when the account was created here; shown once


@transaction.atomic
def make_viewer(user: Any, *, project: Project | None = None) -> None:
    """Give an existing user read access (and only that) to the dashboard."""
    user.groups.add(viewers_group())
    if project is None:
        ViewerScope.objects.filter(user=user).delete()
    else:
        ViewerScope.objects.update_or_create(user=user, defaults={"project": project})


@transaction.atomic
def create_viewer(
    *, username: str, email: str = "", project: Project | None = None
) -> NewViewer:
    """A new viewer account with a random password, or an existing user made one."""
    users = get_user_model()
    user = users.objects.filter(username=username).first()
    password = None
    if user is None:
        password = secrets.token_urlsafe(12)
        user = users.objects.create_user(
            username=username, email=email, password=password
        )
    make_viewer(user, project=project)
    return NewViewer(user=user, password=password)
