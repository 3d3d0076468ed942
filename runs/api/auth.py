"""API keys: ``x-api-key`` (any case) or ``Authorization: Bearer``.

Two sources of keys: the ``API_KEYS`` environment variable (unscoped,
read-write) and keys created with ``manage.py create_api_key`` (stored hashed,
optionally scoped to one project and/or read-only). With ``REQUIRE_AUTH`` off a
valid key still carries its scope; an unknown key is ignored.
"""

from __future__ import annotations

import hmac
import uuid
from typing import Any

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from runs.access import Access, access_of
from runs.apikeys import find_active_key
from runs.ingest.batch import Batch
from runs.viewers import can_read


def key_from_request(request: Any) -> str | None:
    meta = request.META
    key = meta.get("HTTP_X_API_KEY")
    if key:
        return key.strip()
    auth = meta.get("HTTP_AUTHORIZATION", "")
    scheme, _, token = auth.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


class ApiKey:
    """The identity of a caller that presented a valid key."""

    def __init__(
        self,
        name: str,
        *,
        project: str | None = None,
        project_id: uuid.UUID | None = None,
        read_only: bool = False,
    ) -> None:
        self.name = name
        self.project = project
        self.project_id = project_id
        self.read_only = read_only

    def __repr__(self) -> str:
        return f"<ApiKey {self.name} project={self.project} ro={self.read_only}>"

    @property
    def access(self) -> Access:
        """What this key may read and write (``runs.access``)."""
        return Access(self.project, self.project_id, read_only=self.read_only)

    def project_guard(
        self, name: str | None, project_id: uuid.UUID | None
    ) -> str | None:
        """Why this key may not write a run to that project, or None if it may."""
        return self.access.project_denial(name, project_id)


def check_env_key(key: str) -> ApiKey | None:
    for index, candidate in enumerate(settings.API_KEYS):
        if hmac.compare_digest(key.encode(), candidate.encode()):
            return ApiKey(f"env:{index}")
    return None


def identify(key: str) -> ApiKey | None:
    """The identity behind a key value: environment keys first, then stored keys."""
    identity = check_env_key(key)
    if identity is not None:
        return identity
    stored = find_active_key(key)
    if stored is None:
        return None
    return ApiKey(
        stored.name,
        project=stored.project.name if stored.project else None,
        project_id=stored.project_id,
        read_only=stored.read_only,
    )


class ApiKeyAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[Any, ApiKey] | None:
        key = key_from_request(request)
        if key is None:
            return None
        identity = identify(key)
        if identity is None:
            if settings.REQUIRE_AUTH:
                raise exceptions.AuthenticationFailed("Invalid API key.")
            return None
        return (None, identity)

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """The two header forms in the OpenAPI document (either one is enough)."""

    target_class = ApiKeyAuthentication
    name = ["ApiKeyHeader", "BearerKey"]

    def get_security_definition(self, auto_schema: Any) -> list[dict[str, str]]:
        return [
            {"type": "apiKey", "in": "header", "name": "x-api-key"},
            {"type": "http", "scheme": "bearer"},
        ]


class ApiKeyRequired(BasePermission):
    """A key when REQUIRE_AUTH is on; read-only keys only read.

    A view that answers a read through POST (a query endpoint) sets
    ``read_only_safe = True`` to let read-only keys call it.
    """

    message = "An API key is required (x-api-key header or Authorization: Bearer)."

    def has_permission(self, request: Request, view: Any) -> bool:
        identity = request.auth
        if isinstance(identity, ApiKey) and request.method not in SAFE_METHODS:
            if identity.read_only and not getattr(view, "read_only_safe", False):
                raise exceptions.PermissionDenied(
                    "This API key is read-only; it cannot ingest or change data."
                )
            if identity.project is not None:
                _default_to_scope(request, identity.project)
        if not settings.REQUIRE_AUTH:
            return True
        if isinstance(identity, ApiKey):
            return True
        return _signed_in_may(request, view)


def _signed_in_may(request: Request, view: Any) -> bool:
    """A dashboard login (session) may read; only staff may also write."""
    user = getattr(request, "user", None)
    if not can_read(user):
        return False
    if request.method in SAFE_METHODS or getattr(view, "read_only_safe", False):
        return True
    return user.is_staff


def _default_to_scope(request: Request, project: str) -> None:
    """Runs without a project sent with a scoped key go to the key's project."""
    data = request.data  # parsed here once; the view reads the same object
    if isinstance(data, Batch):
        data.default_project = project


def project_scope(request: Request) -> str | None:
    """The project name a scoped key is limited to, or None for every project."""
    return access_of(request).project


def limit_to_scope(
    request: Request, queryset: Any, field: str = "project__name"
) -> Any:
    """Restrict a read queryset to what the caller may see (``runs.access``)."""
    return access_of(request).limit(queryset, field)
