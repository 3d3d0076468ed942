"""Experiment results and comparisons: ``POST /datasets/{id}/runs`` and
``POST /datasets/comparative``."""

from __future__ import annotations

import uuid

from django.db.models import Avg, Count
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from datasets.api.common import dataset_or_404, handled, validated
from datasets.api.dataset_views import PERMISSIONS
from datasets.api.example_views import render_examples
from datasets.models import ComparativeExperiment
from datasets.selectors import examples_at
from datasets.versions import resolve_as_of
from runs.api.auth import limit_to_scope
from runs.api.run_query_views import runs_with_children
from runs.models import TENANT_ID, Feedback, Project, Run


class ExperimentRunsInput(serializers.Serializer):
    session_ids = serializers.ListField(
        child=serializers.UUIDField(), min_length=1, max_length=20
    )
    offset = serializers.IntegerField(min_value=0, default=0)
    limit = serializers.IntegerField(min_value=1, max_value=1000, default=100)
    preview = serializers.BooleanField(default=False)
    comparative_experiment_id = serializers.UUIDField(required=False, allow_null=True)
    filters = serializers.DictField(required=False, allow_null=True)

    def validate_filters(self, value: dict | None) -> dict | None:
        if value:
            raise serializers.ValidationError("Run filters are not supported here.")
        return value


def _run_scores(run_ids: list[uuid.UUID]) -> dict[uuid.UUID, dict]:
    """Each run's feedback per key: ``{key: {"n", "avg"}}``."""
    out: dict[uuid.UUID, dict] = {}
    rows = (
        Feedback.objects.filter(run_id__in=run_ids)
        .values("run_id", "key")
        .annotate(n=Count("id"), avg=Avg("score"))
        .order_by("run_id", "key")
    )
    for row in rows:
        out.setdefault(row["run_id"], {})[row["key"]] = {
            "n": row["n"],
            "avg": row["avg"],
        }
    return out


class ExperimentRunsView(APIView):
    """Examples of a dataset with their runs in the given experiments."""

    permission_classes = PERMISSIONS
    read_only_safe = True

    @extend_schema(request=ExperimentRunsInput, responses={200: OpenApiTypes.OBJECT})
    @handled
    def post(self, request: Request, pk: uuid.UUID) -> Response:
        dataset = dataset_or_404(pk)
        data = validated(ExperimentRunsInput, request.data)
        sessions = list(
            limit_to_scope(
                request,
                Project.objects.filter(
                    id__in=data["session_ids"], reference_dataset_id=dataset.pk
                ),
                field="name",
            )
        )
        if len(sessions) != len(set(data["session_ids"])):
            return Response(
                {"detail": "Every session must be an experiment of this dataset."},
                status=status.HTTP_404_NOT_FOUND,
            )
        runs = Run.objects.filter(
            project_id__in=[s.id for s in sessions],
            parent__isnull=True,
            reference_example_id__isnull=False,
        )
        version = (sessions[0].metadata or {}).get("dataset_version")
        examples = examples_at(
            dataset_id=dataset.pk, when=resolve_as_of(dataset.pk, version)
        ).filter(id__in=runs.values("reference_example_id"))
        offset, limit = data["offset"], data["limit"]
        page = list(examples[offset : offset + limit])
        by_example: dict[uuid.UUID, list[Run]] = {e.id: [] for e in page}
        for run in runs.filter(reference_example_id__in=list(by_example)).order_by(
            "start_time", "id"
        ):
            by_example[run.reference_example_id].append(run)
        all_runs = [r for rs in by_example.values() for r in rs]
        scores = _run_scores([r.id for r in all_runs])
        dicts = {d["id"]: d for d in runs_with_children(all_runs)}
        out = []
        for example, body in zip(page, render_examples(request, page), strict=True):
            body["runs"] = []
            for run in by_example[example.id]:
                run_dict = dicts[str(run.id)]
                run_dict["feedback_stats"] = scores.get(run.id)
                body["runs"].append(run_dict)
            out.append(body)
        return Response(out)


class ComparativeInput(serializers.Serializer):
    id = serializers.UUIDField(required=False)
    name = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, max_length=255
    )
    description = serializers.CharField(
        required=False, allow_null=True, allow_blank=True
    )
    experiment_ids = serializers.ListField(
        child=serializers.UUIDField(), min_length=2, max_length=20
    )
    reference_dataset_id = serializers.UUIDField()
    created_at = serializers.DateTimeField(required=False, allow_null=True)
    modified_at = serializers.DateTimeField(required=False, allow_null=True)
    extra = serializers.DictField(required=False, allow_null=True)


def comparative_to_dict(comparison: ComparativeExperiment) -> dict:
    experiments = Project.objects.filter(id__in=comparison.experiment_ids)
    names = dict(experiments.values_list("id", "name"))
    scores = Feedback.objects.filter(comparative_experiment_id=comparison.id)
    return {
        "id": str(comparison.id),
        "name": comparison.name or None,
        "description": comparison.description or None,
        "tenant_id": str(TENANT_ID),
        "created_at": comparison.created_at.isoformat(),
        "modified_at": comparison.modified_at.isoformat(),
        "reference_dataset_id": str(comparison.reference_dataset_id),
        "extra": comparison.extra,
        "experiments_info": [
            {"id": str(pid), "name": names.get(uuid.UUID(str(pid)))}
            for pid in comparison.experiment_ids
        ],
        "feedback_stats": {
            row["key"]: {"n": row["n"], "avg": row["avg"]}
            for row in scores.values("key")
            .annotate(n=Count("id"), avg=Avg("score"))
            .order_by("key")
        }
        or None,
    }


class ComparativeView(APIView):
    permission_classes = PERMISSIONS

    @extend_schema(request=ComparativeInput, responses={201: OpenApiTypes.OBJECT})
    def post(self, request: Request) -> Response:
        data = validated(ComparativeInput, request.data)
        dataset = dataset_or_404(data["reference_dataset_id"])
        ids = list(dict.fromkeys(data["experiment_ids"]))
        found = Project.objects.filter(id__in=ids, reference_dataset_id=dataset.pk)
        if found.count() != len(ids):
            return Response(
                {
                    "detail": "Every experiment must exist and be an experiment of "
                    "the reference dataset."
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        now = timezone.now()
        comparison_id = data.get("id") or uuid.uuid4()
        if ComparativeExperiment.objects.filter(id=comparison_id).exists():
            return Response(
                {"detail": f"Comparative experiment {comparison_id} already exists."},
                status=status.HTTP_409_CONFLICT,
            )
        comparison = ComparativeExperiment.objects.create(
            id=comparison_id,
            name=data.get("name") or "",
            description=data.get("description") or "",
            reference_dataset=dataset,
            experiment_ids=[str(i) for i in ids],
            extra=data.get("extra"),
            created_at=data.get("created_at") or now,
            modified_at=now,
        )
        return Response(comparative_to_dict(comparison), status=status.HTTP_201_CREATED)
