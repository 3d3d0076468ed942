"""The LangSmith write routes: thin views over the one ingest service."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import ParseError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

import agentspy
from runs.api.parsers import BatchJSONParser, MultipartRunsParser, SingleRunJSONParser
from runs.api.serializers import run_to_dict
from runs.ingest import ingest
from runs.ingest.batch import Batch
from runs.models import Run

# Multipart feedback parts are enabled from this advertised version on.
SERVER_VERSION = "0.10.66"


def info_payload() -> dict[str, Any]:
    """The complete /info object: every SDK line reads these keys without defaults."""
    return {
        "version": SERVER_VERSION,
        "agent_spy_version": agentspy.__version__,
        "license_expiration_time": None,
        "batch_ingest_config": {
            "use_multipart_endpoint": True,
            "scale_up_qsize_trigger": 1000,
            "scale_up_nthreads_limit": 16,
            "scale_down_nempty_trigger": 4,
            "size_limit": 100,
            "size_limit_bytes": settings.MAX_TRACE_SIZE_BYTES,
        },
        "instance_flags": {
            "zstd_compression_enabled": True,
            "search_enabled": True,
            "s3_storage_enabled": False,
            # Examples (with attachments) go to /platform/datasets/{id}/examples.
            "dataset_examples_multipart_enabled": True,
        },
        "tenant_handle": "agent-spy",
    }


class InfoView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(summary="Server capabilities read by LangSmith SDKs")
    def get(self, request: Request) -> Response:
        return Response(info_payload())


def project_guard_for(request: Request):
    """Hook for scoped API keys: None lets every project through."""
    return getattr(request.auth, "project_guard", None)


def ingest_response(request: Request) -> Response:
    batch = request.data
    if not isinstance(batch, Batch):
        raise ParseError("Empty request body.")
    result = ingest(batch, project_guard=project_guard_for(request))
    request._request.agentspy_ingest = result  # read by the request log
    body = result.as_dict()
    if not result.rejected:
        return Response(body, status=status.HTTP_202_ACCEPTED)
    forbidden = all(r.field == "session_name" for r in result.rejected)
    body["detail"] = (
        f"{len(result.rejected)} item(s) rejected, "
        f"{len(result.accepted)} run(s) stored: "
        + "; ".join(
            f"{r.item} ({r.run_id or '-'}) {r.field}: {r.message}"
            for r in result.rejected[:20]
        )
    )
    return Response(
        body,
        status=status.HTTP_403_FORBIDDEN
        if forbidden
        else status.HTTP_422_UNPROCESSABLE_ENTITY,
    )


class MultipartIngestView(APIView):
    parser_classes = [MultipartRunsParser]

    @extend_schema(summary="Ingest runs as LangSmith multipart (zstd/gzip allowed)")
    def post(self, request: Request) -> Response:
        return ingest_response(request)


class BatchIngestView(APIView):
    parser_classes = [BatchJSONParser]

    @extend_schema(summary="Ingest runs as {post: [...], patch: [...]}")
    def post(self, request: Request) -> Response:
        return ingest_response(request)


class RunCreateView(APIView):
    parser_classes = [SingleRunJSONParser]

    @extend_schema(summary="Create (or replay) one run")
    def post(self, request: Request) -> Response:
        return ingest_response(request)


class RunDetailView(APIView):
    parser_classes = [SingleRunJSONParser]

    @extend_schema(summary="Read one run in LangSmith's shape")
    def get(self, request: Request, run_id: Any) -> Response:
        run = get_object_or_404(Run, id=run_id)
        children = [
            str(i)
            for i in Run.objects.filter(parent_id=run.id)
            .order_by("dotted_order")
            .values_list("id", flat=True)
        ]
        return Response(run_to_dict(run, child_run_ids=children))

    @extend_schema(summary="Update one run (null means not provided)")
    def patch(self, request: Request, run_id: Any) -> Response:
        return ingest_response(request)
