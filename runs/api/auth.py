"""API keys: ``x-api-key`` (any case) or ``Authorization: Bearer``."""

from __future__ import annotations

import hmac
from typing import Any

from django.conf import settings
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.request import Request


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
        self, name: str, *, project: str | None = None, read_only: bool = False
    ) -> None:
        self.name = name
        self.project = project
        self.read_only = read_only


def check_env_key(key: str) -> ApiKey | None:
    for index, candidate in enumerate(settings.API_KEYS):
        if hmac.compare_digest(key.encode(), candidate.encode()):
            return ApiKey(f"env:{index}")
    return None


class ApiKeyAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[Any, ApiKey] | None:
        key = key_from_request(request)
        if key is None:
            return None
        identity = check_env_key(key)
        if identity is None:
            if settings.REQUIRE_AUTH:
                raise exceptions.AuthenticationFailed("Invalid API key.")
            return None
        return (None, identity)

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class ApiKeyRequired(BasePermission):
    message = "An API key is required (x-api-key header or Authorization: Bearer)."

    def has_permission(self, request: Request, view: Any) -> bool:
        if not settings.REQUIRE_AUTH:
            return True
        return isinstance(request.auth, ApiKey)


def project_scope(request: Request) -> str | None:
    """The project name a scoped key is limited to, or None for every project."""
    return getattr(request.auth, "project", None)


def limit_to_scope(
    request: Request, queryset: Any, field: str = "project__name"
) -> Any:
    """Restrict a read queryset to the caller's project when its key is scoped."""
    scope = project_scope(request)
    return queryset.filter(**{field: scope}) if scope else queryset
