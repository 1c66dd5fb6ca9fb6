"""One error path: ApplicationError for domain code (rendered by apps/core/exception_handler.py)."""

from __future__ import annotations

from enum import StrEnum

# Only `status` from DRF: importing its views here would load DEFAULT_PERMISSION_CLASSES, which import
# domain modules that import this one.
from rest_framework import status


class ErrorCode(StrEnum):
    """Codes shared by every domain; each domain may add its own enum next to its services."""

    INVALID = "invalid"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    PLAN_LIMIT = "plan_limit"
    PERMISSION_DENIED = "permission_denied"
    UNAVAILABLE = "unavailable"
    # Billing cannot reach (or is not configured for) Stripe: retry later or set STRIPE_SECRET_KEY.
    BILLING_UNAVAILABLE = "billing_unavailable"


# Which HTTP status an error code answers with when it reaches the API.
STATUS_BY_CODE: dict[str, int] = {
    ErrorCode.INVALID: status.HTTP_400_BAD_REQUEST,
    ErrorCode.NOT_FOUND: status.HTTP_404_NOT_FOUND,
    ErrorCode.CONFLICT: status.HTTP_409_CONFLICT,
    ErrorCode.PLAN_LIMIT: status.HTTP_403_FORBIDDEN,
    ErrorCode.PERMISSION_DENIED: status.HTTP_403_FORBIDDEN,
    ErrorCode.UNAVAILABLE: status.HTTP_503_SERVICE_UNAVAILABLE,
    ErrorCode.BILLING_UNAVAILABLE: status.HTTP_503_SERVICE_UNAVAILABLE,
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


def error_body(type_: str, code: str, detail: str, attr: str | None = None) -> dict:
    """The contract's error shape, for the few places outside DRF (404/500 pages, healthz-free paths)."""
    return {"type": type_, "errors": [{"code": code, "detail": detail, "attr": attr}]}
