"""One JSON error shape for the whole API: {"error_code", "message", "details"?}.

`error_code` is stable (clients branch on it); `message` is for people and may change.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError

from school.errors import DomainError
from school.middleware import current_request_id
from school.statuses import status_of


class DomainRefusal(exceptions.APIException):
    """A domain error on its way through DRF's handler (which renders only APIExceptions)."""

    def __init__(self, error: DomainError) -> None:
        super().__init__(detail=error.message)
        self.error = error
        self.status_code = status_of(error)


_CODES: list[tuple[type[Exception], str]] = [
    (InvalidToken, "TOKEN_INVALID"),
    (TokenError, "TOKEN_INVALID"),
    (exceptions.ValidationError, "VALIDATION_ERROR"),
    (exceptions.ParseError, "MALFORMED_REQUEST"),
    (exceptions.UnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE"),
    (exceptions.NotAuthenticated, "NOT_AUTHENTICATED"),
    (exceptions.AuthenticationFailed, "AUTHENTICATION_FAILED"),
    (exceptions.PermissionDenied, "PERMISSION_DENIED"),
    (exceptions.NotFound, "NOT_FOUND"),
    (exceptions.MethodNotAllowed, "METHOD_NOT_ALLOWED"),
    (exceptions.NotAcceptable, "NOT_ACCEPTABLE"),
    (exceptions.Throttled, "RATE_LIMITED"),
]

_MESSAGES = {
    "VALIDATION_ERROR": "Some fields are missing or invalid.",
}


def _leaf_codes(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [code for item in value.values() for code in _leaf_codes(item)]
    if isinstance(value, list):
        return [code for item in value for code in _leaf_codes(item)]
    return [str(value)]


def _state_refusal(exc: exceptions.ValidationError) -> Response | None:
    """A well-formed body refused only because of what is stored, not how it is written: an id naming
    nothing this user may see (someone else's, or no one's) is a 404, as in a URL; a value already
    taken (a student number, a course code) is a 409. None for anything else (a 400)."""
    codes = set(_leaf_codes(exc.get_codes()))
    if not codes or not codes <= {"does_not_exist", "unique"}:
        return None
    details = exc.detail if isinstance(exc.detail, dict) else None
    if codes == {"does_not_exist"}:
        return Response(error_body("NOT_FOUND", "Something this request names does not exist or is not yours.",
                                   details), status=status.HTTP_404_NOT_FOUND)
    return Response(error_body("ALREADY_EXISTS", "Something in this request is already taken.", details),
                    status=status.HTTP_409_CONFLICT)


def error_body(error_code: str, message: str, details: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"error_code": error_code, "message": message}
    if details is not None:
        body["details"] = details
    return body


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF exception handler that renders every error in the one JSON shape."""
    if isinstance(exc, DomainError):
        exc = DomainRefusal(exc)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, TokenError):
        exc = InvalidToken(str(exc))
    elif isinstance(exc, DjangoValidationError):  # a model's full_clean() in a service
        exc = exceptions.ValidationError(detail=as_serializer_error(exc))
    if isinstance(exc, exceptions.ValidationError):
        refused = _state_refusal(exc)
        if refused is not None:
            return refused
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, DomainRefusal):
        error = exc.error
        details = error.details if error.details not in ({}, None) else None
        response.data = error_body(error.error_code, error.message, details)
        if error.retry_after is not None:
            response["Retry-After"] = str(error.retry_after)
        return response
    code = next((code for cls, code in _CODES if isinstance(exc, cls)), "ERROR")
    if isinstance(exc, exceptions.ValidationError):
        details = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        response.data = error_body(code, _MESSAGES[code], details)
    else:
        detail = getattr(exc, "detail", str(exc))
        message = detail.get("detail", str(detail)) if isinstance(detail, dict) else str(detail)
        response.data = error_body(code, str(message))
    return response


def server_error(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """handler500: an unhandled exception under /api/ answers the JSON error shape (clients parse
    it; an HTML page would not), with the request id to quote when reporting it. Django has logged
    the exception, under the same id, before this runs. Pages keep Django's 500 page."""
    if not request.path.startswith("/api/"):
        return defaults.server_error(request, *args, **kwargs)
    request_id = getattr(request, "request_id", None) or current_request_id()
    message = f"Something went wrong on our side. If it happens again, quote request id {request_id}."
    body = error_body("SERVER_ERROR", message, {"request_id": request_id})
    if request.path.startswith("/api/ml/"):  # the recognition API's own shape (SPEC §2.4) as well
        body.update({"success": False, "error": message})
    return JsonResponse(body, status=status.HTTP_500_INTERNAL_SERVER_ERROR)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler400: a request Django refuses before any view (too many fields, a malformed body or
    host) answers the JSON error shape under /api/ as well."""
    if not request.path.startswith("/api/"):
        return defaults.bad_request(request, exception)  # type: ignore[arg-type]
    return JsonResponse(error_body("MALFORMED_REQUEST", "The request could not be read (too many fields, or a "
                                   "malformed body)."), status=status.HTTP_400_BAD_REQUEST)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler404: a URL that matches no route under /api/ answers the JSON error shape too."""
    if not request.path.startswith("/api/"):
        return defaults.page_not_found(request, exception)
    return JsonResponse(error_body("NOT_FOUND", "Not found."), status=status.HTTP_404_NOT_FOUND)
