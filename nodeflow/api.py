"""API plumbing shared by the apps: the error envelope of API.md."""

from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class ApiError(exceptions.APIException):
    """A client mistake with a stable code: rendered as {"error": {"code", "message", "details"}}."""

    status_code = status.HTTP_400_BAD_REQUEST

    def __init__(self, code, message, details=None, status_code=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details
        if status_code is not None:
            self.status_code = status_code


_CODES = {
    exceptions.ParseError: "malformed_request",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
    exceptions.ValidationError: "invalid",
}


def exception_handler(exc, context):
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    if isinstance(exc, ApiError):
        body = {"error": {"code": exc.code, "message": exc.message, "details": exc.details}}
        return Response(body, status=exc.status_code)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    code = next((c for cls, c in _CODES.items() if isinstance(exc, cls)), "error")
    if isinstance(exc, exceptions.ValidationError):
        message = _first_message(exc.detail)
        details = exc.detail
    else:
        message = str(exc.detail) if hasattr(exc, "detail") else str(exc)
        details = None
    response.data = {"error": {"code": code, "message": message, "details": details}}
    return response


def _first_message(detail, prefix=""):
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = key if key != "non_field_errors" else ""
            return _first_message(value, f"{prefix}{name}: " if name else prefix)
    if isinstance(detail, list) and detail:
        return _first_message(detail[0], prefix)
    return f"{prefix}{detail}"
