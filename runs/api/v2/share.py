"""Sharing a trace through the API (v1 and v2 routes) and reading what is shared.

The public routes need no key: the share token is the credential, and it
opens one trace only.
"""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from runs import sharing
from runs.api.auth import limit_to_scope
from runs.api.dashboard_views import validated
from runs.api.run_query_views import runs_with_children
from runs.api.v2 import pages
from runs.api.v2.fields import only_needed, runs_v2
from runs.models import Run, SharedTrace


def _visible_run(request: Request, run_id: uuid.UUID, **match: Any) -> Run:
    run = limit_to_scope(request, Run.objects.all()).filter(id=run_id, **match).first()
    if run is None:
        raise Http404("No such run.")
    return run


class ShareCreateInput(serializers.Serializer):
    session_id = serializers.UUIDField()
    trace_id = serializers.UUIDField()


class ShareDeleteInput(serializers.Serializer):
    session_id = serializers.UUIDField()


class ShareView(APIView):
    """``/api/v2/runs/{id}/share``: POST a run id, DELETE a trace id."""

    @extend_schema(
        operation_id="v2_runs_share_create",
        summary="Share a run's trace; returns its share token",
        request=ShareCreateInput,
        responses={200: OpenApiTypes.OBJECT},
    )
    def post(self, request: Request, run_id: uuid.UUID) -> Response:
        data = validated(ShareCreateInput, request.data)
        run = _visible_run(
            request,
            run_id,
            project_id=data["session_id"],
            trace_id=data["trace_id"],
        )
        share = sharing.share_trace(run)
        return Response({"share_token": str(share.token)})

    @extend_schema(
        operation_id="v2_runs_share_delete",
        summary="Stop sharing a trace (idempotent)",
        request=ShareDeleteInput,
        responses={204: None},
    )
    def delete(self, request: Request, run_id: uuid.UUID) -> Response:
        data = validated(ShareDeleteInput, request.data)
        roots = limit_to_scope(request, Run.objects.all()).filter(
            trace_id=run_id, project_id=data["session_id"]
        )
        if roots.exists():
            sharing.unshare_trace(run_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ShareV1Input(serializers.Serializer):
    share_token = serializers.UUIDField(required=False)


class ShareV1View(APIView):
    """``{prefix}/runs/{run_id}/share``: langsmith's share_run / unshare_run."""

    def _body(self, run: Run, share: SharedTrace | None) -> Any:
        if share is None:
            return None
        return {"run_id": str(run.id), "share_token": str(share.token)}

    @extend_schema(summary="The share token of a run's trace, or null")
    def get(self, request: Request, run_id: uuid.UUID) -> HttpResponse:
        run = _visible_run(request, run_id)
        share = SharedTrace.objects.filter(trace_id=run.trace_id).first()
        # DRF renders None as an empty body; the SDK reads JSON null.
        return HttpResponse(
            orjson.dumps(self._body(run, share)), content_type="application/json"
        )

    @extend_schema(summary="Share a run's trace", request=ShareV1Input)
    def put(self, request: Request, run_id: uuid.UUID) -> Response:
        data = validated(ShareV1Input, request.data)
        run = _visible_run(request, run_id)
        return Response(
            self._body(run, sharing.share_trace(run, data.get("share_token")))
        )

    @extend_schema(summary="Stop sharing a run's trace", responses={204: None})
    def delete(self, request: Request, run_id: uuid.UUID) -> Response:
        run = _visible_run(request, run_id)
        sharing.unshare_trace(run.trace_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PublicView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    # A read answered through POST needs no key either.
    read_only_safe = True

    def share(self, token: str) -> SharedTrace:
        share = sharing.shared(token)
        if share is None:
            raise Http404("This link is not shared.")
        return share


class PublicRunV1View(PublicView):
    @extend_schema(summary="A shared trace's root run, or one of its runs")
    def get(
        self, request: Request, token: uuid.UUID, run_id: uuid.UUID | None = None
    ) -> Response:
        share = self.share(token)
        if run_id is None:
            run = sharing.shared_root(share)
        else:
            run = sharing.shared_runs(share).filter(id=run_id).first()
        if run is None:
            raise Http404("No such run in this shared trace.")
        rows = runs_with_children([run], visible=sharing.shared_runs(share))
        return Response(rows[0])


class PublicQueryV1Input(serializers.Serializer):
    id = serializers.ListField(
        child=serializers.UUIDField(), required=False, max_length=1000
    )


class PublicRunsQueryV1View(PublicView):
    @extend_schema(summary="The runs of a shared trace", request=PublicQueryV1Input)
    def post(self, request: Request, token: uuid.UUID) -> Response:
        data = validated(PublicQueryV1Input, request.data or {})
        shared = sharing.shared_runs(self.share(token))
        runs = shared.filter(id__in=data["id"]) if data.get("id") else shared
        page = list(runs.order_by("start_time", "dotted_order"))
        rows = runs_with_children(page, visible=shared)
        return Response({"runs": rows, "cursors": {"next": None}})


class PublicRetrieveParams(serializers.Serializer):
    selects = pages.SelectsField()
    start_time = serializers.DateTimeField(required=False)


class PublicRunView(PublicView):
    @extend_schema(
        operation_id="v2_public_runs_retrieve",
        summary="One run of a shared trace",
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request, token: uuid.UUID, run_id: uuid.UUID) -> Response:
        params = validated(PublicRetrieveParams, pages.query_dict(request))
        runs = only_needed(sharing.shared_runs(self.share(token)), params["selects"])
        run = runs.filter(id=run_id).first()
        if run is None:
            raise Http404("No such run in this shared trace.")
        return Response(runs_v2(request, [run], params["selects"])[0])


class PublicQueryInput(pages.NullsAbsent):
    selects = pages.SelectsField()


class PublicRunsQueryView(PublicView):
    @extend_schema(
        operation_id="v2_public_runs_query",
        summary="Every run of a shared trace, oldest first",
        request=PublicQueryInput,
        responses={200: OpenApiTypes.OBJECT},
    )
    def post(self, request: Request, token: uuid.UUID) -> Response:
        data = validated(PublicQueryInput, request.data or {})
        runs = only_needed(sharing.shared_runs(self.share(token)), data["selects"])
        page = list(runs.order_by("start_time", "dotted_order"))
        return Response({"items": runs_v2(request, page, data["selects"])})
