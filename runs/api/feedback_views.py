"""LangSmith feedback: list, create, read, update, delete."""

from __future__ import annotations

import uuid

from django.db import IntegrityError
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from runs.access import access_of
from runs.api.dashboard_views import params_of, validated
from runs.api.openapi import ARRAY_OF_OBJECTS
from runs.api.serializers import (
    FeedbackParams,
    FeedbackPatch,
    feedback_to_dict,
)
from runs.feedback import save_feedback
from runs.ingest.normalize import InvalidField
from runs.ingest.service import feedback_from_payload
from runs.models import Feedback


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
