"""LangSmith's dataset routes: ``/datasets`` and its versions, tags, splits,
uploads and downloads (see docs/langsmith-datasets-protocol.md)."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from datasets import services, versions
from datasets.api.common import (
    JSONParam,
    Page,
    UnscopedKeysOnly,
    dataset_or_404,
    handled,
    validated,
)
from datasets.api.parsers import MultipartPartsParser
from datasets.models import Dataset
from datasets.selectors import (
    dataset_to_dict,
    example_to_dict,
    examples_at,
    metadata_filter,
    with_counts,
)
from datasets.wire import csv_examples, jsonl_examples, to_csv, to_jsonl
from runs.api.auth import ApiKeyRequired
from runs.api.openapi import ARRAY_OF_OBJECTS
from runs.ingest.normalize import InvalidField

PERMISSIONS = [ApiKeyRequired, UnscopedKeysOnly]


class DatasetParams(Page):
    name = serializers.CharField(required=False, max_length=255)
    name_contains = serializers.CharField(required=False, max_length=255)
    data_type = serializers.CharField(required=False, max_length=16)
    metadata = JSONParam(required=False)


class DatasetInput(serializers.Serializer):
    id = serializers.UUIDField(required=False, allow_null=True)
    name = serializers.CharField(max_length=255)
    description = serializers.CharField(
        required=False, allow_null=True, allow_blank=True
    )
    data_type = serializers.ChoiceField(choices=Dataset.DataType.values, default="kv")
    extra = serializers.DictField(required=False, allow_null=True)
    metadata = serializers.DictField(required=False, allow_null=True)
    inputs_schema_definition = serializers.DictField(required=False, allow_null=True)
    outputs_schema_definition = serializers.DictField(required=False, allow_null=True)
    transformations = serializers.ListField(
        child=serializers.DictField(), required=False, allow_null=True
    )


class DatasetPatch(DatasetInput):
    name = serializers.CharField(max_length=255, required=False, allow_null=True)
    data_type = serializers.ChoiceField(
        choices=Dataset.DataType.values, required=False, allow_null=True
    )


def _fields(data: dict[str, Any]) -> dict[str, Any]:
    """Model fields from a create/patch body (null means unchanged)."""
    out: dict[str, Any] = {}
    for key in ("name", "data_type", "transformations"):
        if data.get(key) is not None:
            out[key] = data[key]
    if data.get("description") is not None:
        out["description"] = data["description"]
    metadata = data.get("metadata")
    if metadata is None and isinstance(data.get("extra"), dict):
        metadata = data["extra"].get("metadata")
    if isinstance(metadata, dict):
        out["metadata"] = metadata
    if data.get("inputs_schema_definition") is not None:
        out["inputs_schema"] = data["inputs_schema_definition"]
    if data.get("outputs_schema_definition") is not None:
        out["outputs_schema"] = data["outputs_schema_definition"]
    return out


def _one(pk: Any) -> dict[str, Any]:
    return dataset_to_dict(with_counts(Dataset.objects.filter(pk=pk)).get())


class DatasetListView(APIView):
    permission_classes = PERMISSIONS

    @extend_schema(operation_id="datasets_list", responses={200: ARRAY_OF_OBJECTS})
    def get(self, request: Request) -> Response:
        params = validated(DatasetParams, request.query_params)
        datasets = Dataset.objects.order_by("-created_at", "id")
        if "name" in params:
            datasets = datasets.filter(name=params["name"])
        if "name_contains" in params:
            datasets = datasets.filter(name__icontains=params["name_contains"])
        if "data_type" in params:
            datasets = datasets.filter(data_type=params["data_type"])
        ids = request.query_params.getlist("id")
        if ids:
            datasets = datasets.filter(id__in=validated_ids(ids, "id"))
        if params.get("metadata"):
            datasets = metadata_filter(datasets, params["metadata"], "metadata")
        offset, limit = params["offset"], params["limit"]
        page = with_counts(datasets)[offset : offset + limit]
        return Response([dataset_to_dict(d) for d in page])

    @extend_schema(request=DatasetInput, responses={201: OpenApiTypes.OBJECT})
    @handled
    def post(self, request: Request) -> Response:
        data = validated(DatasetInput, request.data)
        fields = _fields(data)
        if data.get("id"):
            fields["id"] = data["id"]
        dataset = services.create_dataset(**fields)
        return Response(_one(dataset.pk), status=status.HTTP_201_CREATED)


def validated_ids(values: list[str], name: str) -> list[uuid.UUID]:
    field = serializers.ListField(child=serializers.UUIDField(), max_length=1000)
    try:
        return field.run_validation(values)
    except serializers.ValidationError as exc:
        raise serializers.ValidationError({name: exc.detail}) from None


class DatasetDetailView(APIView):
    permission_classes = PERMISSIONS

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request, pk: uuid.UUID) -> Response:
        return Response(_one(dataset_or_404(pk).pk))

    @extend_schema(request=DatasetPatch, responses={200: OpenApiTypes.OBJECT})
    @handled
    def patch(self, request: Request, pk: uuid.UUID) -> Response:
        dataset = dataset_or_404(pk)
        fields = _fields(validated(DatasetPatch, request.data))
        name = fields.get("name")
        if name and name != dataset.name and Dataset.objects.filter(name=name).exists():
            raise services.Conflict(f"Dataset {name!r} already exists.")
        for key, value in fields.items():
            setattr(dataset, key, value)
        dataset.save()
        return Response(_one(dataset.pk))

    @extend_schema(responses={204: None})
    def delete(self, request: Request, pk: uuid.UUID) -> Response:
        services.delete_dataset(dataset_or_404(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class VersionParams(Page):
    search = serializers.CharField(required=False, allow_blank=True, allow_null=True)


class DatasetVersionsView(APIView):
    permission_classes = PERMISSIONS

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request, pk: uuid.UUID) -> Response:
        dataset = dataset_or_404(pk)
        params = validated(VersionParams, request.query_params)
        tags = versions.tags_by_time(dataset)
        rows = [
            {"as_of": t.isoformat(), "tags": tags.get(t, [])}
            for t in versions.version_times(dataset)
        ]
        if params.get("search"):
            rows = [r for r in rows if any(params["search"] in t for t in r["tags"])]
        offset, limit = params["offset"], params["limit"]
        return Response(rows[offset : offset + limit])


class DatasetVersionView(APIView):
    permission_classes = PERMISSIONS

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    @handled
    def get(self, request: Request, pk: uuid.UUID) -> Response:
        dataset = dataset_or_404(pk)
        as_of = request.query_params.get("as_of") or request.query_params.get("tag")
        if not as_of:
            raise InvalidField("as_of", "give as_of (a time) or tag")
        when = versions.version_at(dataset, versions.resolve_as_of(dataset.pk, as_of))
        if when is None:
            return Response({"detail": "No version at that time."}, status=404)
        return Response(versions.version_dict(dataset, when))


class DatasetDiffView(APIView):
    permission_classes = PERMISSIONS

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    @handled
    def get(self, request: Request, pk: uuid.UUID) -> Response:
        dataset = dataset_or_404(pk)
        q = request.query_params
        if not q.get("from_version") or not q.get("to_version"):
            raise InvalidField("from_version", "give from_version and to_version")
        before = versions.resolve_as_of(dataset.pk, q["from_version"])
        after = versions.resolve_as_of(dataset.pk, q["to_version"])
        return Response(versions.diff(dataset, before, after))


class TagInput(serializers.Serializer):
    as_of = serializers.DateTimeField()
    tag = serializers.CharField(max_length=255)


class DatasetTagsView(APIView):
    permission_classes = PERMISSIONS

    @extend_schema(request=TagInput, responses={200: OpenApiTypes.OBJECT})
    def put(self, request: Request, pk: uuid.UUID) -> Response:
        dataset = dataset_or_404(pk)
        data = validated(TagInput, request.data)
        when = versions.version_at(dataset, data["as_of"])
        if when is None:
            return Response({"detail": "No version at that time."}, status=404)
        dataset.tags.update_or_create(tag=data["tag"], defaults={"as_of": when})
        return Response(versions.version_dict(dataset, when))


class SplitsInput(serializers.Serializer):
    split_name = serializers.CharField(max_length=255)
    examples = serializers.ListField(child=serializers.UUIDField(), max_length=10_000)
    remove = serializers.BooleanField(default=False)


class DatasetSplitsView(APIView):
    permission_classes = PERMISSIONS

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    @handled
    def get(self, request: Request, pk: uuid.UUID) -> Response:
        dataset = dataset_or_404(pk)
        when = versions.resolve_as_of(dataset.pk, request.query_params.get("as_of"))
        names = set()
        for metadata in examples_at(dataset_id=dataset.pk, when=when).values_list(
            "metadata", flat=True
        ):
            split = (metadata or {}).get("dataset_split")
            names.update(split if isinstance(split, list) else ["base"])
        return Response(sorted(n for n in names if isinstance(n, str)))

    @extend_schema(request=SplitsInput, responses={200: OpenApiTypes.OBJECT})
    def put(self, request: Request, pk: uuid.UUID) -> Response:
        dataset = dataset_or_404(pk)
        data = validated(SplitsInput, request.data)
        services.set_splits(
            dataset, data["examples"], data["split_name"], remove=data["remove"]
        )
        return Response([str(i) for i in data["examples"]])


JSONL_TYPES = {"application/jsonl", "application/x-ndjson", "application/jsonlines"}


class UploadCSVView(APIView):
    """``client.upload_csv``: a CSV file and its column roles, as a form; or a
    JSONL file of examples (``format=jsonl`` or a JSON-lines content type)."""

    permission_classes = PERMISSIONS
    parser_classes = [MultipartPartsParser]

    @extend_schema(request=OpenApiTypes.BINARY, responses={201: OpenApiTypes.OBJECT})
    @handled
    def post(self, request: Request) -> Response:
        form: dict[str, list[str]] = {}
        file = None
        file_type = ""
        for name, ctype, data in request.data:
            if name == "file":
                file, file_type = data, ctype
            else:
                form.setdefault(name, []).append(data.decode("utf-8", "replace"))
        if file is None:
            raise InvalidField("file", "a CSV file part named 'file' is required")
        name = (form.get("name") or [""])[0] or "uploaded.csv"
        if file_type in JSONL_TYPES or form.get("format") == ["jsonl"]:
            examples = jsonl_examples(file.splitlines())
        else:
            examples = csv_examples(
                file, form.get("input_keys", []), form.get("output_keys", [])
            )
        fields: dict[str, Any] = {"name": name}
        if form.get("description"):
            fields["description"] = form["description"][0]
        if form.get("data_type"):
            data_type = form["data_type"][0]
            if data_type not in Dataset.DataType.values:
                raise InvalidField("data_type", f"one of {Dataset.DataType.values}")
            fields["data_type"] = data_type
        if form.get("id"):
            fields["id"] = validated_ids(form["id"][:1], "id")[0]
        dataset = services.create_dataset(**fields)
        services.create_examples(dataset, examples)
        return Response(_one(dataset.pk), status=status.HTTP_201_CREATED)


def _export_rows(request: Request, pk: uuid.UUID) -> Any:
    dataset = dataset_or_404(pk)
    when = versions.resolve_as_of(dataset.pk, request.query_params.get("as_of"))
    rows = examples_at(dataset_id=dataset.pk, when=when).iterator(chunk_size=500)
    return dataset, (example_to_dict(row) for row in rows)


class DatasetJSONLView(APIView):
    permission_classes = PERMISSIONS

    @extend_schema(responses={200: OpenApiTypes.BINARY})
    @handled
    def get(self, request: Request, pk: uuid.UUID) -> StreamingHttpResponse:
        dataset, rows = _export_rows(request, pk)
        response = StreamingHttpResponse(
            to_jsonl(rows), content_type="application/x-ndjson"
        )
        response["Content-Disposition"] = f'attachment; filename="{dataset.pk}.jsonl"'
        return response


class DatasetCSVView(APIView):
    permission_classes = PERMISSIONS

    @extend_schema(responses={200: OpenApiTypes.BINARY})
    @handled
    def get(self, request: Request, pk: uuid.UUID) -> StreamingHttpResponse:
        dataset, rows = _export_rows(request, pk)
        response = StreamingHttpResponse(to_csv(rows), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="{dataset.pk}.csv"'
        return response
