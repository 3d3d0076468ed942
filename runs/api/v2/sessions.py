"""``client.sessions``: projects in the v2 shape, and address resolution."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import orjson
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from runs.api.auth import limit_to_scope, project_scope
from runs.api.dashboard_views import validated
from runs.api.v2 import pages
from runs.ingest.addresses import ENVIRONMENTS
from runs.models import TENANT_ID, Project
from runs.query.stats import project_counts

TYPES = ("PROJECT", "AGENT", "EXPERIMENT")
SORTS = {"NAME": "name", "START_TIME": "created_at"}


def session_v2(project: Project, counts: dict[str, Any] | None = None) -> dict:
    body: dict[str, Any] = {
        "id": str(project.id),
        "name": project.name,
        "start_time": project.created_at.isoformat(),
        "end_time": project.end_time.isoformat() if project.end_time else None,
        "tenant_id": str(TENANT_ID),
        "type": project.kind,
        "description": project.description or None,
        "extra": {"metadata": project.metadata} if project.metadata else None,
        "default_dataset_id": None,
        "reference_dataset_id": None,
        "trace_tier": "LONG_LIVED",
        "longlived_ttl_days": project.retention_days,
    }
    if counts is not None:
        last = counts.get("last_run_start_time")
        body["run_count"] = counts.get("run_count", 0)
        body["last_run_start_time"] = last.isoformat() if last else None
        runs = body["run_count"]
        body["error_rate"] = counts.get("error_count", 0) / runs if runs else None
    return body


def visible_projects(request: Request) -> QuerySet:
    return limit_to_scope(request, Project.objects.all(), field="name")


class ListParams(serializers.Serializer):
    id = serializers.ListField(child=serializers.UUIDField(), required=False)
    cursor = serializers.CharField(required=False, max_length=100)
    name = serializers.CharField(required=False, max_length=255)
    name_contains = serializers.CharField(required=False, max_length=255)
    metadata = serializers.CharField(required=False, max_length=10_000)
    include_stats = serializers.BooleanField(required=False, default=False)
    page_size = serializers.IntegerField(min_value=1, max_value=100, default=20)
    sort_by = serializers.ChoiceField(choices=list(SORTS), default="START_TIME")
    sort_order = serializers.ChoiceField(choices=["asc", "desc"], default="desc")
    type = serializers.ListField(
        child=serializers.ChoiceField(choices=TYPES), required=False
    )
    filter = serializers.CharField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("filter"):
            raise ValidationError(
                {"filter": "Project filter expressions are not supported here."}
            )
        if "metadata" in attrs:
            try:
                metadata = orjson.loads(attrs["metadata"])
            except orjson.JSONDecodeError:
                metadata = None
            if not isinstance(metadata, dict):
                raise ValidationError({"metadata": "Expected a JSON object."})
            attrs["metadata"] = metadata
        return attrs


def _offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        offset = orjson.loads(raw)["o"]
    except (ValueError, TypeError, KeyError, orjson.JSONDecodeError):
        raise ValidationError({"cursor": "Not a cursor this server issued."}) from None
    if not isinstance(offset, int) or offset < 0:
        raise ValidationError({"cursor": "Not a cursor this server issued."})
    return offset


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(orjson.dumps({"o": offset})).decode().rstrip("=")


class CreateInput(pages.NullsAbsent):
    type = serializers.ChoiceField(choices=TYPES)
    id = serializers.UUIDField(required=False)
    name = serializers.CharField(max_length=255)
    description = serializers.CharField(required=False, allow_blank=True)
    extra = serializers.DictField(required=False)
    end_time = serializers.DateTimeField(required=False)
    longlived_ttl_days = serializers.IntegerField(
        required=False, min_value=1, max_value=100_000
    )

    def validate_type(self, value: str) -> str:
        if value != "PROJECT":
            raise ValidationError(
                "Only PROJECT sessions are created here; an agent's project "
                "is created by tracing to its address."
            )
        return value


def _metadata_of(extra: Any) -> dict[str, Any]:
    metadata = extra.get("metadata") if isinstance(extra, dict) else None
    return metadata if isinstance(metadata, dict) else {}


class SessionsView(APIView):
    @extend_schema(
        operation_id="v2_sessions_list",
        summary="List projects: {items, next_cursor}",
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request) -> Response:
        params = validated(ListParams, pages.query_dict(request))
        projects = visible_projects(request)
        if params.get("id"):
            projects = projects.filter(id__in=params["id"])
        if "name" in params:
            projects = projects.filter(name=params["name"])
        if "name_contains" in params:
            projects = projects.filter(name__icontains=params["name_contains"])
        if params.get("type"):
            kinds = set(params["type"])
            if "PROJECT" not in kinds:
                projects = projects.exclude(agent_id="")
            if "AGENT" not in kinds:
                projects = projects.filter(agent_id="")
        wanted = params.get("metadata") or {}
        column = SORTS[params["sort_by"]]
        order = column if params["sort_order"] == "asc" else f"-{column}"
        projects = projects.order_by(order, "id")
        offset, size = _offset(params.get("cursor")), params["page_size"]
        if wanted:
            # Metadata containment is checked in Python: JSON containment
            # differs between the two databases, and projects are few.
            matching = [
                p for p in projects if wanted.items() <= (p.metadata or {}).items()
            ]
            page = matching[offset : offset + size + 1]
        else:
            page = list(projects[offset : offset + size + 1])
        more = len(page) > size
        page = page[:size]
        counts = (
            project_counts([p.id for p in page]) if params["include_stats"] else None
        )
        items = [
            session_v2(p, None if counts is None else counts.get(p.id, {}))
            for p in page
        ]
        next_cursor = _cursor(offset + size) if more else None
        return Response({"items": items, "next_cursor": next_cursor})

    @extend_schema(
        operation_id="v2_sessions_create",
        summary="Create a project (?upsert=true updates one of the same name)",
        request=CreateInput,
        responses={200: OpenApiTypes.OBJECT, 201: OpenApiTypes.OBJECT},
    )
    def post(self, request: Request) -> Response:
        data = validated(CreateInput, request.data)
        scope = project_scope(request)
        if scope is not None and data["name"] != scope:
            raise Http404("No such project for this key.")
        upsert = request.query_params.get("upsert", "").lower() in ("true", "1")
        existing = Project.objects.filter(name=data["name"]).first()
        if existing is not None and not upsert:
            return Response(
                {"detail": f"Project {data['name']!r} already exists."},
                status=status.HTTP_409_CONFLICT,
            )
        project = existing or Project(id=data.get("id") or uuid.uuid4())
        project.name = data["name"]
        if "description" in data:
            project.description = data["description"]
        if "extra" in data:
            project.metadata = _metadata_of(data["extra"])
        if "end_time" in data:
            project.end_time = data["end_time"]
        if "longlived_ttl_days" in data:
            project.retention_days = data["longlived_ttl_days"]
        try:
            with transaction.atomic():
                project.save(force_insert=existing is None)
        except IntegrityError:
            return Response(
                {"detail": "A project with this name or id already exists."},
                status=status.HTTP_409_CONFLICT,
            )
        code = status.HTTP_200_OK if existing else status.HTTP_201_CREATED
        return Response(session_v2(project), status=code)


class UpdateInput(serializers.Serializer):
    name = serializers.CharField(required=False, max_length=255)
    description = serializers.CharField(
        required=False, allow_null=True, allow_blank=True
    )
    end_time = serializers.DateTimeField(required=False, allow_null=True)
    extra = serializers.DictField(required=False, allow_null=True)
    longlived_ttl_days = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=100_000
    )
    default_dataset_id = serializers.UUIDField(required=False, allow_null=True)
    trace_tier = serializers.ChoiceField(
        choices=["LONG_LIVED", "SHORT_LIVED"], required=False
    )


def _merge_metadata(project: Project, extra: dict[str, Any] | None) -> None:
    """Extra merges top-level keys; a null value removes a key; null clears all."""
    if extra is None:
        project.metadata = {}
        return
    if "metadata" not in extra:
        return
    changes = extra["metadata"]
    if changes is None:
        project.metadata = {}
        return
    merged = dict(project.metadata or {})
    for key, value in (changes if isinstance(changes, dict) else {}).items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    project.metadata = merged


class SessionDetailView(APIView):
    def _project(self, request: Request, session_id: uuid.UUID) -> Project:
        project = visible_projects(request).filter(id=session_id).first()
        if project is None:
            raise Http404("No such project.")
        return project

    @extend_schema(
        operation_id="v2_sessions_retrieve",
        summary="Read one project (?include_stats=true adds run statistics)",
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request, session_id: uuid.UUID) -> Response:
        project = self._project(request, session_id)
        include = request.query_params.get("include_stats", "").lower()
        counts = (
            project_counts([project.id]).get(project.id, {})
            if include in ("true", "1")
            else None
        )
        return Response(session_v2(project, counts))

    @extend_schema(
        operation_id="v2_sessions_update",
        summary="Update the given fields of a project",
        request=UpdateInput,
        responses={200: OpenApiTypes.OBJECT},
    )
    def patch(self, request: Request, session_id: uuid.UUID) -> Response:
        project = self._project(request, session_id)
        data = validated(UpdateInput, request.data)
        if "name" in data and data["name"] != project.name:
            if Project.objects.filter(name=data["name"]).exists():
                return Response(
                    {"detail": f"Project {data['name']!r} already exists."},
                    status=status.HTTP_409_CONFLICT,
                )
            project.name = data["name"]
        if "description" in data:
            project.description = data["description"] or ""
        if "end_time" in data:
            project.end_time = data["end_time"]
        if "extra" in data:
            _merge_metadata(project, data["extra"])
        if "longlived_ttl_days" in data:
            project.retention_days = data["longlived_ttl_days"]
        project.save()
        return Response(session_v2(project))


class ResolveParams(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["AGENT", "EXPERIMENT", "EVALUATOR"])
    id = serializers.CharField(required=False, max_length=255)
    environment = serializers.CharField(required=False, max_length=32)


class SessionResolveView(APIView):
    """``GET /api/v1/sessions/resolutions``: the project an address names."""

    @extend_schema(
        operation_id="sessions_resolve",
        summary="The project (session) of an agent address; 404 when unknown",
        responses={200: OpenApiTypes.OBJECT, 404: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request) -> Response:
        params = validated(ResolveParams, request.query_params)
        environment = (params.get("environment") or "").lower()
        if params["kind"] != "AGENT" or environment not in ENVIRONMENTS:
            raise Http404("No project has this address.")
        project = (
            visible_projects(request)
            .filter(agent_id=params.get("id", ""), agent_environment=environment)
            .exclude(agent_id="")
            .first()
        )
        if project is None:
            raise Http404("No project has this address.")
        return Response({"session_id": str(project.id)})
