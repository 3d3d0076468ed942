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
from runs.access import Access, access_of
from runs.api.parsers import BatchJSONParser, MultipartRunsParser, SingleRunJSONParser
from runs.api.run_query_views import runs_with_children
from runs.ingest import ingest
from runs.ingest.batch import Batch

# The LangSmith version whose API this server speaks. SDKs compare it: multipart
# feedback parts need 0.8.10, langsmith 0.15's runs/traces/threads resources
# 0.16.0 and its sessions resource (address resolution) 0.18.0; below that
# they log a warning on every use.
SERVER_VERSION = "0.18.0"


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


def project_guard_for(request: Request) -> Access:
    """What the caller may write, for ``ingest(batch, project_guard=...)``."""
    return access_of(request)


def ingest_response(request: Request) -> Response:
    batch = request.data
    if not isinstance(batch, Batch):
        raise ParseError("Empty request body.")
    result = ingest(batch, access=access_of(request))
    request._request.agentspy_ingest = result  # read by the request log
    body = result.as_dict()
    if not result.rejected:
        return Response(body, status=status.HTTP_202_ACCEPTED)
    forbidden = all(r.forbidden for r in result.rejected)
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
        run = get_object_or_404(access_of(request).runs(), id=run_id)
        return Response(runs_with_children([run], request)[0])

    @extend_schema(summary="Update one run (null means not provided)")
    def patch(self, request: Request, run_id: Any) -> Response:
        return ingest_response(request)
