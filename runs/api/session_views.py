"""LangSmith projects ("sessions"): list, create, read, update, delete."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from runs.api.auth import limit_to_scope, project_scope
from runs.api.dashboard_views import params_of, validated
from runs.api.openapi import ARRAY_OF_OBJECTS
from runs.api.serializers import (
    SessionInput,
    SessionParams,
    SessionPatch,
    project_to_dict,
)
from runs.models import Attachment, Feedback, Project, Run
from runs.query.feedback_stats import experiment_stats, feedback_stats
from runs.query.stats import project_counts


def _project_dict(project: Project, counts: dict[str, Any] | None) -> dict[str, Any]:
    if counts is None:
        return project_to_dict(project)
    last = counts.get("last_run_start_time")
    return project_to_dict(
        project,
        run_count=counts.get("run_count", 0),
        last_run_start_time=last.isoformat() if last else None,
        prompt_tokens=counts.get("prompt_tokens", 0),
        completion_tokens=counts.get("completion_tokens", 0),
        total_tokens=counts.get("total_tokens", 0),
        # Null when nothing was priced (no LLM run, or only unpriced ones),
        # as a trace's total is: never a made-up $0.
        prompt_cost=counts.get("prompt_cost") or None,
        completion_cost=counts.get("completion_cost") or None,
        total_cost=counts.get("total_cost") or None,
        unpriced_runs=counts.get("unpriced_runs", 0),
        feedback_stats=None,
    )


def _visible_projects(request: Request) -> QuerySet:
    return limit_to_scope(request, Project.objects.all(), field="name")


DELETE_BATCH = 2000


def delete_project_runs(project: Project) -> int:
    """Delete a project's runs in batches of short transactions, then the project.

    Short transactions let ingestion (which needs SQLite's write lock) proceed
    between batches; attachment files go once their rows are gone.
    """
    deleted = 0
    while True:
        with transaction.atomic():
            ids = list(
                Run.objects.filter(project=project).values_list("id", flat=True)[
                    :DELETE_BATCH
                ]
            )
            if not ids:
                break
            Feedback.objects.filter(run_id__in=ids).delete()
            attachments = Attachment.objects.filter(run_id__in=ids)
            files = list(attachments.values_list("file", flat=True))
            attachments.delete()
            deleted += Run.objects.filter(id__in=ids).delete()[0]
            transaction.on_commit(lambda files=files: _delete_files(files))
    with transaction.atomic():
        Feedback.objects.filter(session_id=project.id).delete()
        project.delete()
    return deleted


def _delete_files(names: list[str]) -> None:
    from django.core.files.storage import default_storage

    for name in names:
        if name:
            default_storage.delete(name)


class SessionListView(GenericAPIView):
    queryset = Project.objects.all()
    pagination_class = None

    @extend_schema(
        operation_id="sessions_list",
        summary="List projects (offset paging)",
        parameters=params_of(SessionParams),
        responses={200: ARRAY_OF_OBJECTS},
    )
    def get(self, request: Request) -> Response:
        params = validated(SessionParams, request.query_params)
        projects = _visible_projects(request).order_by("-created_at", "id")
        if "name" in params:
            projects = projects.filter(name=params["name"])
        if "name_contains" in params:
            projects = projects.filter(name__icontains=params["name_contains"])
        if params.get("id"):
            projects = projects.filter(id__in=params["id"])
        projects = _experiments_filter(projects, params)
        offset, limit = params["offset"], params["limit"]
        page = list(projects[offset : offset + limit])
        counts = (
            project_counts([p.id for p in page]) if params["include_stats"] else None
        )
        listed = [
            _project_dict(p, None if counts is None else counts.get(p.id, {}))
            for p in page
        ]
        if counts is not None:
            ids = [p.id for p in page]
            scores = feedback_stats(ids)
            summaries = feedback_stats(ids, session_level=True)
            for row, project in zip(listed, page, strict=True):
                row["feedback_stats"] = scores.get(project.id) or None
                row["session_feedback_stats"] = summaries.get(project.id) or None
        return Response(listed)

    @extend_schema(
        summary="Create a project (409 on a duplicate name; ?upsert=true)",
        request=SessionInput,
        responses={201: OpenApiTypes.OBJECT, 409: OpenApiTypes.OBJECT},
    )
    def post(self, request: Request) -> Response:
        data = validated(SessionInput, request.data)
        upsert = request.query_params.get("upsert", "").lower() in ("true", "1")
        scope = project_scope(request)
        if scope is not None and data["name"] != scope:
            raise Http404("No such project for this key.")
        if not reference_dataset_exists(data.get("reference_dataset_id")):
            return Response(
                {"detail": f"Dataset not found: {data['reference_dataset_id']}"},
                status=status.HTTP_404_NOT_FOUND,
            )
        existing = Project.objects.filter(name=data["name"]).first()
        if existing is not None:
            if not upsert:
                return Response(
                    {"detail": f"Project {data['name']!r} already exists."},
                    status=status.HTTP_409_CONFLICT,
                )
            _apply(existing, data)
            existing.save()
            return Response(_project_dict(existing, None), status=status.HTTP_200_OK)
        project = Project(id=data.get("id") or uuid.uuid4(), name=data["name"])
        _apply(project, data)
        try:
            with transaction.atomic():
                project.save(force_insert=True)
        except IntegrityError:
            return Response(
                {"detail": "A project with this name or id already exists."},
                status=status.HTTP_409_CONFLICT,
            )
        return Response(_project_dict(project, None), status=status.HTTP_201_CREATED)


def _experiments_filter(projects: QuerySet, params: dict[str, Any]) -> QuerySet:
    """LangSmith's reference_dataset, reference_dataset_name, reference_free."""
    if params.get("reference_dataset"):
        projects = projects.filter(reference_dataset_id__in=params["reference_dataset"])
    if "reference_dataset_name" in params:
        from django.apps import apps

        dataset = apps.get_model("datasets", "Dataset")
        ids = dataset.objects.filter(name=params["reference_dataset_name"])
        projects = projects.filter(reference_dataset_id__in=ids.values("id"))
    if params.get("reference_free") is not None:
        projects = projects.filter(
            reference_dataset_id__isnull=params["reference_free"]
        )
    return projects


def reference_dataset_exists(dataset_id: uuid.UUID | None) -> bool:
    """An experiment may only be created against a dataset that exists."""
    if dataset_id is None:
        return True
    from django.apps import apps

    if not apps.is_installed("datasets"):
        return True
    return apps.get_model("datasets", "Dataset").objects.filter(id=dataset_id).exists()


def _apply(project: Project, data: dict[str, Any]) -> None:
    if data.get("name") is not None:
        project.name = data["name"]
    if data.get("reference_dataset_id") is not None:
        project.reference_dataset_id = data["reference_dataset_id"]
    # LangSmith's null means "unchanged" (evaluate() ends with nulls).
    if data.get("description") is not None:
        project.description = data["description"]
    if data.get("extra") is not None:
        extra = data["extra"]
        metadata = extra.get("metadata") if isinstance(extra, dict) else None
        project.metadata = metadata if isinstance(metadata, dict) else {}
    if data.get("end_time") is not None:
        project.end_time = data["end_time"]
    if "retention_days" in data:
        project.retention_days = data["retention_days"]


class SessionDetailView(GenericAPIView):
    queryset = Project.objects.all()
    pagination_class = None

    def get_object(self) -> Project:
        project = _visible_projects(self.request).filter(id=self.kwargs["pk"]).first()
        if project is None:
            raise Http404("No such project.")
        return project

    @extend_schema(summary="Read one project", responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request, pk: uuid.UUID) -> Response:
        project = self.get_object()
        include = request.query_params.get("include_stats", "true").lower()
        counts = (
            project_counts([project.id]).get(project.id, {})
            if include not in ("false", "0")
            else None
        )
        body = _project_dict(project, counts)
        if counts is not None:
            body.update(experiment_stats(project.id))
        return Response(body)

    @extend_schema(
        summary="Update a project",
        request=SessionPatch,
        responses={200: OpenApiTypes.OBJECT},
    )
    def patch(self, request: Request, pk: uuid.UUID) -> Response:
        project = self.get_object()
        data = validated(SessionPatch, request.data)
        if data.get("name") is not None and data["name"] != project.name:
            if Project.objects.filter(name=data["name"]).exists():
                return Response(
                    {"detail": f"Project {data['name']!r} already exists."},
                    status=status.HTTP_409_CONFLICT,
                )
        _apply(project, data)
        project.save()
        return Response(_project_dict(project, None))

    @extend_schema(summary="Delete a project and all its runs", responses={204: None})
    def delete(self, request: Request, pk: uuid.UUID) -> Response:
        project = self.get_object()
        delete_project_runs(project)
        return Response(status=status.HTTP_204_NO_CONTENT)
