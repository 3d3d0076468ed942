"""Errors as JSON: ``{"detail": ...}`` plus the specifics a client can act on."""

from typing import Any

from rest_framework import exceptions
from rest_framework.response import Response


class PayloadTooLarge(exceptions.APIException):
    status_code = 413
    default_detail = "Request body is too large."
    default_code = "payload_too_large"


class UnsupportedEncoding(exceptions.APIException):
    status_code = 415
    default_detail = "Unsupported Content-Encoding."
    default_code = "unsupported_encoding"


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    # Imported here: rest_framework.views loads the parser classes named in
    # settings, and runs.api.parsers imports this module.
    from rest_framework.views import exception_handler as drf_exception_handler

    from runs.query.filters import InvalidFilter

    if isinstance(exc, InvalidFilter):
        # The query layer's own error (a bad filter value or expression): a
        # 400 naming the parameter, from every route that filters.
        exc = exceptions.ValidationError(exc.errors)
    return drf_exception_handler(exc, context)
