"""Error bodies: one DRF exception handler, one dialect per API (DESIGN.md, "Error bodies").

Each app's base API view names its dialect in ``error_dialect``; views raise, they never build error
responses by hand. Unknown exceptions become the dialect's 500 body and are logged with their traceback.
"""
from __future__ import annotations

import logging

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

logger = logging.getLogger("homelab.errors")

SERVER_ERROR_MESSAGE = "A server error occurred."

PREVIEWS_CODES = {
    400: "VALIDATION_ERROR",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    415: "VALIDATION_ERROR",
    429: "RATE_LIMITED",
}


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


def flatten(detail) -> str:
    """One readable line from a DRF error detail (string, list or dict of lists)."""
    if isinstance(detail, dict):
        parts = []
        for field, value in detail.items():
            text = flatten(value)
            parts.append(text if field in ("non_field_errors", "detail") else f"{field}: {text}")
        return "; ".join(parts)
    if isinstance(detail, (list, tuple)):
        return " ".join(flatten(item) for item in detail)
    return str(detail)


class Dialect:
    """How one API spells an error."""

    name = "detail"

    def body(self, exc: exceptions.APIException | None, status_code: int, message: str):
        return {"detail": message}


class DetailDialect(Dialect):
    """DRF's own bodies, as Dispatcharr and FastAPI clients expect: ``{"detail": "..."}`` and, for validation
    errors, the field map. simplejwt's extra keys (``code``, ``messages``) are kept."""

    def body(self, exc, status_code, message):
        if exc is None:
            return {"detail": message}
        detail = exc.detail
        if isinstance(detail, (dict, list)):
            return detail
        return {"detail": str(detail)}


class SuccessMessageDialect(Dialect):
    name = "success_message"

    def body(self, exc, status_code, message):
        return {"success": False, "message": message}


class SuccessErrorDialect(Dialect):
    name = "success_error"

    def body(self, exc, status_code, message):
        return {"success": False, "error": message}


class PreviewsDialect(Dialect):
    name = "previews"

    def body(self, exc, status_code, message):
        code = getattr(exc, "error_code", None) or PREVIEWS_CODES.get(status_code)
        if code is None:
            code = "SERVER_ERROR" if status_code >= 500 else "ERROR"
        return {"error": message, "code": code}


class InvitesDialect(Dialect):
    """Wizarr: ``{"error": "..."}``; a missing key is "API key required", a wrong one "Invalid API key"."""

    name = "invites"

    def body(self, exc, status_code, message):
        if isinstance(exc, exceptions.NotAuthenticated):
            message = "API key required"
        elif isinstance(exc, exceptions.AuthenticationFailed):
            message = "Invalid API key"
        return {"error": message}


DETAIL = DetailDialect()
SUCCESS_MESSAGE = SuccessMessageDialect()
SUCCESS_ERROR = SuccessErrorDialect()
PREVIEWS = PreviewsDialect()
INVITES = InvitesDialect()


def exception_handler(exc, context):
    view = context.get("view")
    request = context.get("request")
    dialect: Dialect = getattr(view, "error_dialect", DETAIL)

    if isinstance(exc, Http404):
        exc = exceptions.NotFound(*(exc.args or ()))
    elif isinstance(exc, ObjectDoesNotExist):
        # a row that is gone (or was deleted while the request ran) is a 404, not a 500
        exc = exceptions.NotFound()
    elif isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(*(exc.args or ()))

    if isinstance(exc, exceptions.APIException):
        headers = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            headers["Retry-After"] = "%d" % exc.wait
        status_code = exc.status_code
        body = dialect.body(exc, status_code, flatten(exc.detail))
    else:
        logger.exception(
            "Unhandled error in %s %s",
            getattr(request, "method", "?"),
            getattr(request, "path", "?"),
            exc_info=exc,
        )
        headers = {}
        status_code = status.HTTP_500_INTERNAL_SERVER_ERROR
        body = dialect.body(None, status_code, SERVER_ERROR_MESSAGE)
    set_rollback()
    return Response(body, status=status_code, headers=headers)
