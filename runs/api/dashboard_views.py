"""The dashboard's JSON API: roots, trace trees, statistics and projects.

Thin views: validate parameters (``RunFilter`` and small serializers, so a bad
value is a 400 naming the parameter), call one selector of ``runs.query``,
respond. Every view reads through ``limit_to_scope``.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer

from runs.api.auth import limit_to_scope
from runs.api.openapi import filter_params, params_of
from runs.api.serializers import HierarchyParams, RootsParams
from runs.ingest.normalize import strip_nul
from runs.models import Project, Run
from runs.query import stats, trees
from runs.query.filters import RunFilter, StatsFilter, apply_ordering
from runs.query.roots import root_runs
from runs.query.scope import StatsScope


def validated(serializer_class: type[Serializer], data: Any) -> dict[str, Any]:
    """Validated data; NUL characters (PostgreSQL refuses them) become U+FFFD."""
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return strip_nul(serializer.validated_data)


RUN_FILTER_PARAMS = filter_params(RunFilter)


class RunReadView(GenericAPIView):
    """Base of the views that read runs through ``RunFilter``."""

    filter_backends = [DjangoFilterBackend]
    filterset_class = RunFilter
    queryset = Run.objects.all()
    pagination_class = None

    def get_queryset(self) -> QuerySet:
        return apply_ordering(limit_to_scope(self.request, Run.objects.all()), None)


class RootRunsView(RunReadView):
    @extend_schema(
        summary="Root runs (one per trace) with per-trace counts and tokens",
        parameters=[
            *RUN_FILTER_PARAMS,
            *params_of(RootsParams),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request) -> Response:
        page = validated(RootsParams, request.query_params)
        queryset = self.filter_queryset(self.get_queryset())
        result = root_runs(
            queryset,
            limit=page["limit"],
            offset=page["offset"],
            fields=page["fields"],
            visible=limit_to_scope(request, Run.objects.all()),
        )
        return Response(result.as_dict())


class HierarchyView(GenericAPIView):
    queryset = Run.objects.all()
    pagination_class = None

    @extend_schema(
        summary="The whole tree of the trace containing this run",
        parameters=params_of(HierarchyParams),
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request, run_id: uuid.UUID) -> Response:
        light = validated(HierarchyParams, request.query_params)["light"]
        tree = trees.trace_tree(
            run_id, light=light, queryset=limit_to_scope(request, Run.objects.all())
        )
        if tree is None:
            raise Http404("No such run.")
        return Response(tree)


class RunIOView(GenericAPIView):
    queryset = Run.objects.all()
    pagination_class = None

    @extend_schema(
        summary="Inputs, outputs, error, extra and events of one run",
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request, run_id: uuid.UUID) -> Response:
        row = trees.run_io(run_id, queryset=limit_to_scope(request, Run.objects.all()))
        if row is None:
            raise Http404("No such run.")
        return Response(row)


class StatsSummaryView(GenericAPIView):
    filter_backends = [DjangoFilterBackend]
    filterset_class = StatsFilter
    queryset = Run.objects.all()
    pagination_class = None

    @extend_schema(
        summary="Totals, distributions, latency percentiles, tokens, time series",
        parameters=filter_params(StatsFilter),
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request) -> Response:
        return Response(stats.summary(self.scope(request)))

    def scope(self, request: Request) -> StatsScope:
        """The projects (the caller's, narrowed by the filters) and time range."""
        filterset = StatsFilter(request.query_params, queryset=Run.objects.none())
        if not filterset.is_valid():
            raise ValidationError(filterset.errors)
        return filterset.stats_scope(
            limit_to_scope(request, Project.objects.all(), field="name")
        )


class StatsCostView(StatsSummaryView):
    @extend_schema(
        summary="Cost totals, unpriced runs and cost per model (from the rollups)",
        parameters=filter_params(StatsFilter),
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request) -> Response:
        return Response(stats.cost_summary(self.scope(request)))


class ProjectsView(GenericAPIView):
    queryset = Project.objects.all()
    pagination_class = None

    @extend_schema(
        summary="Projects with run and trace counts, last activity, error rate",
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request) -> Response:
        projects = limit_to_scope(request, Project.objects.all(), field="name")
        return Response({"projects": stats.project_stats(projects)})
