"""API keys kept in the database: creation, hashing, lookup and revocation.

A key is 32 random bytes (URL-safe base64) behind a recognisable ``as_``
prefix. Only its SHA-256 digest is stored: the keys are random and long, so a
slow password hash would buy nothing and cost every request. The first
characters are kept in clear as ``prefix`` so an operator can tell keys apart.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from runs.models import ApiKey, Project

KEY_PREFIX = "as_"
PREFIX_LENGTH = 12
# last_used_at is written at most this often per key, keeping the hot path to
# one indexed read for almost every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class ApiKeyError(ValueError):
    """A key operation that cannot be carried out as asked."""


class UnknownProject(ApiKeyError):
    """The scope project does not exist (and creating it was not asked for)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"unknown project {name!r}.")
        self.name = name


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def generate_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


@dataclass(frozen=True)
class NewKey:
    api_key: ApiKey
    key: str  # shown once, never stored
    project_created: bool


def create_api_key(
    *,
    name: str,
    project: str | None = None,
    read_only: bool = False,
    create_project: bool = True,
) -> NewKey:
    """Create a key; a missing scope project is created only if ``create_project``.

    ``create_api_key`` (the command) asks first: a typo in a project name would
    otherwise leave a key scoped to an empty project, and the project behind
    after the key is revoked.
    """
    name = name.strip()[:255]
    if not name:
        raise ApiKeyError("A key needs a non-empty name.")
    taken = ApiKey.objects.filter(name=name, revoked_at__isnull=True).first()
    if taken is not None:
        raise ApiKeyError(
            f"An active API key is already named {name!r} ({taken.prefix}…): "
            "choose another name, or revoke that key first."
        )
    project_obj = None
    created = False
    if project is not None:
        project = project.strip()
        if not project:
            raise ApiKeyError("--project must not be empty.")
        project_obj = Project.objects.filter(name=project).first()
        if project_obj is None:
            if not create_project:
                raise UnknownProject(project)
            project_obj, created = Project.objects.get_or_create(name=project)
    key = generate_key()
    api_key = ApiKey.objects.create(
        name=name,
        prefix=key[:PREFIX_LENGTH],
        key_hash=hash_key(key),
        project=project_obj,
        read_only=read_only,
    )
    return NewKey(api_key=api_key, key=key, project_created=created)


def find_active_key(key: str) -> ApiKey | None:
    """The active key with this value, with last use recorded (at most per minute)."""
    api_key = (
        ApiKey.objects.select_related("project")
        .filter(key_hash=hash_key(key), revoked_at__isnull=True)
        .first()
    )
    if api_key is None:
        return None
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at >= (
        LAST_USED_RESOLUTION
    ):
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
    return api_key


def matching_keys(name_or_prefix: str) -> list[ApiKey]:
    """Active keys whose name is, or whose prefix starts, the given text."""
    text = name_or_prefix.strip()
    if not text:
        return []
    query = Q(name=text)
    if len(text) >= len(KEY_PREFIX) + 4:
        # A prefix must be long enough not to match every key by accident.
        query |= Q(prefix__startswith=text[:PREFIX_LENGTH])
    return list(
        ApiKey.objects.filter(query, revoked_at__isnull=True).select_related("project")
    )


def keys_to_revoke(*, name_or_prefix: str, allow_many: bool = False) -> list[ApiKey]:
    """The keys ``revoke_api_keys`` would revoke, or the error it would raise."""
    keys = matching_keys(name_or_prefix)
    if not keys:
        raise ApiKeyError(f"No active API key is named or prefixed {name_or_prefix!r}.")
    if len(keys) > 1 and not allow_many:
        listed = ", ".join(f"{k.name} ({k.prefix}…)" for k in keys)
        raise ApiKeyError(
            f"{len(keys)} active keys match {name_or_prefix!r}: {listed}. "
            "Give a longer prefix or pass --all."
        )
    return keys


def revoke_api_keys(*, name_or_prefix: str, allow_many: bool = False) -> list[ApiKey]:
    """Revoke the key(s) matching; several matches need ``allow_many``."""
    keys = keys_to_revoke(name_or_prefix=name_or_prefix, allow_many=allow_many)
    now = timezone.now()
    ApiKey.objects.filter(pk__in=[k.pk for k in keys]).update(revoked_at=now)
    for key in keys:
        key.revoked_at = now
    return keys
