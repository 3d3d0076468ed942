"""``GET /export/runs?format=jsonl|json|csv``: the runs ``RunFilter`` selects."""

from __future__ import annotations

from django.http import StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request

from runs.api.dashboard_views import RUN_FILTER_PARAMS, RunReadView, validated
from runs.api.serializers import ExportParams
from runs.export import FORMATS, stream_export


class IgnoreFormatParam(DefaultContentNegotiation):
    """``?format=`` names the export format here, not a DRF renderer."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class ExportRunsView(RunReadView):
    content_negotiation_class = IgnoreFormatParam

    @extend_schema(
        summary="Export the filtered runs, streamed",
        parameters=[
            OpenApiParameter("format", str, enum=list(FORMATS), default="jsonl"),
            *RUN_FILTER_PARAMS,
        ],
        responses={200: OpenApiTypes.BINARY},
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        fmt = validated(ExportParams, request.query_params)["format"]
        queryset = self.filter_queryset(self.get_queryset())
        stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
        response = StreamingHttpResponse(
            stream_export(queryset, fmt), content_type=FORMATS[fmt]
        )
        response["Content-Disposition"] = (
            f'attachment; filename="agentspy-runs-{stamp}.{fmt}"'
        )
        return response
