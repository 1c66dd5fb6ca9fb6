"""The API's exception handler: drf-standardized-errors' shape, taught about ApplicationError."""

from __future__ import annotations

from drf_standardized_errors.handler import ExceptionHandler as StandardExceptionHandler
from rest_framework import exceptions, status

from apps.core.errors import ApplicationError


class _RenderedApplicationError(exceptions.APIException):
    def __init__(self, error: ApplicationError):
        self.status_code = error.status_code
        super().__init__(detail=error.detail, code=error.code)


class ExceptionHandler(StandardExceptionHandler):
    """drf-standardized-errors' handler, taught about ApplicationError (attr included)."""

    def convert_known_exceptions(self, exc: Exception) -> Exception:
        if isinstance(exc, ApplicationError):
            if exc.attr:
                # A ValidationError keyed by the field gives {"attr": <field>} in the shape; keep
                # the status (403 for plan_limit, 409 for conflicts) of the domain error.
                converted = exceptions.ValidationError({exc.attr: [exceptions.ErrorDetail(exc.detail, exc.code)]})
                converted.status_code = exc.status_code
                return converted
            return _RenderedApplicationError(exc)
        return super().convert_known_exceptions(exc)

    def format_exception(self, exc: exceptions.APIException) -> dict:
        data = super().format_exception(exc)
        # A 403/409 that carries a field is still a client error, not a validation error.
        if isinstance(exc, exceptions.ValidationError) and exc.status_code != status.HTTP_400_BAD_REQUEST:
            data["type"] = "client_error"
        return data
