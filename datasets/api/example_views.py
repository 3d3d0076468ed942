"""LangSmith's example routes: JSON (``/examples``) and the SDK's multipart
form (``/platform/datasets/{id}/examples``), attachments included."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import FileResponse, Http404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from datasets import services, versions
from datasets.api.common import JSONParam, Page, dataset_or_404, handled, validated
from datasets.api.dataset_views import PERMISSIONS, validated_ids
from datasets.api.parsers import MultipartPartsParser
from datasets.models import Dataset, Example
from datasets.selectors import (
    attachment_from_token,
    attachment_urls,
    example_to_dict,
    examples_at,
)
from datasets.services import MAX_EXAMPLES_PER_REQUEST, parse_example
from datasets.wire import decode_examples_multipart
from runs.api.openapi import ARRAY_OF_OBJECTS
from runs.ingest.normalize import InvalidField


class ExampleParams(Page):
    dataset = serializers.UUIDField(required=False)
    as_of = serializers.CharField(required=False, max_length=64)
    metadata = JSONParam(required=False)
    filter = serializers.CharField(required=False, allow_blank=True)
    inline_s3_urls = serializers.BooleanField(required=False)

    def validate_filter(self, value: str) -> str:
        if value:
            raise serializers.ValidationError(
                "The LangSmith filter language is not supported for examples."
            )
        return value


def _urls(request: Request, rows: list[Example]) -> dict[int, dict]:
    def build(token: str) -> str:
        return request.build_absolute_uri(reverse("example-attachment", args=[token]))

    return attachment_urls(rows, build)


def render_examples(request: Request, rows: list[Example]) -> list[dict[str, Any]]:
    urls = _urls(request, rows)
    return [example_to_dict(row, urls[row.revision] or None) for row in rows]


def _dataset_of(examples: list[services.ExampleInput], default: Any) -> Dataset:
    ids = {e.dataset_id for e in examples if e.dataset_id} | (
        {default} if default else set()
    )
    if len(ids) != 1:
        raise InvalidField("dataset_id", "every example needs the same dataset_id")
    return dataset_or_404(ids.pop())


def _parse_list(data: Any, *, creating: bool) -> list[services.ExampleInput]:
    if not isinstance(data, list):
        raise InvalidField("body", "expected a JSON array of examples")
    if len(data) > MAX_EXAMPLES_PER_REQUEST:
        raise InvalidField("body", f"at most {MAX_EXAMPLES_PER_REQUEST} examples")
    out = []
    for index, raw in enumerate(data):
        try:
            out.append(parse_example(raw, creating=creating))
        except InvalidField as exc:
            raise InvalidField(f"[{index}].{exc.field}", exc.message) from None
    return out


class ExampleListView(APIView):
    permission_classes = PERMISSIONS

    @extend_schema(operation_id="examples_list", responses={200: ARRAY_OF_OBJECTS})
    @handled
    def get(self, request: Request) -> Response:
        params = validated(ExampleParams, request.query_params)
        ids = validated_ids(request.query_params.getlist("id"), "id")
        dataset_id = params.get("dataset")
        if dataset_id is not None:
            dataset_or_404(dataset_id)
        when = versions.resolve_as_of(dataset_id, params.get("as_of"))
        rows = examples_at(
            dataset_id=dataset_id,
            when=when,
            ids=ids,
            splits=request.query_params.getlist("splits"),
            metadata=params.get("metadata"),
        )
        offset, limit = params["offset"], params["limit"]
        return Response(render_examples(request, list(rows[offset : offset + limit])))

    @extend_schema(request=OpenApiTypes.OBJECT, responses={201: OpenApiTypes.OBJECT})
    @handled
    def post(self, request: Request) -> Response:
        example = parse_example(request.data, creating=True)
        dataset = _dataset_of([example], None)
        row = services.create_examples(dataset, [example])[0]
        return Response(example_to_dict(row), status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="examples_delete_many", responses={200: OpenApiTypes.OBJECT}
    )
    def delete(self, request: Request) -> Response:
        ids = validated_ids(request.query_params.getlist("example_ids"), "example_ids")
        services.delete_examples(ids)
        return Response({"message": f"{len(ids)} examples deleted"})


class ExampleBulkView(APIView):
    permission_classes = PERMISSIONS

    @extend_schema(request=OpenApiTypes.OBJECT, responses={201: OpenApiTypes.OBJECT})
    @handled
    def post(self, request: Request) -> Response:
        examples = _parse_list(request.data, creating=True)
        if not examples:
            return Response([], status=status.HTTP_201_CREATED)
        rows = services.create_examples(_dataset_of(examples, None), examples)
        return Response(
            [example_to_dict(r) for r in rows], status=status.HTTP_201_CREATED
        )

    @extend_schema(request=OpenApiTypes.OBJECT, responses={200: OpenApiTypes.OBJECT})
    @handled
    def patch(self, request: Request) -> Response:
        updates = _parse_list(request.data, creating=False)
        rows = services.update_examples(updates)
        return Response(
            {
                "message": f"{len(rows)} examples updated",
                "count": len(rows),
                "example_ids": [str(r.id) for r in rows],
            }
        )


class ExampleDetailView(APIView):
    permission_classes = PERMISSIONS

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    @handled
    def get(self, request: Request, pk: uuid.UUID) -> Response:
        row = Example.objects.filter(id=pk).order_by("-valid_from").first()
        when = None
        if row is not None and request.query_params.get("as_of"):
            when = versions.resolve_as_of(row.dataset_id, request.query_params["as_of"])
        rows = list(examples_at(dataset_id=None, when=when, ids=[pk]))
        if not rows:
            raise Http404(f"Example not found: {pk}")
        return Response(render_examples(request, rows)[0])

    @extend_schema(request=OpenApiTypes.OBJECT, responses={200: OpenApiTypes.OBJECT})
    @handled
    def patch(self, request: Request, pk: uuid.UUID) -> Response:
        if not isinstance(request.data, dict):
            raise InvalidField("body", "expected a JSON object")
        update = parse_example({**request.data, "id": str(pk)}, creating=False)
        services.update_examples([update])
        return Response({"message": "Example updated", "example_ids": [str(pk)]})

    @extend_schema(responses={204: None})
    def delete(self, request: Request, pk: uuid.UUID) -> Response:
        if not services.delete_examples([pk]):
            raise Http404(f"Example not found: {pk}")
        return Response(status=status.HTTP_204_NO_CONTENT)


class DatasetExamplesMultipartView(APIView):
    """``POST``/``PATCH /platform/datasets/{id}/examples``: the SDK's form."""

    permission_classes = PERMISSIONS
    parser_classes = [MultipartPartsParser]

    def _examples(self, request: Request, creating: bool) -> list:
        if not isinstance(request.data, list):
            raise InvalidField("body", "expected multipart/form-data")
        examples = decode_examples_multipart(request.data, creating=creating)
        if len(examples) > MAX_EXAMPLES_PER_REQUEST:
            raise InvalidField("body", f"at most {MAX_EXAMPLES_PER_REQUEST} examples")
        return examples

    @extend_schema(request=OpenApiTypes.BINARY, responses={201: OpenApiTypes.OBJECT})
    @handled
    def post(self, request: Request, pk: uuid.UUID) -> Response:
        dataset = dataset_or_404(pk)
        rows = services.create_examples(dataset, self._examples(request, True))
        return Response(_upsert_response(rows), status=status.HTTP_201_CREATED)

    @extend_schema(request=OpenApiTypes.BINARY, responses={200: OpenApiTypes.OBJECT})
    @handled
    def patch(self, request: Request, pk: uuid.UUID) -> Response:
        dataset = dataset_or_404(pk)
        rows = services.update_examples(self._examples(request, False), dataset=dataset)
        return Response(_upsert_response(rows))


def _upsert_response(rows: list[Example]) -> dict[str, Any]:
    return {
        "count": len(rows),
        "example_ids": [str(r.id) for r in rows],
        "as_of": rows[0].valid_from.isoformat() if rows else None,
    }


class MetadataOperation(serializers.Serializer):
    key = serializers.ChoiceField(choices=["dataset_split"])
    operation = serializers.ChoiceField(choices=["array_add", "array_remove"])
    values = serializers.ListField(child=serializers.CharField(max_length=255))


class MetadataInput(serializers.Serializer):
    example_ids = serializers.ListField(
        child=serializers.UUIDField(), max_length=10_000
    )
    operations = MetadataOperation(many=True)


class DatasetExamplesMetadataView(APIView):
    """``update_dataset_splits``: add or remove a split of many examples."""

    permission_classes = PERMISSIONS

    @extend_schema(request=MetadataInput, responses={200: OpenApiTypes.OBJECT})
    def patch(self, request: Request, pk: uuid.UUID) -> Response:
        dataset = dataset_or_404(pk)
        data = validated(MetadataInput, request.data)
        changed = 0
        for op in data["operations"]:
            for split in op["values"]:
                changed += services.set_splits(
                    dataset,
                    data["example_ids"],
                    split,
                    remove=op["operation"] == "array_remove",
                )
        return Response({"count": changed})


class ExampleAttachmentView(APIView):
    """An attachment's bytes behind a signed URL (the SDK sends no key)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(responses={200: OpenApiTypes.BINARY})
    def get(self, request: Request, token: str) -> FileResponse:
        attachment = attachment_from_token(token)
        if attachment is None:
            raise Http404("No such attachment.")
        response = FileResponse(
            attachment.file.open("rb"), content_type=attachment.content_type
        )
        # Attacker-chosen bytes: never rendered by the browser as a page.
        response["Content-Disposition"] = "attachment"
        return response
