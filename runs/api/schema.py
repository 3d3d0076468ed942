"""OpenAPI descriptions of the ingest routes, added from outside their views.

The ingest views parse bodies with their own wire decoders, so drf-spectacular
cannot guess their request shapes; these extensions declare them (loosely: any
JSON object, or multipart parts) so that schema-driven clients and fuzzers can
call every route. Imported by ``runs.api.urls``.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiViewExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema

JSON_OBJECT = {"application/json": OpenApiTypes.OBJECT}
MULTIPART = {"multipart/form-data": OpenApiTypes.OBJECT}
ACCEPTED = {202: OpenApiTypes.OBJECT, 422: OpenApiTypes.OBJECT}


def _describe(target: str, **methods: dict[str, Any]) -> type[OpenApiViewExtension]:
    class Extension(OpenApiViewExtension):
        target_class = target
        # runs.api.help_pages serves subclasses of these views.
        match_subclasses = True

        def view_replacement(self) -> type:
            view = self.target
            attrs = {
                name: extend_schema(**kwargs)(getattr(view, name))
                for name, kwargs in methods.items()
            }
            return type(view.__name__, (view,), attrs)

    return Extension


InfoSchema = _describe(
    "runs.api.ingest_views.InfoView", get={"responses": {200: OpenApiTypes.OBJECT}}
)
BatchSchema = _describe(
    "runs.api.ingest_views.BatchIngestView",
    post={"request": JSON_OBJECT, "responses": ACCEPTED},
)
MultipartSchema = _describe(
    "runs.api.ingest_views.MultipartIngestView",
    post={"request": MULTIPART, "responses": ACCEPTED},
)
RunCreateSchema = _describe(
    "runs.api.ingest_views.RunCreateView",
    post={"request": JSON_OBJECT, "responses": ACCEPTED},
)
RunDetailSchema = _describe(
    "runs.api.ingest_views.RunDetailView",
    get={"responses": {200: OpenApiTypes.OBJECT, 404: OpenApiTypes.OBJECT}},
    patch={"request": JSON_OBJECT, "responses": ACCEPTED},
)
