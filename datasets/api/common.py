"""What the dataset views share: parameters, scope rule, error mapping."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

import orjson
from django.http import Http404
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from datasets.models import Dataset
from datasets.services import Conflict, Missing
from datasets.versions import UnknownVersion
from runs.api.auth import project_scope
from runs.ingest.normalize import InvalidField


class UnscopedKeysOnly(BasePermission):
    """Datasets belong to no project: a key scoped to one may not use them."""

    message = (
        "Datasets and experiments need an API key that is not scoped to one project."
    )

    def has_permission(self, request: Request, view: Any) -> bool:
        return project_scope(request) is None


class JSONParam(serializers.CharField):
    """A query parameter holding a JSON object (LangSmith's ``metadata``)."""

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        text = super().to_internal_value(data)
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError:
            raise serializers.ValidationError("expected a JSON object") from None
        if not isinstance(value, dict):
            raise serializers.ValidationError("expected a JSON object")
        return value


class Page(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=1000, default=100)
    offset = serializers.IntegerField(min_value=0, max_value=10**9, default=0)


def handled(view: Callable) -> Callable:
    """Map the services' errors to clear 4xx answers."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        try:
            return view(*args, **kwargs)
        except InvalidField as exc:
            raise exceptions.ValidationError({exc.field: [exc.message]}) from None
        except UnknownVersion as exc:
            raise exceptions.ValidationError({"as_of": [str(exc)]}) from None
        except Conflict as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        except Missing as exc:
            return Response(
                {"detail": str(exc), "missing": exc.ids},
                status=status.HTTP_404_NOT_FOUND,
            )

    return wrapper


def dataset_or_404(pk: uuid.UUID | str) -> Dataset:
    dataset = Dataset.objects.filter(pk=pk).first()
    if dataset is None:
        # The SDK tells a missing dataset from a missing route by these words.
        raise Http404(f"Dataset not found: {pk}")
    return dataset


def query_list(request: Request, name: str) -> list[str]:
    """A repeatable parameter, also accepting ``name=a,b`` is not done: ids
    and splits are sent one per parameter by the SDK."""
    return [v for v in request.query_params.getlist(name) if v != ""]


def validated(serializer_class: type[serializers.Serializer], data: Any) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
