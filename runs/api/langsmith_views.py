"""The read half of the LangSmith API: sessions, ``POST /runs/query``, feedback.

Shapes follow docs/langsmith-protocol.md §6, so ``langsmith.Client`` reads,
lists and deletes through these routes.
"""

from __future__ import annotations

import base64
import uuid
from datetime import datetime
from typing import Any

import orjson
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from drf_spectacular.plumbing import build_array_type, build_basic_type
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from runs.access import EVERYTHING, access_of
from runs.api import links
from runs.api.auth import limit_to_scope, project_scope
from runs.api.dashboard_views import params_of, validated
from runs.api.serializers import (
    FeedbackParams,
    FeedbackPatch,
    RunsQueryInput,
    SessionInput,
    SessionParams,
    SessionPatch,
    feedback_to_dict,
    project_to_dict,
    run_to_dict,
    with_trace_totals,
)
from runs.feedback import save_feedback
from runs.ingest.normalize import InvalidField
from runs.ingest.service import feedback_from_payload
from runs.models import Attachment, Feedback, Project, Run
from runs.query.feedback_stats import experiment_stats, feedback_stats
from runs.query.newest import newest_first
from runs.query.roots import trace_aggregates
from runs.query.run_query import query_runs
from runs.query.stats import project_counts

ARRAY_OF_OBJECTS = build_array_type(build_basic_type(OpenApiTypes.OBJECT))


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
        prompt_cost=counts.get("prompt_cost", 0.0),
        completion_cost=counts.get("completion_cost", 0.0),
        total_cost=counts.get("total_cost", 0.0),
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


def encode_cursor(start_time: datetime, run_id: uuid.UUID) -> str:
    raw = orjson.dumps([start_time.isoformat(), str(run_id)])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        start, run_id = orjson.loads(raw)
        return datetime.fromisoformat(start), uuid.UUID(run_id)
    except (ValueError, TypeError, orjson.JSONDecodeError):
        raise ValidationError({"cursor": "Not a cursor this server issued."}) from None


def runs_with_children(
    runs: list[Run], request: Request | None = None, visible: QuerySet | None = None
) -> list[dict[str, Any]]:
    """LangSmith run objects with ``child_run_ids`` (those the caller sees).

    With the request, children are those its access sees, and links are made
    for the client that asked: ``app_path`` for the SDK's ``Run.url`` and
    ``s3_urls`` for its attachments. ``visible`` (the runs a share token
    opens) narrows the children further.
    """
    access = access_of(request) if request is not None else EVERYTHING
    children: dict[uuid.UUID, list[str]] = {run.id: [] for run in runs}
    pairs = (
        access.runs(visible)
        .filter(parent_id__in=list(children))
        .order_by("dotted_order")
        .values_list("parent_id", "id")
    )
    for parent_id, child_id in pairs:
        children[parent_id].append(str(child_id))
    totals = trace_aggregates(
        [run.trace_id for run in runs if run.parent_id is None], access.runs(visible)
    )
    rows = []
    for run in runs:
        row = run_to_dict(run, child_run_ids=children[run.id])
        if run.parent_id is None:
            with_trace_totals(row, totals.get(run.trace_id))
        rows.append(row)
    if request is not None:
        attachments = links.s3_urls(request, list(children))
        for run, body in zip(runs, rows, strict=True):
            body["app_path"] = links.sdk_app_path(request, body["app_path"])
            body["s3_urls"] = attachments.get(run.id, {})
    return rows


def _indexed(data: dict[str, Any]) -> bool:
    """Whether an index already serves this query newest first (else a recent
    window is read first: ``runs.query.newest``)."""
    narrowing = ("session", "session_id", "id", "trace", "parent_run")
    return any(data.get(k) for k in narrowing) or data.get("is_root") is True


class RunsQueryView(GenericAPIView):
    queryset = Run.objects.all()
    pagination_class = None
    # A read answered through POST: read-only keys may call it.
    read_only_safe = True

    @extend_schema(
        summary="Query runs (LangSmith list_runs), newest first, cursor paging",
        request=RunsQueryInput,
        responses={200: OpenApiTypes.OBJECT},
    )
    def post(self, request: Request) -> Response:
        data = validated(RunsQueryInput, request.data)
        queryset = query_runs(limit_to_scope(request, Run.objects.all()), data)
        start = None
        if "cursor" in data:
            start, run_id = decode_cursor(data["cursor"])
            queryset = queryset.filter(
                Q(start_time__lt=start) | Q(start_time=start, id__lt=run_id)
            )
        limit = data["limit"]
        if _indexed(data):
            page = list(queryset[: limit + 1])
        else:
            page = newest_first(queryset, limit + 1, before=start)
        more = len(page) > limit
        page = page[:limit]
        next_cursor = (
            encode_cursor(page[-1].start_time, page[-1].id) if more and page else None
        )
        return Response(
            {
                "runs": runs_with_children(page, request),
                "cursors": {"next": next_cursor},
            }
        )


def _visible_feedback(request: Request) -> QuerySet:
    return access_of(request).feedback()


def _feedback_or_404(request: Request, pk: uuid.UUID) -> Feedback:
    feedback = _visible_feedback(request).filter(id=pk).first()
    if feedback is None:
        raise Http404("No such feedback.")
    return feedback


class FeedbackListView(GenericAPIView):
    queryset = Feedback.objects.all()
    pagination_class = None

    @extend_schema(
        operation_id="feedback_list",
        summary="List feedback (run= filter, offset paging)",
        parameters=params_of(FeedbackParams),
        responses={200: ARRAY_OF_OBJECTS},
    )
    def get(self, request: Request) -> Response:
        params = validated(FeedbackParams, request.query_params)
        feedback = _visible_feedback(request).order_by("-created_at", "id")
        if params.get("run"):
            feedback = feedback.filter(run_id__in=params["run"])
        if params.get("key"):
            feedback = feedback.filter(key__in=params["key"])
        if params.get("session"):
            feedback = feedback.filter(session_id__in=params["session"])
        if "comparative_experiment_id" in params:
            feedback = feedback.filter(
                comparative_experiment_id=params["comparative_experiment_id"]
            )
        if "level" in params:
            feedback = feedback.filter(run_id__isnull=params["level"] == "session")
        offset, limit = params["offset"], params["limit"]
        return Response(
            [feedback_to_dict(f) for f in feedback[offset : offset + limit]]
        )

    @extend_schema(
        summary="Create feedback on a run",
        request=OpenApiTypes.OBJECT,
        responses={201: OpenApiTypes.OBJECT, 409: OpenApiTypes.OBJECT},
    )
    def post(self, request: Request) -> Response:
        try:
            feedback = feedback_from_payload(request.data)
        except InvalidField as exc:
            raise ValidationError({exc.field: [exc.message]}) from None
        access = access_of(request)
        run = None
        if feedback.run_id is not None:
            run = (
                access.runs()
                .filter(id=feedback.run_id)
                .values("trace_id", "project_id")
                .first()
            )
            if run is None and access.scoped:
                raise Http404("No such run for this key.")
        if run is not None:
            feedback.trace_id = feedback.trace_id or run["trace_id"]
            feedback.session_id = feedback.session_id or run["project_id"]
        if access.scoped:
            feedback.session_id = feedback.session_id or access.project_id
            if not access.projects().filter(id=feedback.session_id).exists():
                raise Http404("No such project for this key.")
        try:
            save_feedback(feedback, run)
        except IntegrityError:
            return Response(
                {"detail": f"Feedback {feedback.id} already exists."},
                status=status.HTTP_409_CONFLICT,
            )
        return Response(feedback_to_dict(feedback), status=status.HTTP_201_CREATED)


class FeedbackDetailView(GenericAPIView):
    queryset = Feedback.objects.all()
    pagination_class = None

    @extend_schema(summary="Read feedback", responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request, pk: uuid.UUID) -> Response:
        return Response(feedback_to_dict(_feedback_or_404(request, pk)))

    @extend_schema(
        summary="Update feedback (only the given keys)",
        request=FeedbackPatch,
        responses={200: OpenApiTypes.OBJECT},
    )
    def patch(self, request: Request, pk: uuid.UUID) -> Response:
        feedback = _feedback_or_404(request, pk)
        data = validated(FeedbackPatch, request.data)
        for key, value in data.items():
            setattr(feedback, "source" if key == "feedback_source" else key, value)
        feedback.modified_at = timezone.now()
        feedback.save()
        return Response(feedback_to_dict(feedback))

    @extend_schema(summary="Delete feedback", responses={204: None})
    def delete(self, request: Request, pk: uuid.UUID) -> Response:
        _feedback_or_404(request, pk).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)
