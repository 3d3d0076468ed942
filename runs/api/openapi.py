"""The OpenAPI document tells the truth: parameter types, bounds, errors, auth.

``params_of``/``filter_params`` describe query parameters from the serializer
or filter that validates them (types, enums, bounds), and ``postprocess`` (a
drf-spectacular hook) fixes what the generator cannot know: either header
authenticates (alternatives, none needed with ``REQUIRE_AUTH`` off), the
errors every route can answer, and the export's three media types.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.conf import settings
from drf_spectacular.plumbing import build_array_type, build_basic_type
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

ERROR = {
    "description": "An error; `detail` (or one key per bad field) says what.",
    "content": {"application/json": {"schema": {"type": "object"}}},
}
ERROR_STATUSES = {
    "400": "The request is malformed or a parameter is invalid.",
    "401": "An API key is required, or the key is wrong or revoked.",
    "403": "This API key may not do this (read-only, or another project).",
    "404": "No such route or object (for this key).",
    "413": "The body or its item count is over the limit.",
}


def _serializer_schema(field: serializers.Field) -> dict[str, Any]:
    if isinstance(field, serializers.BooleanField):
        return {"type": "boolean"}
    if isinstance(field, serializers.IntegerField):
        schema: dict[str, Any] = {"type": "integer"}
        if field.min_value is not None:
            schema["minimum"] = field.min_value
        if field.max_value is not None:
            schema["maximum"] = field.max_value
        return schema
    if isinstance(field, serializers.ChoiceField):
        return {"type": "string", "enum": list(field.choices)}
    if isinstance(field, serializers.ListField):
        return {"type": "array", "items": _serializer_schema(field.child)}
    if isinstance(field, serializers.UUIDField):
        return {"type": "string", "format": "uuid"}
    schema = {"type": "string"}
    if getattr(field, "max_length", None):
        schema["maxLength"] = field.max_length
    return schema


def params_of(serializer_class: type[serializers.Serializer]) -> list[OpenApiParameter]:
    """Query parameters of a serializer, typed and bounded as it validates them."""
    params = []
    for name, field in serializer_class().fields.items():
        schema = _serializer_schema(field)
        params.append(
            OpenApiParameter(
                name,
                schema,
                description=str(field.help_text or ""),
                explode=True if schema["type"] == "array" else None,
            )
        )
    return params


def _filter_schema(flt: django_filters.Filter) -> dict[str, Any]:
    choices = flt.extra.get("choices")
    if choices:
        return {"type": "string", "enum": [value for value, _ in choices]}
    if isinstance(flt, django_filters.IsoDateTimeFilter):
        return {"type": "string", "format": "date-time"}
    if isinstance(flt, django_filters.NumberFilter):
        schema: dict[str, Any] = {"type": "number"}
        if "min_value" in flt.extra:
            schema["minimum"] = flt.extra["min_value"]
        if "max_value" in flt.extra:
            schema["maximum"] = flt.extra["max_value"]
        return schema
    field_class = getattr(flt, "field_class", None)
    if field_class is not None and field_class.__name__ == "StrictBooleanField":
        return {"type": "boolean"}
    schema = {"type": "string"}
    if "max_length" in flt.extra:
        schema["maxLength"] = flt.extra["max_length"]
    return schema


def filter_params(filterset_class: type) -> list[OpenApiParameter]:
    """The filters of a FilterSet as typed OpenAPI query parameters."""
    return [
        OpenApiParameter(
            name,
            _filter_schema(flt),
            description=str(flt.extra.get("help_text") or ""),
        )
        for name, flt in filterset_class.base_filters.items()
    ]


def _security(operation: dict[str, Any]) -> None:
    """Each scheme is an alternative; with REQUIRE_AUTH off none is needed."""
    alternatives: list[dict[str, list]] = []
    for requirement in operation.get("security", []):
        if not requirement:
            continue
        alternatives.extend({name: scopes} for name, scopes in requirement.items())
    if not alternatives:
        return
    if not settings.REQUIRE_AUTH:
        alternatives.append({})
    operation["security"] = alternatives


def _errors(path: str, method: str, operation: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    secured = any(operation.get("security", []))
    for status, description in ERROR_STATUSES.items():
        if status in ("401", "403") and not secured:
            continue
        if status in responses:
            continue
        responses[status] = {**ERROR, "description": description}


def _export(operation: dict[str, Any]) -> None:
    operation["responses"]["200"] = {
        "description": "The runs, streamed in the chosen format.",
        "content": {
            "application/x-ndjson": {"schema": {"type": "string"}},
            "application/json": {
                "schema": {"type": "array", "items": {"type": "object"}}
            },
            "text/csv": {"schema": {"type": "string"}},
        },
    }


def _tags(path: str, operation: dict[str, Any]) -> None:
    """Tags by resource for the routes the path prefix cannot name.

    The LangSmith v2 API lives outside the API prefix (its first segment would
    tag it "api"); the platform example routes belong to datasets.
    """
    if path.startswith("/api/v2/"):
        operation["tags"] = ["v2"]
    elif "/platform/datasets/" in path:
        operation["tags"] = ["datasets"]


def postprocess(result: dict[str, Any], generator: Any, **kwargs: Any) -> dict:
    """drf-spectacular postprocessing hook (see SPECTACULAR_SETTINGS)."""
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or method == "parameters":
                continue
            if operation.get("operationId", "").endswith("_help"):
                operation["security"] = [{}]  # the help pages are open
            _tags(path, operation)
            _security(operation)
            _errors(path, method, operation)
            if path.endswith("/export/runs"):
                _export(operation)
    return result


# A JSON array of objects, for routes that answer LangSmith's bare lists.
ARRAY_OF_OBJECTS = build_array_type(build_basic_type(OpenApiTypes.OBJECT))
