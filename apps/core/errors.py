"""One error path: ApplicationError for domain code, and the handler that renders the contract's error shape."""

from __future__ import annotations

from enum import StrEnum

from drf_standardized_errors.handler import ExceptionHandler as StandardExceptionHandler
from rest_framework import exceptions, status


class ErrorCode(StrEnum):
    """Codes shared by every domain; each domain may add its own enum next to its services."""

    INVALID = "invalid"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    PLAN_LIMIT = "plan_limit"
    PERMISSION_DENIED = "permission_denied"
    UNAVAILABLE = "unavailable"


# Which HTTP status an error code answers with when it reaches the API.
STATUS_BY_CODE: dict[str, int] = {
    ErrorCode.INVALID: status.HTTP_400_BAD_REQUEST,
    ErrorCode.NOT_FOUND: status.HTTP_404_NOT_FOUND,
    ErrorCode.CONFLICT: status.HTTP_409_CONFLICT,
    ErrorCode.PLAN_LIMIT: status.HTTP_403_FORBIDDEN,
    ErrorCode.PERMISSION_DENIED: status.HTTP_403_FORBIDDEN,
    ErrorCode.UNAVAILABLE: status.HTTP_503_SERVICE_UNAVAILABLE,
}


class ApplicationError(Exception):
    """A domain error with a stable code, a human detail and, when one field is at fault, its name."""

    def __init__(self, code: str, detail: str, attr: str | None = None, status_code: int | None = None):
        super().__init__(detail)
        self.code = str(code)
        self.detail = detail
        self.attr = attr
        self.status_code = status_code or STATUS_BY_CODE.get(self.code, status.HTTP_400_BAD_REQUEST)

    def __str__(self) -> str:
        return self.detail


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


def error_body(type_: str, code: str, detail: str, attr: str | None = None) -> dict:
    """The contract's error shape, for the few places outside DRF (404/500 pages, healthz-free paths)."""
    return {"type": type_, "errors": [{"code": code, "detail": detail, "attr": attr}]}
